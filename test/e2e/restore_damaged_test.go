package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// damagedTranscript is a recorded run of legacy asrestore on a damaged file.
type damagedTranscript struct {
	code    int
	lines   []string
	crashed bool // the legacy tool died (it frees a buffer twice on some paths)
}

func loadDamagedTranscript(t *testing.T, path string) damagedTranscript {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	var tr damagedTranscript
	switch strings.TrimSpace(lines[1]) {
	case "# exit code: 0":
	case "# exit code: 1":
		tr.code = 1
	case "# exit code: -1":
		// Killed by glibc ("free(): double free detected"): what it
		// printed before is compared, and asrestore ends the chain like
		// the other parse errors, with exit code 1.
		tr.code, tr.crashed = 1, true
	default:
		t.Fatalf("%s: unexpected %q", path, lines[1])
	}
	for _, l := range lines[2:] {
		if tr.crashed && !strings.HasPrefix(l, "<TS> ") {
			continue
		}
		tr.lines = append(tr.lines, l)
	}
	return tr
}

// TestRestoreValidateDamaged runs `asrestore --validate -i FILE` on every
// damaged file of test/golden/damaged (made by test/damagegen: random
// truncations, replaced bytes, deleted and duplicated lines of legacy
// backups, and a hand-written defect for every field) and compares the exit
// code and every line (the parse-error chain, the counts) with what legacy
// 4.5.8 printed.
func TestRestoreValidateDamaged(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "test", "golden", "damaged")
	files, _ := filepath.Glob(filepath.Join(dir, "*.validate.txt"))
	if len(files) < 300 {
		t.Fatalf("%d damaged transcripts, want a few hundred", len(files))
	}
	matched := 0
	for _, f := range files {
		id := strings.TrimSuffix(filepath.Base(f), ".validate.txt")
		ok := t.Run(id, func(t *testing.T) {
			want := loadDamagedTranscript(t, f)
			res := runTool(t, "asrestore", dir, nil, "--validate", "-i", id+".asb")
			if res.stdout != "" {
				t.Errorf("stdout: %q", res.stdout)
			}
			if res.code != want.code {
				t.Errorf("exit %d, want %d", res.code, want.code)
			}
			got := normalizeLog(res.stderr)
			if !hasLineContaining(want.lines, "% complete, ") {
				// The legacy counter thread skips this line when it
				// samples the byte count only after the reader has
				// finished (it then sees no progress): it comes and goes
				// from run to run of the same file.
				got = withoutLinesContaining(got, "% complete, ")
			}
			wl, wf := comparable(append([]string(nil), want.lines...))
			gl, gf := comparable(append([]string(nil), got...))
			same := wf == gf && strings.Join(wl, "\n") == strings.Join(gl, "\n")
			if want.crashed {
				same = len(gl) >= len(wl) && strings.Join(gl[:len(wl)], "\n") == strings.Join(wl, "\n") &&
					strings.Contains(strings.Join(gl[len(wl):], "\n"), "Error while parsing backup file "+id+".asb")
			}
			if !same {
				t.Errorf("output differs\n--- want\n%s\n--- got\n%s", strings.Join(want.lines, "\n"), strings.Join(got, "\n"))
			}
		})
		if ok {
			matched++
		}
	}
	t.Logf("%d of %d damaged files match the legacy transcripts", matched, len(files))
}

func hasLineContaining(lines []string, s string) bool {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

func withoutLinesContaining(lines []string, s string) []string {
	var out []string
	for _, l := range lines {
		if !strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}
