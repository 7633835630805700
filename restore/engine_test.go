package restore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"asbtools/asb"
	"asbtools/asdsim"
	"asbtools/compat"
	"asbtools/msg"
	"asbtools/restore"
	"asbtools/stream"
	"asbtools/toolenv"
)

// These tests run the engine in process against asdsim through the real
// client over TCP, and look at what it reports and what the server holds.

// recorder records the events a restore reports, as "Name arg..." strings.
type recorder struct {
	restore.NopReporter
	mu     sync.Mutex
	events []string
	last   restore.Progress
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

func (r *recorder) FilesFound(n int, dir string) { r.add("FilesFound %d", n) }
func (r *recorder) FileOpened(path string)       { r.add("FileOpened %s", filepath.Base(path)) }
func (r *recorder) IndexCreating(ix restore.IndexName, _ string) {
	r.add("IndexCreating %s:%s:%s", ix.Namespace, ix.Set, ix.Name)
}
func (r *recorder) IndexSkipped(ix restore.IndexName)  { r.add("IndexSkipped %s", ix.Name) }
func (r *recorder) IndexesSkipped(u, m, mm uint32)     { r.add("IndexesSkipped %d %d %d", u, m, mm) }
func (r *recorder) UDFRestoring(name string, size int) { r.add("UDFRestoring %s %d", name, size) }
func (r *recorder) Failed(err error)                   { r.add("Failed %v", err) }
func (r *recorder) Interrupted()                       { r.add("Interrupted") }
func (r *recorder) Progress(p restore.Progress) {
	r.add("Progress first=%v last=%v", p.First, p.Last)
	if p.Last {
		r.mu.Lock()
		r.last = p
		r.mu.Unlock()
	}
}

func startServer(t *testing.T, cfg asdsim.Config) *asdsim.Server {
	t.Helper()
	srv, err := asdsim.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// config parses an asrestore command line (no config files) into the
// engine's configuration; the returned Deps hold its connection.
func config(t *testing.T, args ...string) (restore.Config, restore.Deps) {
	t.Helper()
	c, action, err := compat.ParseRestore(append([]string{"asrestore"}, args...), compat.Env{})
	if err != nil || action != compat.ActionRun {
		t.Fatalf("parse %q: %v %v", args, action, err)
	}
	cfg, connect := toolenv.RestoreConfig(c, nil)
	return cfg, restore.Deps{Connect: connect}
}

// run restores with the configuration of the command line args against
// srv and reporter rep (nil: none).
func run(t *testing.T, ctx context.Context, srv *asdsim.Server, rep restore.Reporter, args ...string) (restore.Summary, error) {
	t.Helper()
	cfg, deps := config(t, append([]string{"-h", srv.Host(), "-p", fmt.Sprint(srv.Port())}, args...)...)
	deps.Reporter = rep
	return restore.Run(ctx, cfg, deps)
}

// record returns record i of set s: integer key i, bins "i" and "s",
// generation gen and the given void time.
func record(i int, gen uint16, voidTime uint32) asb.Record {
	return asb.Record{Namespace: []byte("test"), Set: []byte("s"), HasSet: true,
		Digest:     asdsim.ComputeDigest("s", asdsim.IntKey(int64(i))),
		Key:        asb.Key{Type: asb.KeyInt, Int: int64(i)},
		Generation: gen, VoidTime: voidTime,
		Bins: []asb.Bin{{Name: []byte("i"), Type: asb.BinInt, Int: int64(i)},
			{Name: []byte("s"), Type: asb.BinString, Bytes: []byte(fmt.Sprintf("value-%d", i))}}}
}

// writeBackup writes records 0..n-1 (generation gen) round-robin into
// files backup files in dir; the first file also holds an index and a UDF.
func writeBackup(t *testing.T, dir string, n, files int, gen uint16, voidTime func(i int) uint32) {
	t.Helper()
	for f := 0; f < files; f++ {
		fh, err := os.Create(filepath.Join(dir, fmt.Sprintf("test_%05d.asb", f)))
		if err != nil {
			t.Fatal(err)
		}
		w := asb.NewWriter(fh)
		meta := []asb.Meta{asb.NamespaceMeta("test")}
		if f == 0 {
			meta = append(meta, asb.FirstFileMeta())
		}
		check := func(err error) {
			if err != nil {
				t.Fatal(err)
			}
		}
		check(w.WriteHeader(&asb.Header{Version: asb.Version31, Meta: meta}))
		if f == 0 {
			check(w.WriteIndex(&asb.Index{Namespace: "test", Set: "s", Name: "idx_i", Type: asb.IndexDefault,
				Paths: []asb.IndexPath{{Bin: "i", Type: asb.IndexNumeric}}}))
			check(w.WriteUDF(&asb.UDF{Type: 'L', Name: "f.lua", Content: []byte("return 1\n")}))
		}
		for i := f; i < n; i += files {
			var vt uint32
			if voidTime != nil {
				vt = voidTime(i)
			}
			rec := record(i, gen, vt)
			check(w.WriteRecord(&rec))
		}
		check(w.Flush())
		check(fh.Close())
	}
}

func TestRestoreDirectory(t *testing.T) {
	t.Parallel()
	for _, par := range []int{1, 4} {
		t.Run(fmt.Sprint("parallel-", par), func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, asdsim.Config{})
			dir := t.TempDir()
			writeBackup(t, dir, 900, 3, 1, nil)
			rec := &recorder{}
			sum, err := run(t, context.Background(), srv, rec, "-d", dir, "--parallel", fmt.Sprint(par))
			if err != nil {
				t.Fatalf("Run: %v\n%q", err, rec.events)
			}
			if got := srv.Count("test", "s"); got != 900 {
				t.Errorf("server holds %d records", got)
			}
			if sum.Records != 900 || sum.Inserted != 900 || sum.Indexes != 1 || sum.UDFs != 1 {
				t.Errorf("summary %+v", sum)
			}
			if len(rec.with("FilesFound 3")) != 1 || len(rec.with("FileOpened ")) != 3 {
				t.Errorf("file events %q", rec.events)
			}
			if len(rec.with("IndexCreating test:s:idx_i")) != 1 || len(rec.with("UDFRestoring f.lua 9")) != 1 {
				t.Errorf("index/UDF events %q", rec.events)
			}
			if rec.last.Counts.Inserted != 900 || len(rec.with("Progress first=true")) != 1 {
				t.Errorf("last progress %+v", rec.last)
			}
			r, ok := srv.GetByKey("test", "s", asdsim.IntKey(7))
			if !ok || len(r.Bins) != 2 || string(r.Bins[1].Data) != "value-7" {
				t.Errorf("record 7: %+v %v", r, ok)
			}
		})
	}
}

// TestRestorePolicies restores 100 records of generation 2 onto a server
// that holds records 0..49 already (generation 5, one bin "old") with each
// write policy, with batch writes and with single writes.
func TestRestorePolicies(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeBackup(t, dir, 100, 1, 2, nil)
	for _, c := range []struct {
		name string
		args []string
		// want: inserted, existed, fresher; bins of record 0 afterwards.
		inserted, existed, fresher uint64
		bins                       []string
	}{
		// Generation check: the server's newer records win.
		{"default", nil, 50, 0, 50, []string{"old"}},
		{"no-generation", []string{"--no-generation"}, 100, 0, 0, []string{"old", "i", "s"}},
		{"unique", []string{"--unique"}, 50, 50, 0, []string{"old"}},
		{"replace", []string{"--replace", "--no-generation"}, 100, 0, 0, []string{"i", "s"}},
	} {
		for _, mode := range []string{"batch", "single"} {
			t.Run(c.name+"-"+mode, func(t *testing.T) {
				t.Parallel()
				srv := startServer(t, asdsim.Config{})
				for i := 0; i < 50; i++ {
					if err := srv.Put("test", asdsim.Record{Set: "s", Key: asdsim.IntKey(int64(i)), Generation: 5,
						Bins: []asdsim.Bin{asdsim.IntBin("old", 1)}}); err != nil {
						t.Fatal(err)
					}
				}
				rec := &recorder{}
				args := append([]string{"-d", dir, "--no-indexes", "--no-udfs"}, c.args...)
				if mode == "single" {
					args = append(args, "--disable-batch-writes")
				}
				sum, err := run(t, context.Background(), srv, rec, args...)
				if err != nil {
					t.Fatalf("Run: %v\n%q", err, rec.events)
				}
				if sum.Inserted != c.inserted || sum.Existed != c.existed || sum.Fresher != c.fresher {
					t.Errorf("inserted %d existed %d fresher %d, want %d %d %d", sum.Inserted, sum.Existed, sum.Fresher,
						c.inserted, c.existed, c.fresher)
				}
				r, ok := srv.GetByKey("test", "s", asdsim.IntKey(0))
				var bins []string
				for _, b := range r.Bins {
					bins = append(bins, b.Name)
				}
				if !ok || fmt.Sprint(bins) != fmt.Sprint(c.bins) {
					t.Errorf("record 0 bins %v, want %v", bins, c.bins)
				}
				if srv.Count("test", "s") != 100 {
					t.Errorf("server holds %d records", srv.Count("test", "s"))
				}
				accounted(t, sum)
			})
		}
	}
}

// TestRestoreExpiry: records whose void time has passed are skipped as
// expired; --extra-ttl moves the void time.
func TestRestoreExpiry(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	nowCitrus := uint32(now.Unix() - 1262304000)
	dir := t.TempDir()
	// Even records expired an hour ago, odd ones never expire.
	writeBackup(t, dir, 40, 1, 1, func(i int) uint32 {
		if i%2 == 0 {
			return nowCitrus - 3600
		}
		return 0
	})
	for _, c := range []struct {
		args              []string
		expired, inserted uint64
	}{
		{nil, 20, 20},
		{[]string{"--extra-ttl", "7200"}, 0, 40},
	} {
		srv := startServer(t, asdsim.Config{Clock: func() time.Time { return now }})
		cfg, deps := config(t, append([]string{"-h", srv.Host(), "-p", fmt.Sprint(srv.Port()), "-d", dir}, c.args...)...)
		deps.Clock = func() time.Time { return now }
		sum, err := restore.Run(context.Background(), cfg, deps)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Expired != c.expired || sum.Inserted != c.inserted {
			t.Errorf("%v: expired %d inserted %d, want %d %d", c.args, sum.Expired, sum.Inserted, c.expired, c.inserted)
		}
	}
}

// TestRestoreWriteRetries: transient write failures are retried.
func TestRestoreWriteRetries(t *testing.T) {
	t.Parallel()
	srv := startServer(t, asdsim.Config{})
	dir := t.TempDir()
	writeBackup(t, dir, 200, 2, 1, nil)
	srv.Faults().FailNextWrites(3, asdsim.ResultKeyBusy)
	sum, err := run(t, context.Background(), srv, nil, "-d", dir, "--retry-scale-factor", "0")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Inserted != 200 || sum.Retries == 0 || srv.Count("test", "s") != 200 {
		t.Errorf("summary %+v, server %d", sum, srv.Count("test", "s"))
	}
	accounted(t, sum)
}

// TestRestorePermanentWriteError: a permanent write error fails the
// restore with the legacy line.
func TestRestorePermanentWriteError(t *testing.T) {
	t.Parallel()
	srv := startServer(t, asdsim.Config{})
	dir := t.TempDir()
	writeBackup(t, dir, 50, 1, 1, nil)
	srv.Faults().FailNextWrites(1, asdsim.ResultRecordTooBig)
	rec := &recorder{}
	sum, err := run(t, context.Background(), srv, rec, "-d", dir)
	if !errors.Is(err, restore.ErrFailed) || len(msg.Lines(err)) != 0 {
		t.Fatalf("Run: %v", err)
	}
	if f := rec.with("Failed "); len(f) == 0 || f[0] != "Failed Error while storing record - code 13" {
		t.Errorf("failures %q", f)
	}
	accounted(t, sum)
	if sum.Inserted != uint64(srv.Count("test", "s")) || sum.ErrIgnored != 1 {
		t.Errorf("summary %+v, server %d", sum, srv.Count("test", "s"))
	}
}

// TestRestoreCancel cancels a restore before it starts and once a file is
// open: the restore reports the interrupt and fails.
func TestRestoreCancel(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeBackup(t, dir, 12000, 4, 1, nil)
	for _, at := range []string{"", "FileOpened "} {
		t.Run("at-"+strings.TrimSpace(at), func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, asdsim.Config{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rec := &recorder{}
			if at == "" {
				cancel()
			} else {
				var once sync.Once
				rec.on = func(ev string) {
					if strings.HasPrefix(ev, at) {
						once.Do(cancel)
					}
				}
			}
			sum, err := run(t, ctx, srv, rec, "-d", dir, "--parallel", "1", "--no-indexes")
			if !errors.Is(err, restore.ErrFailed) {
				t.Fatalf("Run: %v, want ErrFailed", err)
			}
			if len(rec.with("Interrupted")) != 1 || len(rec.with("Progress first=false last=true")) != 1 {
				t.Errorf("events %q", rec.events)
			}
			if sum.Records >= 12000 {
				t.Errorf("every record was read: %+v", sum)
			}
			accounted(t, sum)
		})
	}
}

// TestValidate checks files without a cluster.
func TestValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeBackup(t, dir, 30, 2, 1, nil)
	cfg, _ := config(t, "-d", dir, "--validate")
	sum, err := restore.Run(context.Background(), cfg, restore.Deps{})
	if err != nil || sum.Records != 30 || sum.Indexes != 1 || sum.UDFs != 1 {
		t.Fatalf("%v %+v", err, sum)
	}
	// A damaged file fails with the legacy parse lines.
	if err := os.WriteFile(filepath.Join(dir, "test_00001.asb"), []byte("Version 3.1\n# namespace test\n+ x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	_, err = restore.Run(context.Background(), cfg, restore.Deps{Reporter: rec})
	if !errors.Is(err, restore.ErrFailed) {
		t.Fatalf("damaged file: %v", err)
	}
	if f := rec.with("Failed "); len(f) != 1 || !strings.Contains(f[0], "Error while parsing backup file "+filepath.Join(dir, "test_00001.asb")+" (line 3)") {
		t.Errorf("failures %q", f)
	}
}

// accounted checks that every record read was counted once: expired,
// skipped, ignored, inserted, existed, fresher or failed (written, refused
// or dropped because the restore stopped).
func accounted(t *testing.T, sum restore.Summary) {
	t.Helper()
	if got := sum.Expired + sum.Skipped + sum.ErrIgnored + sum.Inserted + sum.Existed + sum.Fresher + sum.Failed; got != sum.Records {
		t.Errorf("%d records read, %d accounted for: %+v", sum.Records, got, sum)
	}
}

// cancelOnRetry records events and cancels the restore at the first
// progress tick that counts a retry.
type cancelOnRetry struct {
	*recorder
	cancel context.CancelFunc
	once   sync.Once
}

func (c *cancelOnRetry) Progress(p restore.Progress) {
	c.recorder.Progress(p)
	if p.Counts.Retries > 0 {
		c.once.Do(c.cancel)
	}
}

// TestRestoreCancelDuringRetries: every write fails transiently and the
// back-off before the second retry is an hour; cancelling the restore ends
// the writers' back-off at once (with batch writes and with single
// writes): the interrupt is reported, nothing is written and every record
// read is counted as failed, and the exhausted-retries line is not
// reported.
func TestRestoreCancelDuringRetries(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeBackup(t, dir, 600, 2, 1, nil)
	for _, mode := range []string{"batch", "single"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, asdsim.Config{})
			srv.Faults().FailNextWrites(1<<30, asdsim.ResultKeyBusy)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rec := &cancelOnRetry{recorder: &recorder{}, cancel: cancel}
			args := []string{"-d", dir, "--no-indexes", "--no-udfs", "--retry-scale-factor", "3600000000", "--max-retries", "10"}
			if mode == "single" {
				args = append(args, "--disable-batch-writes")
			}
			sum, err := run(t, ctx, srv, rec, args...)
			if !errors.Is(err, restore.ErrFailed) {
				t.Fatalf("Run: %v, want ErrFailed\n%q", err, rec.events)
			}
			if len(rec.with("Interrupted")) != 1 || len(rec.with("Failed ")) != 0 {
				t.Errorf("events %q", rec.events)
			}
			if sum.Inserted != 0 || sum.Retries == 0 || sum.Failed != sum.Records || srv.Count("test", "s") != 0 {
				t.Errorf("summary %+v, server %d", sum, srv.Count("test", "s"))
			}
			accounted(t, sum)
		})
	}
}

// TestRestoreRetriesExhausted: writes that keep failing transiently fail
// the restore once the retries are used up, with the legacy lines of the
// first writer that runs out (batch writes: the record's code, then the
// batch line; single writes: the key-put line).
func TestRestoreRetriesExhausted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeBackup(t, dir, 300, 1, 1, nil)
	for _, c := range []struct {
		mode string
		want []string
	}{
		{"batch", []string{"Failed Error while storing record - code 14", "Failed Max batch-write retries exceeded (2)"}},
		{"single", []string{"Failed Max key-put retries exceeded (2)"}},
	} {
		t.Run(c.mode, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, asdsim.Config{})
			srv.Faults().FailNextWrites(1<<30, asdsim.ResultKeyBusy)
			args := []string{"-d", dir, "--no-indexes", "--no-udfs", "--retry-scale-factor", "0", "--max-retries", "2"}
			if c.mode == "single" {
				args = append(args, "--disable-batch-writes")
			}
			rec := &recorder{}
			sum, err := run(t, context.Background(), srv, rec, args...)
			if !errors.Is(err, restore.ErrFailed) {
				t.Fatalf("Run: %v, want ErrFailed", err)
			}
			if f := rec.with("Failed "); fmt.Sprint(f) != fmt.Sprint(c.want) {
				t.Errorf("failures %q, want %q", f, c.want)
			}
			if sum.Inserted != 0 || sum.Retries < 2 || srv.Count("test", "s") != 0 {
				t.Errorf("summary %+v, server %d", sum, srv.Count("test", "s"))
			}
			accounted(t, sum)
		})
	}
}

// TestRestoreIgnoreRecordError: with --ignore-record-error a record the
// server refuses for good (record too big) is counted as ignored and the
// restore goes on; without it the restore fails (see
// TestRestorePermanentWriteError).
func TestRestoreIgnoreRecordError(t *testing.T) {
	t.Parallel()
	srv := startServer(t, asdsim.Config{})
	dir := t.TempDir()
	writeBackup(t, dir, 120, 2, 1, nil)
	srv.Faults().FailNextWrites(3, asdsim.ResultRecordTooBig)
	rec := &recorder{}
	sum, err := run(t, context.Background(), srv, rec, "-d", dir, "--ignore-record-error")
	if err != nil {
		t.Fatalf("Run: %v\n%q", err, rec.events)
	}
	if sum.ErrIgnored != 3 || sum.Inserted != 117 || srv.Count("test", "s") != 117 || len(rec.with("Failed ")) != 0 {
		t.Errorf("summary %+v, server %d, events %q", sum, srv.Count("test", "s"), rec.events)
	}
	accounted(t, sum)
}

// decoderWatch is a recorder that notes the most zstd decoders in use
// at any file event.
type decoderWatch struct {
	*recorder
	mu  sync.Mutex
	max int
}

func (w *decoderWatch) sample() {
	n := stream.DecodersInUse()
	w.mu.Lock()
	w.max = max(w.max, n)
	w.mu.Unlock()
}

func (w *decoderWatch) FileStarted(path string, validate bool) {
	w.sample()
	w.recorder.FileStarted(path, validate)
}

func (w *decoderWatch) FileOpened(path string) {
	w.sample()
	w.recorder.FileOpened(path)
}

func (w *decoderWatch) FileEnd() {
	w.sample()
	w.recorder.FileEnd()
}

// TestRestoreCompressedDirectory restores a directory of zstd+AES-256
// files with more readers than cores: every file is opened (and its header
// checked) at once as with legacy, but only two decoders (on 2 cores) are
// held for records, plus one checking a header, and every record arrives.
// Not parallel: it counts the decoders of the whole process.
func TestRestoreCompressedDirectory(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	const files, n = 20, 20 * 400
	t.Setenv("RESTORE_TEST_KEY", "MDEyMzQ1Njc4OWFiY2RlZg==")
	mat, err := stream.KeyMaterialFromEnv("RESTORE_TEST_KEY")
	if err != nil {
		t.Fatal(err)
	}
	opts := stream.Options{Compress: true, Cipher: stream.AES256, Key: stream.DeriveKey(mat, stream.AES256)}
	dir := t.TempDir()
	for f := 0; f < files; f++ {
		fh, err := os.Create(filepath.Join(dir, fmt.Sprintf("test_%05d.asb", f)))
		if err != nil {
			t.Fatal(err)
		}
		sw, err := stream.NewWriter(fh, opts)
		if err != nil {
			t.Fatal(err)
		}
		w := asb.NewWriter(sw)
		if err := w.WriteHeader(&asb.Header{Version: asb.Version31, Meta: []asb.Meta{asb.NamespaceMeta("test")}}); err != nil {
			t.Fatal(err)
		}
		for i := f; i < n; i += files {
			rec := record(i, 1, 0)
			if err := w.WriteRecord(&rec); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := sw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := fh.Close(); err != nil {
			t.Fatal(err)
		}
	}
	srv := startServer(t, asdsim.Config{})
	watch := &decoderWatch{recorder: &recorder{}}
	watch.on = func(string) { watch.sample() }
	sum, err := run(t, context.Background(), srv, watch, "-d", dir, "--parallel", "16",
		"-z", "zstd", "-y", "aes256", "--encryption-key-env", "RESTORE_TEST_KEY")
	if err != nil {
		t.Fatalf("Run: %v\n%q", err, watch.events)
	}
	if got := srv.Count("test", "s"); got != n || sum.Inserted != n {
		t.Errorf("server holds %d records, %d inserted, want %d", got, sum.Inserted, n)
	}
	if got := len(watch.with("FileOpened ")); got != files {
		t.Errorf("%d files opened, want %d", got, files)
	}
	if watch.max == 0 || watch.max > 3 {
		t.Errorf("at most %d decoders in use at a file event, want 1 to 3", watch.max)
	}
	if got := stream.DecodersInUse(); got != 0 {
		t.Errorf("%d decoders still in use after the restore", got)
	}
}
