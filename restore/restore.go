// Package restore is the engine of asrestore: it reads legacy backup files
// (plain, zstd-compressed and/or AES-CTR-encrypted), applies the legacy
// selection rules (namespace mapping, set and bin lists, expiry, extra TTL)
// and writes the records to an Aerospike cluster with the legacy write
// policies, recreating secondary indexes and UDF modules, or only checks the
// files with --validate. It prints the legacy progress and summary lines.
//
// Files are decoded by one goroutine per file (a single file is decoded
// once), records are grouped into batches which a pool of writer goroutines
// sends in parallel (batch writes, or single writes when batch writes are
// unavailable), with tool-level retries and exponential back-off.
package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"
	"golang.org/x/sync/errgroup"

	"asbtools/asb"
	"asbtools/clusterconn"
	"asbtools/infocmd"
	"asbtools/internal/memtrim"
	"asbtools/msg"
	"asbtools/storage"
	"asbtools/stream"
)

// citrusEpoch is the Aerospike epoch (2010-01-01 UTC) in Unix seconds.
const citrusEpoch = 1262304000

// maxBatchBytes bounds the bytes one batch holds, so that memory stays
// bounded with large records.
const maxBatchBytes = 1 << 20

// run is the state of one restore.
type run struct {
	cfg     *Config
	env     *Deps
	rep     Reporter
	c       Counters
	client  *as.Client
	version infocmd.Version
	strm    stream.Options
	useStrm bool
	limit   *limiter
	w       *writers
	prog    *progress

	binSet    map[string]bool
	setSet    map[string]bool
	batchSize int
	now       uint32 // seconds since the Aerospike epoch, taken once

	// ctx is cancelled when the restore stops: the caller cancelled
	// (SIGINT/SIGTERM) or something failed.
	ctx    context.Context
	cancel context.CancelFunc
	failed atomic.Bool

	mu                  sync.Mutex
	indexes             []*asb.Index
	tasks               []indexTask
	udfs                []string
	names               sync.Map
	interruptedBySignal atomic.Bool
	// caller is the caller's context once the restore can be interrupted;
	// interruptOnce makes the first goroutine that notices its
	// cancellation report it and stop the restore.
	caller        context.Context
	interruptOnce sync.Once
	// headers serializes the header checks of compressed files in a
	// directory restore (see openOptions.headers).
	headers *sync.Mutex
}

// decodeSlots is how many files of a compressed directory decode records
// at once: each holds a zstd decoder (the window plus about 400 KiB: 0.65
// MiB for the files asbackup writes, 2.4 MiB for legacy's), and more files
// than cores decoding at once do not restore faster.
func decodeSlots() int {
	return max(2, runtime.GOMAXPROCS(0))
}

// Run restores (or validates) according to cfg. Cancelling ctx interrupts
// the restore as SIGINT does with the legacy tool. Failures are *msg.Error
// values; those reported while the restore ran (Reporter.Failed) carry no
// lines of their own.
func Run(ctx context.Context, cfg Config, deps Deps) (Summary, error) {
	if deps.Stdin == nil {
		deps.Stdin = os.Stdin
	}
	if deps.Clock == nil {
		deps.Clock = time.Now
	}
	if deps.Reporter == nil {
		deps.Reporter = NopReporter{}
	}
	if deps.Store == nil {
		deps.Store = storage.Local{}
	}
	r := &run{cfg: &cfg, env: &deps, rep: deps.Reporter}
	r.ctx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	defer r.cancel()
	err := r.main(ctx)
	return r.c.Snapshot(), err
}

// trimInterval is how often Deps.ReleasePages is called while records
// are restored.
const trimInterval = time.Second

// trimPages calls Deps.ReleasePages now and then every trimInterval until
// the returned function is called: start-up (client, TLS, option parsing)
// leaves program pages resident that the record path never uses again.
func (r *run) trimPages() (stop func()) {
	release := r.env.ReleasePages
	if release == nil {
		return func() {}
	}
	release()
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		memtrim.Repeat(release, trimInterval, trimInterval, done)
	}()
	return func() {
		close(done)
		<-finished
	}
}

// ErrFailed is the cause of the result of a restore that failed after
// reporting why.
var ErrFailed = errors.New("restore failed")

// initFailure is a failure before the restore starts, followed by the
// legacy line of its status initialisation.
func initFailure(err error) error {
	return msg.Wrap(err, msg.Err("Failed to initialize restore status"))
}

// interrupted reports whether the restore stopped; a cancelled caller
// context is reported and stops it here, so that a reader that checks sees
// the stop at once.
func (r *run) interrupted() bool {
	if r.ctx.Err() != nil {
		return true
	}
	if r.caller != nil && r.caller.Err() != nil {
		r.interrupt()
		return true
	}
	return false
}

// interrupt reports the caller's cancellation and stops the restore, once
// and only if it has not stopped already.
func (r *run) interrupt() {
	r.interruptOnce.Do(func() {
		if r.ctx.Err() != nil {
			return
		}
		r.rep.Interrupted()
		r.interruptedBySignal.Store(true)
		r.abort()
	})
}

// abort makes the restore fail and every goroutine finish as soon as
// possible.
func (r *run) abort() {
	r.failed.Store(true)
	r.cancel()
}

// main runs the restore; parent is the caller's context, whose cancellation
// is the legacy interrupt.
func (r *run) main(parent context.Context) error {
	cfg := r.cfg
	if cfg.ListsErr != nil {
		return cfg.ListsErr
	}
	if cfg.Bins != nil {
		r.binSet = map[string]bool{}
		for _, b := range cfg.Bins {
			r.binSet[b] = true
		}
	}
	if cfg.Sets != nil {
		r.setSet = map[string]bool{}
		for _, s := range cfg.Sets {
			r.setSet[s] = true
		}
	}
	if err := r.initStream(); err != nil {
		return initFailure(err)
	}
	if !cfg.Validate {
		if err := r.connect(parent); err != nil {
			return err
		}
		defer r.client.Close()
	}
	r.now = uint32(r.env.Clock().Unix() - citrusEpoch)
	r.rep.Started()
	if err := r.rep.Begin(); err != nil {
		if r.w != nil {
			r.w.close()
		}
		return err
	}
	if !cfg.Validate {
		r.rep.NodesSelected(len(r.client.GetNodes()))
	}
	if cfg.Bandwidth > 0 && cfg.TPS > 0 {
		r.limit = newLimiter(uint64(cfg.Bandwidth), uint64(cfg.TPS))
		defer r.limit.stop()
		context.AfterFunc(r.ctx, r.limit.stop)
	}
	r.prog = newProgress(&r.c, r.rep, r.env.Clock, cfg.Validate)
	r.prog.start()
	stopTrim := r.trimPages()
	ok := r.restoreAll(parent)
	stopTrim()
	if r.w != nil {
		if !r.w.close() {
			ok = false
		}
	}
	if r.failed.Load() {
		ok = false
	}
	if ok && !cfg.NoIndexes && !cfg.Validate {
		if !r.restoreIndexesLast() {
			r.rep.Failed(msg.New(msg.Err("Error while restoring secondary indexes to cluster")))
			ok = false
		}
	}
	if ok && cfg.Wait && !cfg.Validate {
		if !r.waitUDFs() {
			ok = false
		}
	}
	r.interrupted() // a cancellation no goroutine noticed yet is reported now
	if r.interruptedBySignal.Load() {
		ok = false
	}
	r.prog.finish()
	if !ok {
		return &msg.Error{Err: ErrFailed}
	}
	return nil
}

// connect opens the cluster connection, checks the server and starts the
// writers, which stop when parent (the caller's context) is cancelled.
func (r *run) connect(parent context.Context) error {
	cfg := r.cfg
	maxBatches := int(max(1, min(cfg.MaxAsyncBatches, 1024)))
	if r.env.Connect == nil {
		return initFailure(msg.New(msg.Err("No cluster connection")))
	}
	client, err := r.env.Connect(maxBatches)
	if err != nil {
		return initFailure(err)
	}
	r.client = client
	// The legacy tool connects its cluster object twice (restore and
	// batch uploader), so its client logs every node twice.
	for range 2 {
		r.rep.ClientLines(clusterconn.AddNodeLines(client))
	}
	build, err := infoRequest(client, cfg.Timeout, nil, "build")
	if err == nil {
		r.version, err = infocmd.ParseBuild(build)
	}
	if err != nil {
		client.Close()
		return &msg.Error{Lines: []msg.Line{msg.Err("Error while getting server build: %s", err.Error()),
			msg.Err("Failed to initialize restore status")}, Err: err}
	}
	r.rep.ServerBuild(strings.TrimSpace(build))
	batchWrites := false
	if !cfg.DisableBatchWrites && r.version.AtLeast(6, 0) {
		reply, err := infoRequest(client, cfg.Timeout, nil, "get-config:context=service")
		batchWrites = err == nil && batchIndexThreads(reply) > 0
	}
	if !r.version.AtLeast(4, 9) {
		client.Close()
		return msg.New(msg.Err("Aerospike Server version 4.9 or greater is required to run asrestore, but version %d.%d is in use.", r.version.Major, r.version.Minor),
			msg.Err("Failed to initialize restore status"))
	}
	r.batchSize = 16
	if batchWrites {
		r.batchSize = 128
	}
	if cfg.BatchSizeSet {
		r.batchSize = int(max(1, min(cfg.BatchSize, 1<<20)))
	}
	total := cfg.TotalTimeout
	if total == 0 {
		total = cfg.Timeout
	}
	// --max-async-batches bounds the batches in flight; more than
	// writersPerNode per node only costs memory.
	writerCount := maxBatches
	if batchWrites {
		writerCount = min(maxBatches, writersPerNode*max(1, len(client.GetNodes())))
	}
	r.w = newWriters(parent, writerConfig{client: client, batchWrites: batchWrites, unique: cfg.Unique, replace: cfg.Replace,
		noGeneration: cfg.NoGeneration, ignoreErrors: cfg.IgnoreRecordError, maxRetries: cfg.MaxRetries,
		scale: cfg.RetryScaleFactor, socketTimeout: cfg.SocketTimeout, totalTimeout: total},
		writerCount, &r.c, r.rep, r.abort)
	return nil
}

// batchIndexThreads extracts batch-index-threads from a service config.
func batchIndexThreads(reply string) int {
	for _, kv := range strings.Split(reply, ";") {
		if v, ok := strings.CutPrefix(kv, "batch-index-threads="); ok {
			// The leading decimal number, 0 if there is none.
			n := 0
			if _, err := fmt.Sscanf(v, "%d", &n); err != nil {
				return 0
			}
			return n
		}
	}
	return 0
}

// initStream prepares the decompression/decryption settings.
func (r *run) initStream() error {
	o, err := r.cfg.Stream.Options()
	if err != nil {
		return msg.Wrap(err)
	}
	r.strm, r.useStrm = o, o.Compress || o.Cipher != stream.None
	return nil
}

func (r *run) wantSet(set string) bool {
	return r.setSet == nil || r.setSet[set]
}

// intern returns a shared string for b (bin and set names repeat).
func (r *run) intern(b []byte) string {
	if v, ok := r.names.Load(string(b)); ok {
		return v.(string)
	}
	s := string(b)
	r.names.Store(s, s)
	return s
}

// restoreAll selects the inputs and runs the readers. It reports whether
// everything went well. From here on, a cancelled parent interrupts the
// restore (unless it already stopped).
func (r *run) restoreAll(parent context.Context) bool {
	cfg := r.cfg
	r.caller = parent
	context.AfterFunc(parent, r.interrupt)
	if cfg.Directory.Set || cfg.DirectoryList.Set {
		var files []storage.InputFile
		var total int64
		if cfg.DirectoryList.Set {
			for _, dir := range storage.InputDirectoryList(cfg.DirectoryList.Value, cfg.ParentDirectory.Value, cfg.ParentDirectory.Set) {
				f, t, err := r.env.Store.ListInput(dir)
				if err != nil {
					r.rep.Failed(inputFailure(err, msg.Err("Error while getting backup files from directory_list entry: %s", dir)))
					return false
				}
				r.rep.FilesFound(len(f), dir)
				files = append(files, f...)
				total = t
			}
		} else {
			f, t, err := r.env.Store.ListInput(cfg.Directory.Value)
			if err != nil {
				r.rep.Failed(inputFailure(err, msg.Err("Error while getting backup files from directory")))
				return false
			}
			r.rep.FilesFound(len(f), cfg.Directory.Value)
			files, total = f, t
		}
		if len(files) == 0 {
			r.rep.Failed(msg.New(msg.Err("No backup files found")))
			return false
		}
		if !cfg.NoRecords {
			r.prog.setEstimated(total)
		}
		if cfg.Validate {
			r.rep.Validating()
		}
		if !cfg.NoRecords && !cfg.Validate {
			r.rep.RestoringRecords()
		}
		jobs := make(chan storage.InputFile, len(files))
		for _, f := range files {
			jobs <- f
		}
		close(jobs)
		n := min(cfg.Parallel, len(files))
		// Compressed files: every reader opens its file and checks its
		// header at once (the legacy lines come when they do with legacy,
		// whose threads all read at once), but at most decodeSlots decode
		// records at a time; the others hold no decoder meanwhile.
		var slots chan struct{}
		if r.strm.Compress {
			r.headers = new(sync.Mutex)
			slots = make(chan struct{}, min(n, decodeSlots()))
		}
		// The readers run under an errgroup; a failure aborts the restore
		// (r.ctx), which the other readers see between records.
		var g errgroup.Group
		for i := 0; i < n; i++ {
			g.Go(func() error {
				for f := range jobs {
					if r.interrupted() {
						return nil
					}
					r.rep.FileStarted(f.Path, cfg.Validate)
					src, err := r.openListed(f)
					if err != nil {
						err = msg.Wrap(err, msg.Err("Error while opening backup file"))
						r.rep.Failed(err)
						r.abort()
						return err
					}
					if slots != nil {
						select {
						case slots <- struct{}{}:
						case <-r.ctx.Done():
							src.close()
							return nil
						}
					}
					r.readFile(src)
					src.close()
					if slots != nil {
						<-slots
					}
				}
				return nil
			})
		}
		r.rep.FilesDispatched(cfg.Validate)
		_ = g.Wait() // failures are reported and recorded in r.failed
		return !r.failed.Load()
	}
	path, size, isStdin := cfg.InputFile.Value, cfg.InputSize, cfg.InputStdin
	r.rep.InputStarted(path, cfg.Validate)
	if cfg.InputErr != nil {
		r.rep.Failed(msg.Wrap(cfg.InputErr, msg.Err("Error while opening shared backup file")))
		return false
	}
	src, err := r.open(path, isStdin)
	if err != nil {
		r.rep.Failed(msg.Wrap(err, msg.Err("Error while opening shared backup file")))
		return false
	}
	src.shared = true
	defer src.close()
	if !cfg.NoRecords {
		if isStdin {
			r.prog.setEstimated(size)
		} else if src.size >= 0 {
			r.prog.setEstimated(src.size)
		}
	}
	if !cfg.NoRecords && !cfg.Validate {
		r.rep.RestoringRecords()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.readFile(src)
	}()
	r.rep.FilesDispatched(cfg.Validate)
	<-done
	return !r.failed.Load()
}

// inputFailure is a failure to list input files: the lines of err (see
// msg.Lines), then more.
func inputFailure(err error, more ...msg.Line) *msg.Error { return msg.Wrap(err, more...) }

func (r *run) open(path string, isStdin bool) (*source, error) {
	return openSource(r.openOptions(path, isStdin))
}

// openListed opens a file of a directory listing with the size the
// listing gave.
func (r *run) openListed(f storage.InputFile) (*source, error) {
	o := r.openOptions(f.Path, false)
	o.listed = &f
	return openSource(o)
}

func (r *run) openOptions(path string, isStdin bool) openOptions {
	ns, check := r.cfg.SourceNamespace, r.cfg.TargetNamespace != ""
	return openOptions{store: r.env.Store, path: path, stdin: r.env.Stdin, stream: r.strm, useStrm: r.useStrm,
		nsSrc: ns, nsCheck: check, bytes: &r.c.Bytes, limit: r.limit, isStdin: isStdin, legacyStrict: r.cfg.Validate,
		logOpen: r.rep.FileOpened, headers: r.headers}
}

// readFile decodes one file and dispatches its entries.
func (r *run) readFile(src *source) {
	body := src.records()
	var b *batch
	flush := func() {
		if b != nil && len(b.items) > 0 {
			r.w.submit(b)
		} else if b != nil {
			r.w.put(b)
		}
		b = nil
	}
	defer flush()
	var sel []int
	// Set and bin names repeat from record to record: a reader-local
	// cache turns them into shared strings without locking.
	names := make(map[string]string)
	intern := func(b []byte) string {
		if s, ok := names[string(b)]; ok {
			return s
		}
		s := r.intern(b)
		if len(names) < 4096 {
			names[s] = s
		}
		return s
	}
	// Most records repeat the previous record's namespace, set and bin
	// names in the same order: comparing with it avoids hashing.
	var lastNS, lastSet string
	var lastBins []string
	binName := func(i int, b []byte) string {
		if i < len(lastBins) && lastBins[i] == string(b) {
			return lastBins[i]
		}
		s := intern(b)
		for len(lastBins) <= i {
			lastBins = append(lastBins, "")
		}
		lastBins[i] = s
		return s
	}
	for !r.interrupted() {
		e, err := body.Next()
		if err == io.EOF {
			r.rep.FileEnd()
			return
		}
		if err != nil {
			r.rep.Failed(parseFailure(err, src.path, body.Line()))
			src.stoppedAt(err)
			// Like the legacy tool, which does not flush its record
			// uploaders after a parse error, the records of the batch
			// being filled are not written.
			if b != nil {
				r.w.put(b)
				b = nil
			}
			r.abort()
			return
		}
		switch e.Kind {
		case asb.EntryIndex:
			if !r.readIndex(e.Index) {
				return
			}
		case asb.EntryUDF:
			if !r.readUDF(e.UDF) {
				return
			}
		case asb.EntryRecord:
			rec := e.Record
			if r.cfg.Validate {
				r.c.Records.Add(1)
				continue
			}
			if r.cfg.NoRecords {
				return
			}
			sel = sel[:0]
			for i := range rec.Bins {
				if r.binSet == nil || r.binSet[string(rec.Bins[i].Name)] {
					sel = append(sel, i)
				}
			}
			ttl, expired := recordTTL(rec.VoidTime, r.cfg.ExtraTTL, r.now)
			switch {
			case expired:
				r.c.Expired.Add(1)
			case len(sel) == 0 || !r.wantSet(string(rec.Set)):
				r.c.Skipped.Add(1)
			default:
				if b == nil {
					b = r.w.get()
				}
				ns := r.cfg.TargetNamespace
				if ns == "" {
					if lastNS != string(rec.Namespace) {
						lastNS = intern(rec.Namespace)
					}
					ns = lastNS
				}
				if lastSet != string(rec.Set) {
					lastSet = intern(rec.Set)
				}
				b.add(rec, ns, lastSet, ttl, sel, binName)
				if len(b.items) >= r.batchSize || b.size() >= maxBatchBytes {
					flush()
				}
			}
			r.c.Records.Add(1)
			if r.limit != nil {
				r.limit.record()
			}
		}
	}
}

// readIndex handles an index entry (its namespace was checked by the
// reader): validated, ignored, restored at once or kept for
// --indexes-last. It reports whether reading goes on.
func (r *run) readIndex(ix *asb.Index) bool {
	if r.cfg.Validate {
		r.rep.IndexValidated()
		r.c.Indexes.Add(1)
		return true
	}
	if r.cfg.NoIndexes {
		r.rep.IndexIgnored()
		return true
	}
	cp := cloneIndex(ix)
	if !r.cfg.IndexesLast {
		if err := r.restoreIndex(cp); err != nil {
			r.rep.Failed(msg.Wrap(err, msg.Err("Error while restoring secondary index")))
			r.abort()
			return false
		}
	}
	r.mu.Lock()
	r.indexes = append(r.indexes, cp)
	r.mu.Unlock()
	r.c.Indexes.Add(1)
	return true
}

// readUDF handles a UDF entry: validated, ignored or restored. It reports
// whether reading goes on.
func (r *run) readUDF(u *asb.UDF) bool {
	if r.cfg.Validate {
		r.rep.UDFValidated()
		r.c.UDFs.Add(1)
		return true
	}
	if r.cfg.NoUDFs {
		r.rep.UDFIgnored()
		return true
	}
	if err := r.restoreUDF(u); err != nil {
		r.rep.Failed(msg.Wrap(err, msg.Err("Error while restoring UDF")))
		r.abort()
		return false
	}
	r.c.UDFs.Add(1)
	return true
}

// recordTTL computes the TTL a record is written with from its void time
// (seconds since the Aerospike epoch, 0 = never expires), --extra-ttl and
// the current time in the same unit: void time 0 gives "never expire",
// otherwise the record expires at void time + extra TTL and is skipped as
// expired when that moment is not in the future.
func recordTTL(voidTime uint32, extraTTL int64, now uint32) (ttl uint32, expired bool) {
	if voidTime == 0 {
		return as.TTLDontExpire, false
	}
	expiry := int64(voidTime) + extraTTL
	if expiry <= int64(now) {
		return 0, true
	}
	// The two largest values mean "never expire" and "do not update".
	return uint32(min(expiry-int64(now), math.MaxUint32-2)), false
}

func cloneIndex(ix *asb.Index) *asb.Index {
	cp := *ix
	cp.Paths = append([]asb.IndexPath(nil), ix.Paths...)
	return &cp
}

// restoreIndexesLast creates the indexes collected with --indexes-last,
// prints the index summary lines and waits for the indexes with --wait.
func (r *run) restoreIndexesLast() bool {
	ok := true
	if r.cfg.IndexesLast {
		for _, ix := range r.indexes {
			if err := r.restoreIndex(ix); err != nil {
				r.rep.Failed(err)
				ok = false
			}
		}
	}
	r.rep.IndexesSkipped(r.c.SkippedIndexes.Load(), r.c.MatchedIndexes.Load(), r.c.MismatchedIndexes.Load())
	if r.cfg.Wait && !r.waitIndexes() {
		ok = false
	}
	return ok
}
