//go:build linux

package memtrim

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

func rssFileKiB(t *testing.T) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "RssFile:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	t.Skip("no RssFile in /proc/self/status")
	return 0
}

// TestRelease drops the read-only file mappings' pages and the
// process keeps working (relocated read-only data is left alone).
func TestRelease(t *testing.T) {
	before := rssFileKiB(t)
	Release()
	after := rssFileKiB(t)
	if after >= before {
		t.Errorf("RssFile %d KiB after the release, %d KiB before", after, before)
	}
	// Code, read-only data and shared libraries come back on demand.
	if got := strconv.Quote("a\tb"); got != `"a\tb"` {
		t.Errorf("strconv.Quote after release = %s", got)
	}
	if _, err := os.Stat("/"); err != nil {
		t.Fatal(err)
	}
}
