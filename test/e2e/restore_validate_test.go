package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// rawLogRE is the form of a log line as the legacy tools print it (see the
// handmade goldens' validate.stderr): UTC time stamp with "GMT", level,
// thread id right-aligned in five columns.
var rawLogRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} GMT \[(INF|ERR)\] \[( {4}\d| {3}\d{2}| {2}\d{3}| \d{4}|\d{5})\] \S`)

// TestRestoreValidateHandmade runs --validate on the hand-written goldens
// and compares exit code and message lines with validate.txt, and the raw
// form of every line with validate.stderr (the legacy tool's stderr as
// printed, of which validate.txt is the normalised form).
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
			raw, err := os.ReadFile(filepath.Join(dir, "validate.stderr"))
			if err != nil {
				t.Fatal(err)
			}
			if got := normalizeLog(string(raw)); strings.Join(got, "\n") != strings.Join(lines[2:], "\n") {
				t.Fatalf("validate.stderr does not normalise to validate.txt:\n%s", strings.Join(got, "\n"))
			}
			for _, l := range strings.Split(strings.TrimRight(string(raw), "\n"), "\n") {
				if !rawLogRE.MatchString(l) {
					t.Fatalf("validate.stderr line %q does not have the form the test checks", l)
				}
			}
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
			for _, l := range strings.Split(strings.TrimRight(res.stderr, "\n"), "\n") {
				if !rawLogRE.MatchString(l) {
					t.Errorf("line %q is not in the legacy form of validate.stderr", l)
				}
			}
		})
	}
}

// TestRestoreValidateLegacyCases runs the --validate command of every
// legacy case (validate.txt: the command, its exit code and output) on the
// legacy backup and compares the exit code and the message lines.
func TestRestoreValidateLegacyCases(t *testing.T) {
	for _, gc := range goldenBackupCases {
		t.Run(gc.name, func(t *testing.T) {
			dir := caseDir(t, gc.name)
			data, err := os.ReadFile(filepath.Join(dir, "validate.txt"))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
			var env []string
			cmd := lines[0]
			if pre, rest, ok := strings.Cut(cmd, " asrestore "); ok {
				// ASB_ENCRYPTION_KEY=$(cat env-key.txt)
				name, file, ok := strings.Cut(pre, "=$(cat ")
				if !ok {
					t.Fatalf("unexpected command %q", cmd)
				}
				b, err := os.ReadFile(filepath.Join(dir, strings.TrimSuffix(file, ")")))
				if err != nil {
					t.Fatal(err)
				}
				env = append(env, name+"="+strings.TrimSpace(string(b)))
				cmd = "asrestore " + rest
			}
			args := strings.Fields(strings.TrimPrefix(cmd, "asrestore "))
			var wantCode int
			if _, err := fmt.Sscanf(lines[1], "# exit code: %d", &wantCode); err != nil {
				t.Fatalf("validate.txt line 2 %q", lines[1])
			}
			res := runTool(t, "asrestore", dir, env, args...)
			if res.code != wantCode {
				t.Errorf("exit %d, want %d\n%s", res.code, wantCode, res.stderr)
			}
			wl, wf := comparable(lines[2:])
			gl, gf := comparable(normalizeLog(res.stderr))
			if g, slow := lastProgressBlock(gl); slow {
				// A run longer than a second printed a progress block at
				// the first tick of the progress thread, as legacy does;
				// the last block then has a "% complete" line only if
				// bytes were read after that tick.
				gl, wl = g, withoutPercent(wl)
			}
			same := wf == gf && sameReaderLines(gl, wl)
			if !same {
				t.Errorf("output differs\n--- want\n%s\n--- got\n%s", strings.Join(lines[2:], "\n"), strings.Join(normalizeLog(res.stderr), "\n"))
			}
		})
	}
}

var (
	countsLine  = regexp.MustCompile(`^<TS> \[INF\] \[TID\] \d+ UDF file\(s\), \d+ secondary index\(es\), \d+ record\(s\) `)
	percentLine = regexp.MustCompile(`^<TS> \[INF\] \[TID\] -?\d+% complete, ~`)
)

// lastProgressBlock drops every progress block (counts line, "Expired"
// line, "% complete" line) but the last one, and that block's "% complete"
// line; slow reports whether there was more than one block.
func lastProgressBlock(lines []string) (out []string, slow bool) {
	last := -1
	n := 0
	for i, l := range lines {
		if countsLine.MatchString(l) {
			last = i
			n++
		}
	}
	if n < 2 {
		return lines, false
	}
	for i := 0; i < len(lines); i++ {
		if countsLine.MatchString(lines[i]) && i != last {
			i++ // the "Expired" line
			if i+1 < len(lines) && percentLine.MatchString(lines[i+1]) {
				i++
			}
			continue
		}
		out = append(out, lines[i])
	}
	return withoutPercent(out), true
}

func withoutPercent(lines []string) []string {
	var out []string
	for _, l := range lines {
		if !percentLine.MatchString(l) {
			out = append(out, l)
		}
	}
	return out
}
