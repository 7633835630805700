package e2e

import (
	"regexp"
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
			if wf != gf || !sameReaderLines(gl, wl) {
				t.Errorf("%s differs\n--- want\n%s\n--- got\n%s", stream.name, strings.Join(normalizeLog(want), "\n"), strings.Join(normalizeLog(stream.got), "\n"))
			}
		}
	})
}

// perFileLine matches the lines the reader threads print per file.
var perFileLine = regexp.MustCompile(`^<TS> \[INF\] \[TID\] (validating|Opened backup file) `)

// sameReaderLines compares restore log lines; when several files are read
// (in parallel), their per-file lines may come in any order among
// themselves, everything else in order.
func sameReaderLines(got, want []string) bool {
	files := 0
	for _, l := range want {
		if strings.Contains(l, "] Opened backup file ") {
			files++
		}
	}
	if files < 2 {
		return sameLines(got, want, false)
	}
	if !sameLines(got, want, true) {
		return false
	}
	var g, w []string
	for _, l := range got {
		if !perFileLine.MatchString(l) {
			g = append(g, l)
		}
	}
	for _, l := range want {
		if !perFileLine.MatchString(l) {
			w = append(w, l)
		}
	}
	return sameLines(g, w, false)
}
