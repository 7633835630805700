package logging

import (
	"bytes"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var fixed = time.Date(2026, 11, 22, 1, 46, 31, 0, time.FixedZone("X", 3600))

func TestFormatLine(t *testing.T) {
	tests := []struct {
		level Level
		tid   int
		msg   string
		want  string
	}{
		{Info, 776, "message", "2026-11-22 00:46:31 GMT [INF] [  776] message\n"},
		{Error, 12345, "x", "2026-11-22 00:46:31 GMT [ERR] [12345] x\n"},
		{Verbose, 123456, "y", "2026-11-22 00:46:31 GMT [VER] [23456] y\n"},
		{Info, 0, "", "2026-11-22 00:46:31 GMT [INF] [    0] \n"},
		{Error, 5, "ends with newline\n", "2026-11-22 00:46:31 GMT [ERR] [    5] ends with newline\n\n"},
	}
	for _, tc := range tests {
		if got := FormatLine(fixed, tc.level, tc.tid, tc.msg); got != tc.want {
			t.Errorf("got %q want %q", got, tc.want)
		}
	}
}

// legacyRE is the regular expression of the legacy integration tests.
var legacyRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{1,2}:\d{2}:\d{2} (?:GMT|UTC) \[INF\] \[[\s\d]+\]`)

func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf)
	l.SetClock(func() time.Time { return fixed })
	l.Infof("a %d", 1)
	l.Verbosef("hidden")
	l.SetVerbose(true)
	l.Verbosef("shown")
	l.Raw("raw text\n")
	l.WithTID(42).Errorf("worker")
	lines := strings.Split(buf.String(), "\n")
	if !legacyRE.MatchString(lines[0]) || !strings.HasSuffix(lines[0], "] a 1") {
		t.Errorf("info line %q", lines[0])
	}
	if !strings.Contains(lines[1], "[VER]") || !strings.HasSuffix(lines[1], "] shown") {
		t.Errorf("verbose line %q", lines[1])
	}
	if lines[2] != "raw text" {
		t.Errorf("raw %q", lines[2])
	}
	if lines[3] != "2026-11-22 00:46:31 GMT [ERR] [   42] worker" {
		t.Errorf("tid line %q", lines[3])
	}
	if !l.WithTID(1).IsVerbose() {
		t.Error("derived logger does not share verbosity")
	}
}

func TestConcurrentLines(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				l.Infof("goroutine %d line %d", g, i)
			}
		}(g)
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 1600 {
		t.Fatalf("%d lines", len(lines))
	}
	re := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d GMT \[INF\] \[[ \d]{5}\] goroutine \d line \d+$`)
	for _, line := range lines {
		if !re.MatchString(line) {
			t.Fatalf("garbled line %q", line)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func BenchmarkInfof(b *testing.B) {
	l := New(discard{})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		l.Infof("Completed backup for %d partitions", i)
	}
}

func BenchmarkVerboseOff(b *testing.B) {
	l := New(discard{})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		l.Verbosef("record %d", i)
	}
}
