package e2e

import (
	"regexp"
	"strings"
	"testing"
)

// TestBackupCLITranscripts runs every asbackup case of test/golden/cli and
// compares stdout exactly and the normalized stderr lines (in any order for
// parallel runs) with the legacy transcripts.
func TestBackupCLITranscripts(t *testing.T) {
	runCLITranscripts(t, "asbackup", backupCLISkip, func(t *testing.T, c cliCase, golden string, r toolRun) {
		if want := goldenText(t, golden, c.id+".stdout"); r.stdout != want {
			t.Errorf("stdout differs:\n--- got\n%s\n--- want\n%s", r.stdout, want)
		}
		// Node ids are the server's identity (the transcripts come from a
		// real node), not the tool's output.
		got := nodeIDs(normalizeBackupLog(r.stderr))
		want := nodeIDs(normalizeBackupLog(goldenText(t, golden, c.id+".stderr")))
		unordered := strings.Contains(c.argText, "-w ") || strings.Contains(c.argText, "--parallel") || strings.Contains(c.argText, "-l ")
		if !sameLines(got, want, unordered) {
			t.Errorf("stderr differs:\n--- got\n%s\n--- want\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
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
