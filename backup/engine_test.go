package backup_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"

	"asbtools/asb"
	"asbtools/asdsim"
	"asbtools/backup"
	"asbtools/compat"
	"asbtools/msg"
	"asbtools/storage"
	"asbtools/toolenv"
)

// These tests run the engine in process against asdsim through the real
// client over TCP, and look at what it reports and writes.

// recorder records the events a backup reports, as "Name arg..." strings.
type recorder struct {
	backup.NopReporter
	mu     sync.Mutex
	events []string
	// on, when set, is called (without the lock) after each event.
	on func(ev string)
}

func (r *recorder) add(format string, a ...any) {
	ev := fmt.Sprintf(format, a...)
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	if r.on != nil {
		r.on(ev)
	}
}

// with returns the recorded events starting with prefix.
func (r *recorder) with(prefix string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if strings.HasPrefix(e, prefix) {
			out = append(out, e)
		}
	}
	return out
}

func (r *recorder) NodesSelected(n int)              { r.add("NodesSelected %d", n) }
func (r *recorder) ParallelReduced(p, a int, f bool) { r.add("ParallelReduced %d %d %v", p, a, f) }
func (r *recorder) RecordsSelected(ns string, sets []string, n uint64) {
	r.add("RecordsSelected %s %v %d", ns, sets, n)
}
func (r *recorder) IndexesFound(n int)     { r.add("IndexesFound %d", n) }
func (r *recorder) UDFsFound(n int)        { r.add("UDFsFound %d", n) }
func (r *recorder) JobStarted(desc string) { r.add("JobStarted %s", desc) }
func (r *recorder) JobFinished(desc string, recs, _ uint64) {
	r.add("JobFinished %s records=%d", desc, recs)
}
func (r *recorder) JobInterrupted(desc string, recs, _ uint64) {
	r.add("JobInterrupted %s records=%d", desc, recs)
}
func (r *recorder) Failed(err error)                { r.add("Failed %v", err) }
func (r *recorder) Interrupted()                    { r.add("Interrupted") }
func (r *recorder) StateFileCreated(p string)       { r.add("StateFileCreated %s", p) }
func (r *recorder) ResumeHint(p string)             { r.add("ResumeHint %s", p) }
func (r *recorder) Progress(p backup.Progress)      { r.add("Progress first=%v last=%v", p.First, p.Last) }
func (r *recorder) StorageMessage(_ bool, s string) { r.add("StorageMessage %s", s) }

// server starts a one-node server holding n records of about size bytes in
// test/s.
func server(t *testing.T, cfg asdsim.Config, n, size int) *asdsim.Server {
	t.Helper()
	srv, err := asdsim.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if n > 0 {
		if err := srv.SeedSynthetic("test", "s", n, size); err != nil {
			t.Fatal(err)
		}
	}
	return srv
}

// config parses an asbackup command line against srv (no config files)
// into the engine's configuration; the returned Deps hold its connection.
func config(t *testing.T, srv *asdsim.Server, args ...string) (backup.Config, backup.Deps) {
	t.Helper()
	argv := append([]string{"asbackup", "-h", srv.Host(), "-p", fmt.Sprint(srv.Port()), "-n", "test"}, args...)
	c, action, err := compat.ParseBackup(argv, compat.Env{})
	if err != nil || action != compat.ActionRun {
		t.Fatalf("parse %q: %v %v", argv, action, err)
	}
	cfg, connect := toolenv.BackupConfig(c, "")
	cfg.CheckpointInterval = -1
	return cfg, backup.Deps{Connect: connect}
}

// run runs a backup with the configuration of the command line args and
// reporter rep (nil: none).
func run(t *testing.T, ctx context.Context, srv *asdsim.Server, rep backup.Reporter, args ...string) (backup.Summary, error) {
	t.Helper()
	cfg, deps := config(t, srv, args...)
	deps.Reporter = rep
	return backup.Run(ctx, cfg, deps)
}

// digests reads every record of the .asb files under path (a file or a
// directory) and counts each digest.
func digests(t *testing.T, path string) map[[20]byte]int {
	t.Helper()
	files := []string{path}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		files, _ = filepath.Glob(filepath.Join(path, "*.asb"))
	}
	out := map[[20]byte]int{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		r := asb.NewReader(fh, asb.ReaderOptions{FileName: f})
		for {
			e, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if e.Kind == asb.EntryRecord {
				out[e.Record.Digest]++
			}
		}
		fh.Close()
	}
	return out
}

// exactlyOnce fails unless every record of test/s on srv is in got once.
func exactlyOnce(t *testing.T, srv *asdsim.Server, got map[[20]byte]int) {
	t.Helper()
	recs := srv.Records("test")
	if len(got) != len(recs) {
		t.Errorf("%d distinct records backed up, server holds %d", len(got), len(recs))
	}
	for _, r := range recs {
		if got[r.Digest] != 1 {
			t.Fatalf("record %x backed up %d times", r.Digest, got[r.Digest])
		}
	}
}

func TestJobPlanning(t *testing.T) {
	t.Parallel()
	srv := server(t, asdsim.Config{}, 500, 100)
	for _, c := range []struct {
		name    string
		args    []string
		jobs    []string
		reduced string
	}{
		{"parallel-4", []string{"--parallel", "4"}, []string{
			"1024 partitions from 0 to 1023", "1024 partitions from 1024 to 2047",
			"1024 partitions from 2048 to 3071", "1024 partitions from 3072 to 4095"}, ""},
		{"parallel-3", []string{"--parallel", "3"}, []string{
			"1365 partitions from 0 to 1364", "1365 partitions from 1365 to 2729", "1366 partitions from 2730 to 4095"}, ""},
		{"range-split", []string{"--partition-list", "100-10", "--parallel", "2"}, []string{
			"5 partitions from 100 to 104", "5 partitions from 105 to 109"}, ""},
		{"filters", []string{"--partition-list", "0-2048,2048-2048", "--parallel", "8"}, []string{
			"2048 partitions from 0 to 2047", "2048 partitions from 2048 to 4095"}, "ParallelReduced 8 2 true"},
		{"more-threads-than-partitions", []string{"--partition-list", "7-3", "--parallel", "5"}, []string{
			"partition 7", "partition 8", "partition 9"}, "ParallelReduced 5 3 false"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "bk")
			rec := &recorder{}
			sum, err := run(t, context.Background(), srv, rec, append([]string{"-d", dir}, c.args...)...)
			if err != nil {
				t.Fatalf("Run: %v\n%v", err, rec.events)
			}
			var started []string
			for _, e := range rec.with("JobStarted ") {
				started = append(started, strings.TrimPrefix(e, "JobStarted "))
			}
			sort.Strings(started)
			want := append([]string(nil), c.jobs...)
			sort.Strings(want)
			if fmt.Sprint(started) != fmt.Sprint(want) {
				t.Errorf("jobs %q, want %q", started, want)
			}
			if len(rec.with("JobFinished ")) != len(c.jobs) {
				t.Errorf("finished jobs: %q", rec.with("JobFinished "))
			}
			red := rec.with("ParallelReduced")
			if (c.reduced == "") != (len(red) == 0) || (c.reduced != "" && red[0] != c.reduced) {
				t.Errorf("ParallelReduced events %q, want %q", red, c.reduced)
			}
			got := digests(t, dir)
			var n uint64
			for d, k := range got {
				if k != 1 {
					t.Fatalf("record %x written %d times", d, k)
				}
				p := int(uint16(d[0])|uint16(d[1])<<8) & 0xFFF
				if !inJobs(p, c.jobs) {
					t.Fatalf("record of partition %d outside the jobs", p)
				}
				n++
			}
			if sum.Records != n || !sum.Done {
				t.Errorf("summary %+v, %d records in the files", sum, n)
			}
			if c.name == "parallel-4" {
				exactlyOnce(t, srv, got)
			}
		})
	}
}

// inJobs reports whether partition p belongs to one of the job ranges.
func inJobs(p int, jobs []string) bool {
	for _, j := range jobs {
		var first, last, count int
		if _, err := fmt.Sscanf(j, "partition %d", &first); err == nil && !strings.Contains(j, "from") {
			if p == first {
				return true
			}
			continue
		}
		if _, err := fmt.Sscanf(j, "%d partitions from %d to %d", &count, &first, &last); err == nil && p >= first && p <= last {
			return true
		}
	}
	return false
}

func TestFileRotation(t *testing.T) {
	t.Parallel()
	// 3000 records of ~1 KiB with a 1 MiB file limit: the files rotate.
	srv := server(t, asdsim.Config{}, 3000, 1000)
	for _, par := range []int{1, 3} {
		t.Run(fmt.Sprint("parallel-", par), func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "bk")
			rec := &recorder{}
			sum, err := run(t, context.Background(), srv, rec, "-d", dir, "--file-limit", "1", "--parallel", fmt.Sprint(par))
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			files, _ := filepath.Glob(filepath.Join(dir, "*.asb"))
			if len(files) < 3 {
				t.Errorf("%d files, want rotation into 3 or more", len(files))
			}
			for _, f := range files {
				st, _ := os.Stat(f)
				// A file is closed once it reaches the limit, after the
				// record that crossed it.
				if st.Size() > 1<<20+4096 {
					t.Errorf("%s: %d bytes, over the 1 MiB limit", f, st.Size())
				}
			}
			exactlyOnce(t, srv, digests(t, dir))
			if sum.Records != 3000 {
				t.Errorf("summary records %d", sum.Records)
			}
			if n := len(rec.with("StorageMessage Directory ")); n != 2 {
				t.Errorf("directory preparation events: %q", rec.with("StorageMessage"))
			}
		})
	}
}

// TestCancelAndResume cancels a backup at several points (before it
// starts, after the first job started, after some records) and continues
// it from the saved state: every record is backed up exactly once.
func TestCancelAndResume(t *testing.T) {
	t.Parallel()
	srv := server(t, asdsim.Config{}, 4000, 200)
	for _, c := range []struct {
		name string
		// cancelOn is the event that cancels the run; "" cancels before.
		cancelOn string
		// after: the n-th such event.
		after int
		// args replace the default command line (dir is the output).
		args func(dir string) []string
	}{
		{"before-start", "", 0, nil},
		// While job 0 writes the UDFs into the first file, before any scan.
		{"one-shot-work", "UDFsFound ", 1, nil},
		{"first-job", "JobStarted ", 1, nil},
		{"after-a-job", "JobFinished ", 1, func(dir string) []string {
			return []string{"-d", dir, "--parallel", "1", "--partition-list", "0-1024,1024-1024,2048-2048"}
		}},
		// In the middle of the scans (a run throttled to take about 4 s,
		// at its first progress tick, about 1 s in), then continued from
		// the partitions' digests.
		{"mid-scan", "Progress first=false", 1, func(dir string) []string {
			return []string{"-d", dir, "--parallel", "2", "--records-per-second", "1000", "--file-limit", "1"}
		}},
		// The same with the single output file.
		{"mid-scan-single-file", "Progress first=false", 1, func(dir string) []string {
			return []string{"-o", filepath.Join(dir, "one.asb"), "--parallel", "2", "--records-per-second", "1000"}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "bk")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rec := &recorder{}
			var seen int
			var mu sync.Mutex
			if c.cancelOn == "" {
				cancel()
			} else {
				rec.on = func(ev string) {
					mu.Lock()
					defer mu.Unlock()
					if strings.HasPrefix(ev, c.cancelOn) {
						if seen++; seen == c.after {
							cancel()
						}
					}
				}
			}
			args := []string{"-d", dir, "--parallel", "4", "--partition-list", "0-4096", "--parallel", "1"}
			out := dir
			if c.args != nil {
				args = c.args(dir)
				if args[0] == "-o" {
					out = args[1]
					if err := os.MkdirAll(dir, 0o755); err != nil {
						t.Fatal(err)
					}
				}
			}
			sum, err := run(t, ctx, srv, rec, args...)
			if !errors.Is(err, backup.ErrStopped) {
				t.Fatalf("Run after cancel: %v, want ErrStopped\n%q", err, rec.events)
			}
			if len(msg.Lines(err)) != 0 {
				t.Errorf("stopped run returned lines %v", msg.Lines(err))
			}
			if !sum.Done || len(rec.with("Interrupted")) != 1 {
				t.Errorf("summary %+v, events %q", sum, rec.events)
			}
			hints := rec.with("ResumeHint ")
			if c.cancelOn == "" {
				// Nothing was backed up: no state to continue from.
				if len(hints) != 0 || sum.Records != 0 {
					t.Fatalf("cancelled before the start: %q, %+v", hints, sum)
				}
				return
			}
			if len(hints) != 1 {
				t.Fatalf("no resume hint: %q", rec.events)
			}
			statePath := strings.TrimPrefix(hints[0], "ResumeHint ")
			if len(rec.with("StateFileCreated "+statePath)) != 1 {
				t.Errorf("state file event missing: %q", rec.events)
			}
			if c.cancelOn == "JobFinished " && len(rec.with("JobFinished ")) < 1 {
				t.Errorf("no job finished before the cancel")
			}
			rec2 := &recorder{}
			sum2, err := run(t, context.Background(), srv, rec2, append(args, "--continue", statePath)...)
			if err != nil {
				t.Fatalf("continue: %v\n%q", err, rec2.events)
			}
			exactlyOnce(t, srv, digests(t, out))
			if c.cancelOn == "Progress first=false" && (sum.Records == 0 || sum.Records >= 4000) {
				t.Errorf("cancelled mid-scan after %d records", sum.Records)
			}
			if sum2.Records != 4000 {
				t.Errorf("records after continuing: %d", sum2.Records)
			}
			if _, err := os.Stat(statePath); err != nil {
				// A loaded state that was never overwritten is left alone.
				t.Errorf("state file: %v", err)
			}
		})
	}
}

// TestCheckpoint: with in-run checkpoints the run removes its checkpoint
// when it succeeds.
func TestCheckpointRemovedOnSuccess(t *testing.T) {
	t.Parallel()
	srv := server(t, asdsim.Config{}, 2000, 200)
	srv.Faults().SetReplyDelay(0)
	dir := filepath.Join(t.TempDir(), "bk")
	cfg, deps := config(t, srv, "-d", dir, "--parallel", "2", "--records-per-second", "4000")
	cfg.CheckpointInterval = 1 // every tick of the checkpoint loop
	rec := &recorder{}
	deps.Reporter = rec
	sum, err := backup.Run(context.Background(), cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, srv, digests(t, dir))
	if sum.Records != 2000 {
		t.Errorf("records %d", sum.Records)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.state")); len(m) != 0 {
		t.Errorf("checkpoint left behind: %v", m)
	}
}

// TestCrashAfterCheckpoint copies the backup directory as a crash would
// leave it (the in-run checkpoint first, then the files, which may hold
// bytes written after it, and files created after it) while a throttled
// backup runs, then continues from that copy: every record is backed up
// exactly once.
func TestCrashAfterCheckpoint(t *testing.T) {
	t.Parallel()
	srv := server(t, asdsim.Config{}, 6000, 200)
	dir := filepath.Join(t.TempDir(), "bk")
	crash := filepath.Join(t.TempDir(), "crash")
	args := []string{"-d", dir, "--parallel", "2", "--records-per-second", "3000", "--file-limit", "1"}
	cfg, deps := config(t, srv, args...)
	cfg.CheckpointInterval = 20 * time.Millisecond
	copied := make(chan error, 1)
	var once sync.Once
	rec := &recorder{}
	// The copy is taken from a progress tick once a checkpoint exists.
	rec.on = func(ev string) {
		if !strings.HasPrefix(ev, "Progress first=false last=false") {
			return
		}
		st, err := os.ReadFile(filepath.Join(dir, "test.asb.state"))
		if err != nil {
			return
		}
		once.Do(func() { copied <- copyCrash(dir, crash, st) })
	}
	deps.Reporter = rec
	if _, err := backup.Run(context.Background(), cfg, deps); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-copied:
		if err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatal("no in-run checkpoint while the backup ran")
	}
	// The crashed run's state names the original directory: continue in
	// place after swapping the copy in.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(crash, dir); err != nil {
		t.Fatal(err)
	}
	rec2 := &recorder{}
	sum, err := run(t, context.Background(), srv, rec2, append(args, "--continue", filepath.Join(dir, "test.asb.state"))...)
	if err != nil {
		t.Fatalf("continue: %v\n%q", err, rec2.events)
	}
	exactlyOnce(t, srv, digests(t, dir))
	if sum.Records != 6000 {
		t.Errorf("records after continuing: %d", sum.Records)
	}
}

// copyCrash writes the state st and then copies every backup file of dir
// into crash.
func copyCrash(dir, crash string, st []byte) error {
	if err := os.MkdirAll(crash, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(crash, "test.asb.state"), st, 0o644); err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.asb"))
	if err != nil {
		return err
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(crash, filepath.Base(f)), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// TestScanErrors: a scan cut off with no retries left fails its job with
// the legacy lines; the run stops and saves its state, as legacy does.
func TestScanErrors(t *testing.T) {
	t.Parallel()
	srv := server(t, asdsim.Config{}, 300, 100)
	srv.Faults().DropAfterRecords(10)
	dir := filepath.Join(t.TempDir(), "bk")
	rec := &recorder{}
	sum, err := run(t, context.Background(), srv, rec, "-d", dir, "--max-retries", "0")
	if !errors.Is(err, backup.ErrStopped) || !sum.Done {
		t.Fatalf("Run: %v, %+v", err, sum)
	}
	failed := rec.with("Failed ")
	// The connection error of the last (only) round, as the C client's
	// partition tracker reports it, on one line.
	if len(failed) != 1 || failed[0] != "Failed Error while running scan for 4096 partitions from 0 to 4095 - code -10: AEROSPIKE_ERR_CONNECTION at src/main/aerospike/as_partition_tracker.c:541" {
		t.Errorf("failures %q", failed)
	}
	if len(rec.with("StateFileCreated")) != 1 || len(rec.with("ResumeHint")) != 1 {
		t.Errorf("state events: %q", rec.events)
	}
	var me *msg.Error
	if !errors.As(err, &me) || me.ExitCode() != 1 {
		t.Errorf("error %#v", err)
	}
}

// TestUnavailablePartitionsRetried: partitions reported unavailable are
// scanned again; every record is backed up once.
func TestUnavailablePartitionsRetried(t *testing.T) {
	t.Parallel()
	srv := server(t, asdsim.Config{}, 1000, 100)
	srv.Faults().SetPartitionsUnavailable(2, 1, 2, 3, 2000, 4095)
	dir := filepath.Join(t.TempDir(), "bk")
	sum, err := run(t, context.Background(), srv, nil, "-d", dir, "--parallel", "2")
	if err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, srv, digests(t, dir))
	if sum.Records != 1000 {
		t.Errorf("records %d", sum.Records)
	}
}

// TestProgressTicks: the first and the last tick come once each. The
// configuration is built directly, without the command line.
func TestProgressTicks(t *testing.T) {
	t.Parallel()
	srv := server(t, asdsim.Config{}, 100, 100)
	rec := &recorder{}
	out := filepath.Join(t.TempDir(), "one.asb")
	cfg := backup.Config{Namespace: "test", OutputFile: backup.Option{Value: out, Set: true},
		Parallel: 1, EstimateSamples: 10, SocketTimeout: 10 * time.Second, MaxRetries: 5, CheckpointInterval: -1}
	connect := func() (*as.Client, error) {
		return as.NewClientWithPolicyAndHost(as.NewClientPolicy(), as.NewHost(srv.Host(), srv.Port()))
	}
	sum, err := backup.Run(context.Background(), cfg, backup.Deps{Connect: connect, Reporter: rec})
	if err != nil {
		t.Fatal(err)
	}
	if n, m := len(rec.with("Progress first=true")), len(rec.with("Progress first=false last=true")); n != 1 || m != 1 {
		t.Errorf("first ticks %d, last ticks %d", n, m)
	}
	exactlyOnce(t, srv, digests(t, out))
	if sum.Records != 100 {
		t.Errorf("summary %+v", sum)
	}
}

// TestAfterDigest plans the jobs of --after-digest: the digest's partition
// after the digest, then every later partition. Nothing before the digest
// is backed up, everything after it is.
func TestAfterDigest(t *testing.T) {
	t.Parallel()
	srv := server(t, asdsim.Config{}, 2000, 100)
	partition := func(d [20]byte) int { return int(uint16(d[0])|uint16(d[1])<<8) & 0xFFF }
	// A record in the middle of the partition space.
	var after [20]byte
	for _, r := range srv.Records("test") {
		if p := partition(r.Digest); p >= 2000 && p < 2100 {
			after = r.Digest
			break
		}
	}
	p := partition(after)
	b64 := base64.StdEncoding.EncodeToString(after[:])
	dir := filepath.Join(t.TempDir(), "bk")
	rec := &recorder{}
	sum, err := run(t, context.Background(), srv, rec, "-d", dir, "--after-digest", b64, "--parallel", "2")
	if err != nil {
		t.Fatalf("Run: %v\n%q", err, rec.events)
	}
	jobs := rec.with("JobStarted ")
	sort.Strings(jobs)
	want := []string{fmt.Sprintf("JobStarted %d partitions from %d to 4095", 4095-p, p+1),
		fmt.Sprintf("JobStarted partition %d after %s", p, b64)}
	sort.Strings(want)
	if fmt.Sprint(jobs) != fmt.Sprint(want) {
		t.Errorf("jobs %q, want %q", jobs, want)
	}
	got := digests(t, dir)
	for _, r := range srv.Records("test") {
		q := partition(r.Digest)
		switch {
		case q < p || r.Digest == after:
			if got[r.Digest] != 0 {
				t.Errorf("record of partition %d (at or before the digest) backed up", q)
			}
		case q > p:
			if got[r.Digest] != 1 {
				t.Errorf("record of partition %d backed up %d times", q, got[r.Digest])
			}
		}
	}
	if sum.Records != uint64(len(got)) {
		t.Errorf("summary %d records, files hold %d", sum.Records, len(got))
	}
}

// TestScanRetriedAfterDrop: a scan cut off by the server is retried (the
// partitions resume after their last digest); every record is backed up
// exactly once and no failure is reported.
func TestScanRetriedAfterDrop(t *testing.T) {
	t.Parallel()
	srv := server(t, asdsim.Config{}, 1500, 100)
	srv.Faults().DropAfterRecords(200)
	dir := filepath.Join(t.TempDir(), "bk")
	rec := &recorder{}
	sum, err := run(t, context.Background(), srv, rec, "-d", dir, "--parallel", "2")
	if err != nil {
		t.Fatalf("Run: %v\n%q", err, rec.events)
	}
	if f := rec.with("Failed "); len(f) != 0 {
		t.Errorf("failures %q", f)
	}
	exactlyOnce(t, srv, digests(t, dir))
	if sum.Records != 1500 || srv.Faults().DroppedScans() == 0 {
		t.Errorf("records %d, dropped scans %d", sum.Records, srv.Faults().DroppedScans())
	}
}

// refusingStore is the local store, except that the creation of file
// refuse fails (a store that refuses a new object).
type refusingStore struct {
	storage.Local
	refuse string
}

func (s refusingStore) Create(path string) (storage.Sink, error) {
	if filepath.Base(path) == s.refuse {
		return nil, errors.New("The store refused the object")
	}
	return s.Local.Create(path)
}

// TestRotationCreateFailureResumes: a new file that cannot be created at a
// rotation stops the backup as legacy's open_dir_file failure does (not an
// abort): the store's message, `Failed to open directory file`, `Error
// while opening new backup file`, the job interrupted, the state file,
// the job's missing file; the state is saved and --continue backs up every
// record exactly once.
func TestRotationCreateFailureResumes(t *testing.T) {
	t.Parallel()
	// 3000 records of ~1 KiB with a 1 MiB file limit: files rotate, and
	// the third file cannot be created.
	srv := server(t, asdsim.Config{}, 3000, 1000)
	dir := filepath.Join(t.TempDir(), "bk")
	args := []string{"-d", dir, "--file-limit", "1", "--parallel", "1"}
	cfg, deps := config(t, srv, args...)
	deps.Store = refusingStore{refuse: "test_00002.asb"}
	rec := &recorder{}
	deps.Reporter = rec
	sum, err := backup.Run(context.Background(), cfg, deps)
	if !errors.Is(err, backup.ErrStopped) || len(msg.Lines(err)) != 0 {
		t.Fatalf("Run: %v, want ErrStopped without lines\n%q", err, rec.events)
	}
	statePath := filepath.Join(dir, "test.asb.state")
	want := []string{
		"Failed The store refused the object\nFailed to open directory file " + filepath.Join(dir, "test_00002.asb") + "\nError while opening new backup file",
		"JobInterrupted ",
		"StateFileCreated " + statePath,
		"Failed Attempting to close a NULL file descriptor\nError while closing backup file",
		"ResumeHint " + statePath,
	}
	i := 0
	for _, ev := range rec.events {
		if i < len(want) && strings.HasPrefix(ev, want[i]) {
			i++
		}
	}
	if i != len(want) || len(rec.with("Interrupted")) != 0 {
		t.Fatalf("events %q, want in order %q", rec.events, want)
	}
	if sum.Records == 0 || sum.Records >= 3000 {
		t.Fatalf("stopped after %d records", sum.Records)
	}
	sum2, err := run(t, context.Background(), srv, &recorder{}, append(args, "--continue", statePath)...)
	if err != nil {
		t.Fatalf("continue: %v", err)
	}
	exactlyOnce(t, srv, digests(t, dir))
	if sum2.Records != 3000 {
		t.Errorf("records after continuing: %d", sum2.Records)
	}
}

// unfinishingStore is the local store whose files fail to close the first
// fails times with storage.ErrUploadIncomplete (an S3 upload whose last
// part could not be uploaded), keeping their bytes.
type unfinishingStore struct {
	storage.Local
	fails int
}

type unfinishingSink struct {
	storage.Sink
	fails *int
}

func (s unfinishingStore) Create(path string) (storage.Sink, error) {
	sk, err := s.Local.Create(path)
	if err != nil {
		return nil, err
	}
	n := s.fails
	return &unfinishingSink{Sink: sk, fails: &n}, nil
}

func (s *unfinishingSink) Close() error {
	if *s.fails > 0 {
		*s.fails--
		return fmt.Errorf("%w: the last part failed", storage.ErrUploadIncomplete)
	}
	return s.Sink.Close()
}

// TestUnfinishedCloseAtEnd: a file that cannot be finished when the
// backup ends (legacy close_file fails) stops it: `Error while closing
// backup io proxy`, the state file; the state being complete, legacy tries
// once more, and then either the file is finished (the run succeeds) or
// `Failed to flush/close backup file <path>, saving the backup state`, the
// state is saved with the file, and --continue finishes it: every record
// once.
func TestUnfinishedCloseAtEnd(t *testing.T) {
	t.Parallel()
	srv := server(t, asdsim.Config{}, 1000, 200)
	for _, c := range []struct {
		single bool
		fails  int
	}{{false, 1}, {false, 2}, {true, 1}, {true, 2}} {
		t.Run(fmt.Sprintf("single-%v-fails-%d", c.single, c.fails), func(t *testing.T) {
			t.Parallel()
			fails := c.fails
			dir := filepath.Join(t.TempDir(), "bk")
			args := []string{"-d", dir, "--parallel", "1"}
			statePath := filepath.Join(dir, "test.asb.state")
			file := filepath.Join(dir, "test_00000.asb")
			want := []string{"JobFinished ", "Failed Error while closing backup io proxy", "StateFileCreated " + statePath}
			out := dir
			if c.single {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				file = filepath.Join(dir, "one.asb")
				out, statePath = file, file+".state"
				args = []string{"-o", file, "--parallel", "2"}
				want = []string{"JobFinished ", "JobFinished ", "Failed Error while closing backup io proxy\nError while closing shared backup file \"" + file + "\"",
					"StateFileCreated " + statePath}
			}
			cfg, deps := config(t, srv, args...)
			deps.Store = unfinishingStore{fails: fails}
			rec := &recorder{}
			deps.Reporter = rec
			_, err := backup.Run(context.Background(), cfg, deps)
			if fails == 1 {
				if err != nil {
					t.Fatalf("Run: %v\n%q", err, rec.events)
				}
				exactlyOnce(t, srv, digests(t, out))
			} else {
				if !errors.Is(err, backup.ErrStopped) {
					t.Fatalf("Run: %v, want ErrStopped\n%q", err, rec.events)
				}
				want = append(want, "Failed Failed to flush/close backup file "+file+", saving the backup state", "ResumeHint "+statePath)
			}
			i := 0
			for _, ev := range rec.events {
				if i < len(want) && strings.HasPrefix(ev, want[i]) {
					i++
				}
			}
			if i != len(want) {
				t.Fatalf("events %q, want in order %q", rec.events, want)
			}
			if fails == 1 {
				return
			}
			sum2, err := run(t, context.Background(), srv, &recorder{}, append(args, "--continue", statePath)...)
			if err != nil {
				t.Fatalf("continue: %v", err)
			}
			exactlyOnce(t, srv, digests(t, out))
			if sum2.Records != 1000 {
				t.Errorf("records after continuing: %d", sum2.Records)
			}
		})
	}
}
