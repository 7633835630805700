package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"asbtools/asdsim"
	"asbtools/internal/sandbox"
)

// cliCase is one line of a cases.tsv of the CLI transcripts.
type cliCase struct {
	id, tool, argText string
	args              []string
	code              int
	// golden is the directory holding the case's transcripts.
	golden string
}

// cliGoldenDirs are the directories of CLI transcripts under test/golden:
// cli (the shared legacy corpus, taken against a real server) and
// cli-extra (taken from the legacy tools against the test server, see its
// README).
var cliGoldenDirs = []string{"cli", "cli-extra"}

// shellWords splits a command line like a POSIX shell (quotes and
// backslashes; no expansions).
func shellWords(s string) ([]string, error) {
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

// loadCLICases returns the cases of tool from the cases.tsv of every
// directory of cliGoldenDirs.
func loadCLICases(t *testing.T, tool string) []cliCase {
	t.Helper()
	var out []cliCase
	for _, dir := range cliGoldenDirs {
		golden := filepath.Join(repoRoot(t), "test", "golden", dir)
		data, err := os.ReadFile(filepath.Join(golden, "cases.tsv"))
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			f := strings.Split(line, "\t")
			if i == 0 || len(f) != 4 || f[1] != tool {
				continue
			}
			args, err := shellWords(f[2])
			if err != nil {
				t.Fatalf("%s/cases.tsv line %d: %v", dir, i+1, err)
			}
			code, err := strconv.Atoi(f[3])
			if err != nil {
				t.Fatalf("%s/cases.tsv line %d: exit code %q", dir, i+1, f[3])
			}
			out = append(out, cliCase{id: f[0], tool: f[1], argText: f[2], args: args, code: code, golden: golden})
		}
	}
	return out
}

// runCLITranscripts runs every case of tool from the CLI golden transcripts
// through the real binary, each in a fresh directory holding the
// transcripts' files/ and an empty-dir/, against an empty test server on
// 127.0.0.1:3000 (the address the transcripts were taken with). It checks
// the exit code and hands the run to check, which compares the output with
// the golden <id>.stdout and <id>.stderr in dir golden.
//
// In the sandbox (see TestMain) 127.0.0.1:3000 is in a private network
// namespace. Outside it the test takes the host's 127.0.0.1:3000 only when
// it is free, and is skipped otherwise: the transcripts need that address,
// and a server already there is never touched.
func runCLITranscripts(t *testing.T, tool string, skip map[string]string, check func(t *testing.T, c cliCase, golden string, r toolRun)) {
	if !sandbox.Private() {
		port3000Lock(t)
		l, err := net.Listen("tcp", "127.0.0.1:3000")
		if err != nil {
			t.Skipf("the transcripts need a test server on 127.0.0.1:3000, which is in use (%v), and the tests %s", err, sandbox.Reason())
		}
		l.Close()
	}
	srv := startServer(t, asdsim.Config{Port: 3000})
	files := filepath.Join(repoRoot(t), "test", "golden", "cli", "files")
	bin := backupBinary(t)
	if tool == "asrestore" {
		bin = restoreBinary(t)
	}
	env := []string{"PATH=" + filepath.Dir(bin) + ":" + os.Getenv("PATH"),
		"ASB_TEST_KEY=MDEyMzQ1Njc4OWFiY2RlZg==", "ASB_BAD_KEY=not base64!"}
	for _, c := range loadCLICases(t, tool) {
		t.Run(c.id, func(t *testing.T) {
			if why, ok := skip[c.id]; ok {
				t.Skip(why)
			}
			if err := srv.Truncate("bar", ""); err != nil {
				t.Fatal(err)
			}
			work := t.TempDir()
			copyTree(t, files, filepath.Join(work, "files"))
			os.Mkdir(filepath.Join(work, "empty-dir"), 0o755)
			r := runTool(t, tool, work, env, c.args...)
			if r.code != c.code {
				t.Errorf("exit code %d, want %d\nstderr:\n%s", r.code, c.code, r.stderr)
			}
			check(t, c, c.golden, r)
		})
	}
}

// goldenText reads a golden transcript file.
func goldenText(t *testing.T, golden, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(golden, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
