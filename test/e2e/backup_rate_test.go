package e2e

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"asbtools/asdsim"
)

// rateServer holds set "small" (n1 records) and set "big" (n2 records) of
// ~150-byte records.
func rateServer(t *testing.T, n1, n2 int) *asdsim.Server {
	srv := startServer(t, asdsim.Config{})
	put := func(set string, n int) {
		recs := make([]asdsim.Record, 0, n)
		for i := 0; i < n; i++ {
			recs = append(recs, asdsim.Record{Set: set, Key: asdsim.IntKey(int64(i)), Bins: []asdsim.Bin{
				asdsim.IntBin("n", int64(i)),
				{Name: "s", Type: asdsim.ParticleString, Data: []byte(fmt.Sprintf("%08d-%s", i, strings.Repeat("y", 60)))},
			}})
		}
		if err := srv.PutMany("test", recs); err != nil {
			t.Fatal(err)
		}
	}
	put("small", n1)
	put("big", n2)
	return srv
}

// timedBackup runs a backup of one set to a file and returns its wall time
// and the output size.
func timedBackup(t *testing.T, srv *asdsim.Server, set string, extra ...string) (time.Duration, int64) {
	work := t.TempDir()
	args := append([]string{"-h", srv.Host(), "-p", fmt.Sprint(srv.Port()), "-n", "test", "-s", set, "-o", "out.asb"}, extra...)
	res := runTool(t, "asbackup", work, nil, args...)
	if res.code != 0 {
		t.Fatalf("asbackup exit %d:\n%s", res.code, res.stderr)
	}
	fi, err := os.Stat(filepath.Join(work, "out.asb"))
	if err != nil {
		t.Fatal(err)
	}
	return res.wall, fi.Size()
}

// checkRate runs measure up to five times and requires one measurement
// within 5% of want. Each measurement is the difference of two wall times on
// a shared machine, so load can push it either way (a slow first run makes
// the rate look too high, a slow second run too low): both directions are
// measured again. A throttle that lets through more than half as much again
// as the limit fails at once; no machine load explains that.
func checkRate(t *testing.T, what string, want float64, measure func() float64) {
	t.Helper()
	const attempts = 5
	for attempt := 1; attempt <= attempts; attempt++ {
		got := measure()
		dev := (got - want) / want
		t.Logf("%s: attempt %d measured %.0f/s against %.0f/s (%+.1f%%)", what, attempt, got, want, dev*100)
		if dev > 0.5 {
			t.Fatalf("%s let %.0f/s through, more than 50%% above the limit %.0f/s", what, got, want)
		}
		if math.Abs(dev) <= 0.05 {
			return
		}
	}
	t.Errorf("%s held no rate within 5%% of %.0f/s in %d runs", what, want, attempts)
}

// TestBackupRecordsPerSecond measures -L: the difference of two runs (n1
// and n2 records) cancels the constant start-up cost.
func TestBackupRecordsPerSecond(t *testing.T) {
	const n1, n2, rps = 2000, 12000, 5000
	srv := rateServer(t, n1, n2)
	checkRate(t, fmt.Sprintf("-L %d (records)", rps), rps, func() float64 {
		t1, _ := timedBackup(t, srv, "small", "-L", fmt.Sprint(rps))
		t2, _ := timedBackup(t, srv, "big", "-L", fmt.Sprint(rps))
		return float64(n2-n1) / (t2 - t1).Seconds()
	})
}

// TestBackupNice measures --nice (MiB/s of backup file bytes) the same way.
func TestBackupNice(t *testing.T) {
	const n1, n2 = 3000, 17000
	srv := rateServer(t, n1, n2)
	checkRate(t, "--nice 1 (bytes)", 1<<20, func() float64 {
		t1, s1 := timedBackup(t, srv, "small", "--nice", "1")
		t2, s2 := timedBackup(t, srv, "big", "--nice", "1")
		return float64(s2-s1) / (t2 - t1).Seconds()
	})
}
