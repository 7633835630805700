package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"asbtools/asdsim"
)

// cliCase is one line of test/golden/cli/cases.tsv.
type cliCase struct {
	id, tool string
	args     []string
	code     int
}

// shellWords splits a cases.tsv argument string (single quotes only).
func shellWords(s string) []string {
	var out []string
	var cur strings.Builder
	in, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' && !quoted:
			quoted, in = true, true
		case c == '\'' && quoted:
			quoted = false
		case c == ' ' && !quoted:
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
	return out
}

func loadCLICases(t *testing.T, tool string) []cliCase {
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "test", "golden", "cli", "cases.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var out []cliCase
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 4 || f[1] != tool {
			continue
		}
		code := 0
		if f[3] == "1" {
			code = 1
		}
		out = append(out, cliCase{id: f[0], tool: f[1], args: shellWords(f[2]), code: code})
	}
	return out
}

// comparable drops lines produced by the Aerospike C client library (which
// this implementation does not embed) and moves the "Finished ... backup
// file(s)" line, whose position races with the workers in the legacy tool,
// out of the sequence.
func comparable(lines []string) (rest []string, finished int) {
	for _, l := range lines {
		if strings.Contains(l, "] [src/main/aerospike/") {
			continue
		}
		if strings.HasSuffix(l, "backup file(s)") && strings.Contains(l, "Finished ") {
			finished++
			continue
		}
		rest = append(rest, l)
	}
	return rest, finished
}

// TestRestoreCLITranscripts runs every asrestore case of the CLI golden
// transcripts against a test server on 127.0.0.1:3000 and compares the exit
// code and the message lines.
func TestRestoreCLITranscripts(t *testing.T) {
	port3000Lock(t)
	srv, err := asdsim.Start(asdsim.Config{Port: 3000})
	if err != nil {
		t.Fatalf("127.0.0.1:3000 is not available for the test server: %v", err)
	}
	defer srv.Close()
	golden := filepath.Join(repoRoot(t), "test", "golden", "cli")
	env := []string{"ASB_TEST_KEY=MDEyMzQ1Njc4OWFiY2RlZg==", "ASB_BAD_KEY=not base64!", "TZ=UTC", "HOME=/nonexistent"}
	skip := map[string]string{}
	for _, c := range loadCLICases(t, "asrestore") {
		t.Run(c.id, func(t *testing.T) {
			if why, ok := skip[c.id]; ok {
				t.Skip(why)
			}
			srv.Truncate("bar", "")
			dir := t.TempDir()
			copyTree(t, filepath.Join(golden, "files"), filepath.Join(dir, "files"))
			os.Mkdir(filepath.Join(dir, "empty-dir"), 0o755)
			res := runRestore(t, dir, env, strings.NewReader(""), c.args...)
			if res.code != c.code {
				t.Errorf("exit code %d, want %d\nstderr:\n%s", res.code, c.code, res.stderr)
			}
			for _, stream := range []struct {
				name, got string
			}{{"stdout", res.stdout}, {"stderr", res.stderr}} {
				want, err := os.ReadFile(filepath.Join(golden, c.id+"."+stream.name))
				if err != nil {
					t.Fatal(err)
				}
				wl, wf := comparable(normalizeLog(string(want)))
				gl, gf := comparable(normalizeLog(stream.got))
				if wf != gf || strings.Join(wl, "\n") != strings.Join(gl, "\n") {
					t.Errorf("%s differs\n--- want\n%s\n--- got\n%s", stream.name, strings.Join(normalizeLog(string(want)), "\n"), strings.Join(normalizeLog(stream.got), "\n"))
				}
			}
		})
	}
}
