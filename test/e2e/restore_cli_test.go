package e2e

import (
	"strings"
	"testing"
)

// comparable replaces node ids and moves the "Finished ... backup file(s)"
// line, whose position races with the workers in the legacy tool, out of the
// sequence.
func comparable(lines []string) (rest []string, finished int) {
	for _, l := range nodeIDs(lines) {
		if strings.HasSuffix(l, "backup file(s)") && strings.Contains(l, "Finished ") {
			finished++
			continue
		}
		rest = append(rest, l)
	}
	return rest, finished
}

// TestRestoreCLITranscripts runs every asrestore case of test/golden/cli and
// compares the exit code and the message lines of stdout and stderr (see
// comparable) with the legacy transcripts.
func TestRestoreCLITranscripts(t *testing.T) {
	runCLITranscripts(t, "asrestore", nil, func(t *testing.T, c cliCase, golden string, r toolRun) {
		for _, stream := range []struct {
			name, got string
		}{{"stdout", r.stdout}, {"stderr", r.stderr}} {
			want := goldenText(t, golden, c.id+"."+stream.name)
			wl, wf := comparable(normalizeLog(want))
			gl, gf := comparable(normalizeLog(stream.got))
			if wf != gf || strings.Join(wl, "\n") != strings.Join(gl, "\n") {
				t.Errorf("%s differs\n--- want\n%s\n--- got\n%s", stream.name, strings.Join(normalizeLog(want), "\n"), strings.Join(normalizeLog(stream.got), "\n"))
			}
		}
	})
}
