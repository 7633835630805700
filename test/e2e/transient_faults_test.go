package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"asbtools/asb"
	"asbtools/asdsim"
)

// Transient server faults (a node that restarts or drops its connections
// while keeping its store): asrestore and asbackup ride out an outage
// shorter than their retry budget and fail with the legacy lines after a
// longer one.

// outageRecords returns n backup records of about 200 bytes in set "f".
func outageRecords(n int) []*asb.Record {
	payload := make([]byte, 150)
	for i := range payload {
		payload[i] = 'a' + byte(i%26)
	}
	recs := make([]*asb.Record, n)
	for i := range recs {
		key := "k" + strconv.Itoa(i)
		recs[i] = &asb.Record{Key: asb.Key{Type: asb.KeyString, Bytes: []byte(key)}, Namespace: []byte("test"),
			Digest: asdsim.ComputeDigest("f", asdsim.StringKey(key)), Set: []byte("f"), HasSet: true,
			Generation: 1, Bins: []asb.Bin{
				{Name: []byte("id"), Type: asb.BinInt, Int: int64(i)},
				{Name: []byte("data"), Type: asb.BinBlob, Bytes: payload},
			}}
	}
	return recs
}

// restoreTotals are the numbers of asrestore's last progress lines.
type restoreTotals struct {
	records, retries                                              int
	expired, skipped, ignored, inserted, failed, existed, fresher int
}

var (
	recordsLineRE = regexp.MustCompile(`, (\d+) record\(s\) \(.*, retries: (\d+)\)$`)
	countsLineRE  = regexp.MustCompile(`\] Expired (\d+) : skipped (\d+) : err_ignored (\d+) : inserted (\d+): failed (\d+) \(existed (\d+) , fresher (\d+)\)$`)
	logLineRE     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{1,2}:\d{2}:\d{2} (?:GMT|UTC) \[(?:INF|ERR|VER)\] \[[\s\d]+\] `)
)

// finalTotals parses the last progress pair of an asrestore log.
func finalTotals(t *testing.T, stderr string) restoreTotals {
	t.Helper()
	var tot restoreTotals
	var gotRecords, gotCounts bool
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	for _, l := range strings.Split(stderr, "\n") {
		if m := recordsLineRE.FindStringSubmatch(l); m != nil {
			tot.records, tot.retries, gotRecords = atoi(m[1]), atoi(m[2]), true
		}
		if m := countsLineRE.FindStringSubmatch(l); m != nil {
			tot.expired, tot.skipped, tot.ignored, tot.inserted = atoi(m[1]), atoi(m[2]), atoi(m[3]), atoi(m[4])
			tot.failed, tot.existed, tot.fresher, gotCounts = atoi(m[5]), atoi(m[6]), atoi(m[7]), true
		}
	}
	if !gotRecords || !gotCounts {
		t.Fatalf("no final progress lines in\n%s", stderr)
	}
	return tot
}

// errMessages returns the messages of the ERR lines of a log.
func errMessages(stderr string) []string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		if logLineRE.MatchString(l) && strings.Contains(l[:40], "[ERR]") {
			out = append(out, logLineRE.ReplaceAllString(l, ""))
		}
	}
	return out
}

// assertLogLines fails unless every line of stderr is a log line: no
// message continues on a second line.
func assertLogLines(t *testing.T, stderr string) {
	t.Helper()
	for i, l := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
		if !logLineRE.MatchString(l) {
			t.Errorf("stderr line %d is not a log line: %q", i+1, l)
		}
	}
}

// storedDigests returns the digests of records stored in the server.
func storedDigests(srv *asdsim.Server) map[[20]byte]bool {
	out := map[[20]byte]bool{}
	for _, r := range srv.Records("test") {
		out[r.Digest] = true
	}
	return out
}

// legacyErrLines returns the error lines legacy 4.5.8 printed in a case of
// test/golden/transient, and checks its exit code. The C client's own lines
// are left out (they have no equivalent); a message the legacy tool
// continues over several lines is taken as its one-line form: the first
// line and the " at <file>:<line>" that ends the last one.
func legacyErrLines(t *testing.T, name string, exit int) []string {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "test", "golden", "transient", name)
	cmd, err := os.ReadFile(filepath.Join(dir, "cmd.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cmd), fmt.Sprintf("\nexit %d\n", exit)) {
		t.Fatalf("legacy case %s did not exit %d:\n%s", name, exit, cmd)
	}
	data, err := os.ReadFile(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		msg, ok := strings.CutPrefix(lines[i], "<TS> [ERR] [TID] ")
		if !ok || strings.HasPrefix(msg, "[src/main/aerospike/") {
			continue
		}
		for i+1 < len(lines) && lines[i+1] != "" && !strings.HasPrefix(lines[i+1], "<TS> ") {
			i++
			if j := strings.LastIndex(lines[i], " at src/"); j >= 0 {
				msg += lines[i][j:]
			}
		}
		out = append(out, msg)
	}
	return out
}

// TestRestoreRidesOutOutage restores 100,000 records (20,000 without batch
// writes) while the node goes down for one second in the middle (it
// refuses connections, or resets them; its store is kept): with the
// default retry budget
// (5 retries, 0/150/300/600/1200 ms) the restore completes with every
// record, counts its retries and exits 0.
func TestRestoreRidesOutOutage(t *testing.T) {
	for _, c := range []struct {
		name  string
		n     int
		drop  bool // reset connections instead of refusing them
		extra []string
	}{
		{"batch-writes", 100_000, false, nil},
		{"single-writes", 20_000, false, []string{"--disable-batch-writes"}},
		{"batch-writes-reset", 100_000, true, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			recs := outageRecords(c.n)
			writeBackup(t, filepath.Join(dir, "bk.asb"), "test", recs)
			srv := startServer(t, asdsim.Config{})
			if c.drop {
				srv.Faults().DropConnectionsAfterRecords(c.n*2/5, time.Second)
			} else {
				srv.Faults().OutageAfterRecords(c.n*2/5, time.Second)
			}
			args := append([]string{"-h", srv.Addr(), "-i", "bk.asb"}, c.extra...)
			r := runTool(t, "asrestore", dir, nil, args...)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			assertLogLines(t, r.stderr)
			if e, want := errMessages(r.stderr), legacyErrLines(t, "restore-batch-1s", 0); !slices.Equal(e, want) {
				t.Errorf("error lines %q, want %q (legacy)", e, want)
			}
			if n := srv.Node(0).Outages(); n != 1 {
				t.Fatalf("%d outages, want 1 (the restore ended before the outage?)", n)
			}
			tot := finalTotals(t, r.stderr)
			want := restoreTotals{records: c.n, retries: tot.retries, inserted: c.n}
			if tot != want || tot.retries == 0 {
				t.Errorf("totals %+v, want %+v with retries > 0", tot, want)
			}
			got := storedDigests(srv)
			if len(got) != c.n {
				t.Errorf("%d records stored, want %d", len(got), c.n)
			}
			for _, rec := range recs {
				if !got[rec.Digest] {
					t.Fatalf("record %s missing after the restore", rec.Key.Bytes)
				}
			}
		})
	}
}

// TestRestoreOutageBeyondRetryBudget takes the node down for good in the
// middle of a restore: asrestore gives up after its retries with the one
// legacy line (no client text), exits 1, and its counters add up: every
// record read is expired, skipped, ignored, inserted or failed, and the
// server holds every inserted record.
func TestRestoreOutageBeyondRetryBudget(t *testing.T) {
	for _, c := range []struct {
		name       string
		n          int
		extra      []string
		legacy     string // the legacy case of test/golden/transient
		line       string
		minRetries int
	}{
		{"batch-writes", 100_000, nil, "restore-batch-exhausted", "Max batch-write retries exceeded (5)", 6},
		{"single-writes", 20_000, []string{"--disable-batch-writes"}, "restore-single-exhausted", "Max key-put retries exceeded (5)", 6},
		{"no-retries", 100_000, []string{"--max-retries", "0"}, "restore-no-retries", "Max batch-write retries exceeded (0)", 1},
		{"no-retries-single", 20_000, []string{"--max-retries", "0", "--disable-batch-writes"}, "restore-single-no-retries", "Max key-put retries exceeded (0)", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeBackup(t, filepath.Join(dir, "bk.asb"), "test", outageRecords(c.n))
			srv := startServer(t, asdsim.Config{})
			srv.Faults().OutageAfterRecords(c.n*2/5, -1)
			args := append([]string{"-h", srv.Addr(), "-i", "bk.asb"}, c.extra...)
			r := runTool(t, "asrestore", dir, nil, args...)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
			}
			assertLogLines(t, r.stderr)
			want := legacyErrLines(t, c.legacy, 1)
			if !slices.Equal(want, []string{c.line}) {
				t.Fatalf("legacy printed %q, not %q", want, c.line)
			}
			if e := errMessages(r.stderr); !slices.Equal(e, want) {
				t.Errorf("error lines %q, want only %q (legacy)", e, want)
			}
			tot := finalTotals(t, r.stderr)
			if tot.retries < c.minRetries {
				t.Errorf("retries: %d, want at least %d", tot.retries, c.minRetries)
			}
			if tot.failed == 0 || tot.existed != 0 || tot.fresher != 0 {
				t.Errorf("failed %d (existed %d, fresher %d): want failed records only", tot.failed, tot.existed, tot.fresher)
			}
			if sum := tot.expired + tot.skipped + tot.ignored + tot.inserted + tot.failed; sum != tot.records {
				t.Errorf("records %d, but expired+skipped+err_ignored+inserted+failed = %d (%+v)", tot.records, sum, tot)
			}
			// The writes in flight when the node went down may have been
			// stored without an answer: they count as failed.
			if stored := len(storedDigests(srv)); stored < tot.inserted || stored > tot.inserted+tot.failed {
				t.Errorf("server holds %d records; inserted %d, failed %d", stored, tot.inserted, tot.failed)
			}
		})
	}
}

// dirDigests reads every record of the .asb files of a backup
// directory, failing on a record backed up twice.
func dirDigests(t *testing.T, dir string) map[[20]byte]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.asb"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no backup files in %s (%v)", dir, err)
	}
	out := map[[20]byte]bool{}
	for _, f := range files {
		recs, _, _ := backupRecords(t, f, nil)
		for _, r := range recs {
			if out[r.Digest] {
				t.Fatalf("record %x backed up twice", r.Digest)
			}
			out[r.Digest] = true
		}
	}
	return out
}

// sameDigests fails unless the backup holds exactly the server's records.
func sameDigests(t *testing.T, got, want map[[20]byte]bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("backup holds %d records, the server %d", len(got), len(want))
	}
	for d := range want {
		if !got[d] {
			t.Fatalf("record %x missing from the backup", d)
		}
	}
}

// TestBackupScanRidesOutOutage backs up 100,000 records while the node
// goes down (or resets every connection) for one second in the middle of
// the scan: with
// --sleep-between-retries 500 (5 retries, 2.5 s) the scan resumes every
// partition from its last record and the backup completes, exit 0.
func TestBackupScanRidesOutOutage(t *testing.T) {
	t.Run("refused", func(t *testing.T) { backupRidesOut(t, false) })
	t.Run("reset", func(t *testing.T) { backupRidesOut(t, true) })
}

func backupRidesOut(t *testing.T, drop bool) {
	const n = 100_000
	dir := t.TempDir()
	srv := startServer(t, asdsim.Config{})
	if err := srv.SeedSynthetic("test", "f", n, 200); err != nil {
		t.Fatal(err)
	}
	want := storedDigests(srv)
	if drop {
		srv.Faults().DropConnectionsAfterRecords(n*3/10, time.Second)
	} else {
		srv.Faults().OutageAfterRecords(n*3/10, time.Second)
	}
	r := runTool(t, "asbackup", dir, nil, "-h", srv.Addr(), "-n", "test", "-d", "bk", "--sleep-between-retries", "500")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	assertLogLines(t, r.stderr)
	if e, want := errMessages(r.stderr), legacyErrLines(t, "backup-1s", 0); !slices.Equal(e, want) {
		t.Errorf("error lines %q, want %q (legacy)", e, want)
	}
	if n := srv.Node(0).Outages(); n != 1 {
		t.Fatalf("%d outages, want 1", n)
	}
	if !strings.Contains(r.stderr, fmt.Sprintf("] Completed backup for 4096 partitions from 0 to 4095, records: %d, size: ", n)) {
		t.Errorf("no completion line for %d records\n%s", n, r.stderr)
	}
	sameDigests(t, dirDigests(t, filepath.Join(dir, "bk")), want)
	if _, err := os.Stat(filepath.Join(dir, "bk", "test.asb.state")); err == nil {
		t.Error("a state file was left behind by a successful backup")
	}
}

// TestBackupScanOutageBeyondRetries takes the node down for good in the
// middle of the scan: after --max-retries rounds asbackup prints the
// legacy scan error on one line, saves a state and exits 1; once the node
// is back, --continue finishes the backup with every record exactly once.
func TestBackupScanOutageBeyondRetries(t *testing.T) {
	const n = 100_000
	dir := t.TempDir()
	srv := startServer(t, asdsim.Config{})
	if err := srv.SeedSynthetic("test", "f", n, 200); err != nil {
		t.Fatal(err)
	}
	want := storedDigests(srv)
	srv.Faults().OutageAfterRecords(n*3/10, -1)
	args := []string{"-h", srv.Addr(), "-n", "test", "-d", "bk", "--sleep-between-retries", "100"}
	r := runTool(t, "asbackup", dir, nil, args...)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	assertLogLines(t, r.stderr)
	// Legacy continues this message over seven lines (the C client's
	// sub-errors); its one-line form is the first line and the position.
	wantErr := []string{"Error while running scan for 4096 partitions from 0 to 4095 - code -10: AEROSPIKE_ERR_CONNECTION at src/main/aerospike/as_partition_tracker.c:541"}
	if legacy := legacyErrLines(t, "backup-exhausted", 1); !slices.Equal(legacy, wantErr) {
		t.Fatalf("legacy printed %q, not %q", legacy, wantErr)
	}
	if e := errMessages(r.stderr); !slices.Equal(e, wantErr) {
		t.Errorf("error lines %q, want %q", e, wantErr)
	}
	legacy, err := os.ReadFile(filepath.Join(repoRoot(t), "test", "golden", "transient", "backup-exhausted", "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{
		"] Created backup state file bk/test.asb.state\n",
		"] Backup was interrupted, to resume, run backup with `--continue bk/test.asb.state` and all the same arguments (except --remove-files)\n",
	} {
		if !strings.Contains(string(legacy), l) {
			t.Fatalf("legacy did not print %q", l)
		}
		if !strings.Contains(r.stderr, l) {
			t.Errorf("missing line %q\n%s", l, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "bk", "test.asb.state")); err != nil {
		t.Fatalf("no state file: %v", err)
	}
	if err := srv.Up(); err != nil {
		t.Fatal(err)
	}
	r = runTool(t, "asbackup", dir, nil, append(args, "--continue", "bk/test.asb.state")...)
	if r.code != 0 {
		t.Fatalf("resume: exit %d\n%s", r.code, r.stderr)
	}
	sameDigests(t, dirDigests(t, filepath.Join(dir, "bk")), want)
}

// TestRestoreRidesOutOneNodeOutage restores into a three-node cluster one
// of whose nodes goes down for one second: the records of the batches
// that the other nodes answered are not written again, those of the node
// that was down are retried, and the restore completes with every record.
func TestRestoreRidesOutOneNodeOutage(t *testing.T) {
	const n = 60_000
	dir := t.TempDir()
	recs := outageRecords(n)
	writeBackup(t, filepath.Join(dir, "bk.asb"), "test", recs)
	srv := startServer(t, asdsim.Config{Nodes: 3})
	srv.Node(1).Faults().OutageAfterRecords(n/3/3, time.Second)
	r := runTool(t, "asrestore", dir, nil, "-h", srv.Addr(), "-i", "bk.asb")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	assertLogLines(t, r.stderr)
	if e := errMessages(r.stderr); len(e) != 0 {
		t.Errorf("error lines: %q", e)
	}
	if srv.Node(1).Outages() != 1 || srv.Node(0).Outages() != 0 {
		t.Fatalf("outages %d, %d; want node 1 only", srv.Node(0).Outages(), srv.Node(1).Outages())
	}
	tot := finalTotals(t, r.stderr)
	if want := (restoreTotals{records: n, retries: tot.retries, inserted: n}); tot != want || tot.retries == 0 {
		t.Errorf("totals %+v, want %+v with retries > 0", tot, want)
	}
	got := storedDigests(srv)
	for _, rec := range recs {
		if !got[rec.Digest] {
			t.Fatalf("record %s missing after the restore", rec.Key.Bytes)
		}
	}
}

// TestBackupScanRidesOutOneNodeOutage backs up a three-node cluster one of
// whose nodes goes down for one second: only that node's partitions are
// scanned again, from their last record, and every record is backed up
// exactly once.
func TestBackupScanRidesOutOneNodeOutage(t *testing.T) {
	const n = 90_000
	dir := t.TempDir()
	srv := startServer(t, asdsim.Config{Nodes: 3})
	if err := srv.SeedSynthetic("test", "f", n, 200); err != nil {
		t.Fatal(err)
	}
	want := storedDigests(srv)
	srv.Node(2).Faults().OutageAfterRecords(n/3/2, time.Second)
	r := runTool(t, "asbackup", dir, nil, "-h", srv.Addr(), "-n", "test", "-d", "bk", "--sleep-between-retries", "500")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	assertLogLines(t, r.stderr)
	if e := errMessages(r.stderr); len(e) != 0 {
		t.Errorf("error lines: %q", e)
	}
	if srv.Node(2).Outages() != 1 {
		t.Fatalf("node 2: %d outages, want 1", srv.Node(2).Outages())
	}
	sameDigests(t, dirDigests(t, filepath.Join(dir, "bk")), want)
}
