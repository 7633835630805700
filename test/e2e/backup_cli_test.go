package e2e

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"asbtools/asdsim"
)

// backupShellWords splits a command line like a POSIX shell (quotes and
// backslashes; no expansions).
func backupShellWords(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ' in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			in = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated \" in %q", s)
			}
			in = true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			in = true
		case c == ' ' || c == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out, nil
}

// TestBackupCLITranscripts runs every asbackup case of test/golden/cli
// through the real binary against a test server on 127.0.0.1:3000 and
// compares exit code, stdout and stderr lines with the legacy transcripts.
func TestBackupCLITranscripts(t *testing.T) {
	port3000Lock(t)
	if l, err := net.Listen("tcp", "127.0.0.1:3000"); err != nil {
		t.Fatalf("127.0.0.1:3000 is not available for the test server: %v", err)
	} else {
		l.Close()
	}
	srv := startServer(t, asdsim.Config{Port: 3000})
	bin := backupBinary(t)
	golden := filepath.Join(repoRoot(t), "test", "golden", "cli")
	data, err := os.ReadFile(filepath.Join(golden, "cases.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Split(line, "\t")
		if len(f) != 4 || f[1] != "asbackup" {
			continue
		}
		id, argText, wantCode := f[0], f[2], f[3]
		t.Run(id, func(t *testing.T) {
			if why, ok := backupCLISkip[id]; ok {
				t.Skip(why)
			}
			if err := srv.Truncate("bar", ""); err != nil {
				t.Fatal(err)
			}
			args, err := backupShellWords(argText)
			if err != nil {
				t.Fatal(err)
			}
			work := t.TempDir()
			copyTree(t, filepath.Join(golden, "files"), filepath.Join(work, "files"))
			os.Mkdir(filepath.Join(work, "empty-dir"), 0o755)
			cmd := exec.Command(bin, args...)
			cmd.Args[0] = "asbackup" // invoked by name, as in the transcripts
			cmd.Dir = work
			cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"), "TZ=UTC",
				"ASB_TEST_KEY=MDEyMzQ1Njc4OWFiY2RlZg==", "ASB_BAD_KEY=not base64!",
				"HOME="+work)
			var so, se bytes.Buffer
			cmd.Stdout, cmd.Stderr = &so, &se
			cmd.Stdin = strings.NewReader("")
			err = cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(code) != wantCode {
				t.Errorf("exit code %d, want %s\nstderr:\n%s", code, wantCode, se.String())
			}
			wantOut, _ := os.ReadFile(filepath.Join(golden, id+".stdout"))
			if so.String() != string(wantOut) {
				t.Errorf("stdout differs:\n--- got\n%s\n--- want\n%s", so.String(), wantOut)
			}
			wantErr, _ := os.ReadFile(filepath.Join(golden, id+".stderr"))
			// Node ids are the server's identity (the transcripts come from
			// a real node), not the tool's output.
			got := nodeIDs(normalizeBackupLog(se.String()))
			want := nodeIDs(normalizeBackupLog(string(wantErr)))
			if !sameLines(got, want, strings.Contains(argText, "-w ") || strings.Contains(argText, "--parallel") || strings.Contains(argText, "-l ")) {
				t.Errorf("stderr differs:\n--- got\n%s\n--- want\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

var nodeIDRE = regexp.MustCompile(`\bBB9[0-9A-F]{8,}\b`)

func nodeIDs(lines []string) []string {
	for i, l := range lines {
		lines[i] = nodeIDRE.ReplaceAllString(l, "<NODE>")
	}
	return lines
}

// backupCLISkip lists transcripts the test server cannot reproduce.
var backupCLISkip = map[string]string{}

// sameLines compares log lines; unordered allows any order (parallel jobs
// log in random order).
func sameLines(got, want []string, unordered bool) bool {
	if len(got) != len(want) {
		return false
	}
	if !unordered {
		for i := range got {
			if got[i] != want[i] {
				return false
			}
		}
		return true
	}
	count := map[string]int{}
	for _, w := range want {
		count[w]++
	}
	for _, g := range got {
		count[g]--
		if count[g] < 0 {
			return false
		}
	}
	return true
}
