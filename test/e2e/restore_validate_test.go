package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRestoreValidateHandmade runs --validate on the hand-written goldens
// and compares exit code and message lines with validate.txt.
func TestRestoreValidateHandmade(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join(repoRoot(t), "test", "golden", "handmade", "*"))
	if len(dirs) == 0 {
		t.Fatal("no handmade goldens")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, "validate.txt"))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
			wantCode := 0
			if strings.TrimSpace(lines[1]) == "# exit code: 1" {
				wantCode = 1
			}
			res := runTool(t, "asrestore", dir, nil, "--validate", "-i", "backup.asb")
			if res.code != wantCode {
				t.Errorf("exit %d, want %d\n%s", res.code, wantCode, res.stderr)
			}
			wl, wf := comparable(lines[2:])
			gl, gf := comparable(normalizeLog(res.stderr))
			if wf != gf || strings.Join(wl, "\n") != strings.Join(gl, "\n") {
				t.Errorf("output differs\n--- want\n%s\n--- got\n%s", strings.Join(lines[2:], "\n"), strings.Join(normalizeLog(res.stderr), "\n"))
			}
		})
	}
}
