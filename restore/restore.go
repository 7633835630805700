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
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"

	"asbtools/asb"
	"asbtools/clusterconn"
	"asbtools/compat"
	"asbtools/infocmd"
	"asbtools/logging"
	"asbtools/storage"
	"asbtools/stream"
)

// citrusEpoch is the Aerospike epoch (2010-01-01 UTC) in Unix seconds.
const citrusEpoch = 1262304000

// maxBatchBytes bounds the bytes one batch holds, so that memory stays
// bounded with large records.
const maxBatchBytes = 1 << 20

// Env is what a restore needs from its surroundings.
type Env struct {
	// Log receives every log line.
	Log *logging.Logger
	// Stdin is read for "-i -" (default os.Stdin).
	Stdin io.Reader
	// Prompt asks for a password on the terminal (nil: empty password).
	Prompt compat.PromptFunc
	// Now is the clock used for expiry (default time.Now).
	Now func() time.Time
}

// run is the state of one restore.
type run struct {
	cfg     *compat.RestoreConfig
	env     *Env
	log     *logging.Logger
	lists   *compat.RestoreLists
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
}

// Run restores (or validates) according to cfg and returns the exit code.
// Cancelling ctx interrupts the restore as SIGINT does with the legacy tool.
func Run(ctx context.Context, cfg *compat.RestoreConfig, env Env) int {
	if env.Stdin == nil {
		env.Stdin = os.Stdin
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	r := &run{cfg: cfg, env: &env, log: env.Log}
	r.ctx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	defer r.cancel()
	code := r.main(ctx)
	r.log.Verbosef("Exiting with status code %d", code)
	return code
}

func (r *run) errLines(lines []string) {
	for _, l := range lines {
		r.log.Errorf("%s", l)
	}
}

func (r *run) interrupted() bool { return r.ctx.Err() != nil }

// abort makes the restore fail and every goroutine finish as soon as
// possible.
func (r *run) abort() {
	r.failed.Store(true)
	r.cancel()
}

// main runs the restore; parent is the caller's context, whose cancellation
// is the legacy interrupt.
func (r *run) main(parent context.Context) int {
	cfg := r.cfg
	lists, e := cfg.ParseLists()
	if e != nil {
		compat.Print(e.Messages, r.log, os.Stdout)
		return 1
	}
	r.lists = lists
	if lists.Bins != nil {
		r.binSet = map[string]bool{}
		for _, b := range lists.Bins {
			r.binSet[b] = true
		}
	}
	if lists.Sets != nil {
		r.setSet = map[string]bool{}
		for _, s := range lists.Sets {
			r.setSet[s] = true
		}
	}
	if err := r.initStream(); err != nil {
		r.errLines(failLines(err))
		r.log.Errorf("Failed to initialize restore status")
		return 1
	}
	batchWrites := false
	if !cfg.Validate {
		maxBatches := int(max(1, min(cfg.MaxAsyncBatches, 1024)))
		client, err := connect(cfg, r.env, maxBatches)
		if err != nil {
			if sf, ok := err.(*stdoutFailure); ok {
				fmt.Fprintln(os.Stdout, sf.line)
			} else {
				r.errLines(failLines(err))
			}
			r.log.Errorf("Failed to initialize restore status")
			return 1
		}
		r.client = client
		defer client.Close()
		// The legacy tool connects its cluster object twice (restore and
		// batch uploader), so its client logs every node twice.
		for range 2 {
			for _, l := range clusterconn.AddNodeLines(client) {
				r.log.Infof("%s", l)
			}
		}
		build, err := infoRequest(client, cfg.Timeout, nil, "build")
		if err == nil {
			r.version, err = infocmd.ParseBuild(build)
		}
		if err != nil {
			r.log.Errorf("Error while getting server build: %s", err.Error())
			r.log.Errorf("Failed to initialize restore status")
			return 1
		}
		r.log.Verbosef("Connected to server build %s", strings.TrimSpace(build))
		if !cfg.DisableBatchWrites && r.version.AtLeast(6, 0) {
			reply, err := infoRequest(client, cfg.Timeout, nil, "get-config:context=service")
			batchWrites = err == nil && batchIndexThreads(reply) > 0
		}
		if !r.version.AtLeast(4, 9) {
			r.log.Errorf("Aerospike Server version 4.9 or greater is required to run asrestore, but version %d.%d is in use.", r.version.Major, r.version.Minor)
			r.log.Errorf("Failed to initialize restore status")
			return 1
		}
		r.batchSize = 16
		if batchWrites {
			r.batchSize = 128
		}
		if cfg.BatchSize != compat.BatchSizeUndefined {
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
		r.w = newWriters(writerConfig{client: client, batchWrites: batchWrites, unique: cfg.Unique, replace: cfg.Replace,
			noGeneration: cfg.NoGeneration, ignoreErrors: cfg.IgnoreRecordError, maxRetries: cfg.MaxRetries,
			scale: cfg.RetryScaleFactor, socketTimeout: cfg.SocketTimeout, totalTimeout: total},
			writerCount, &r.c, r.log, r.abort)
	}
	r.now = uint32(r.env.Now().Unix() - citrusEpoch)
	r.log.Infof("%s", cfg.StartMessage())
	var mach *os.File
	if cfg.Machine.Set {
		f, err := os.OpenFile(cfg.Machine.Value, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
		if err != nil {
			r.log.Errorf("Error while opening machine-readable file %s (error %d: %s)", cfg.Machine.Value, errnoOf(err), errText(err))
			if r.w != nil {
				r.w.close()
			}
			return 1
		}
		defer f.Close()
		mach = f
	}
	if !cfg.Validate {
		r.log.Infof("Processing %d node(s)", len(r.client.GetNodes()))
	}
	if cfg.Bandwidth > 0 && cfg.TPS > 0 {
		r.limit = newLimiter(uint64(cfg.Bandwidth), uint64(cfg.TPS))
		defer r.limit.stop()
		context.AfterFunc(r.ctx, r.limit.stop)
	}
	r.prog = newProgress(&r.c, r.log, 0, cfg.Validate, mach)
	r.prog.start()
	ok := r.restoreAll(parent)
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
			r.log.Errorf("Error while restoring secondary indexes to cluster")
			ok = false
		}
	}
	if ok && cfg.Wait && !cfg.Validate {
		if !r.waitUDFs() {
			ok = false
		}
	}
	if r.interruptedBySignal.Load() {
		ok = false
	}
	r.prog.finish()
	if !ok {
		return 1
	}
	return 0
}

// batchIndexThreads extracts batch-index-threads from a service config.
func batchIndexThreads(reply string) int {
	for _, kv := range strings.Split(reply, ";") {
		if v, ok := strings.CutPrefix(kv, "batch-index-threads="); ok {
			n := 0
			fmt.Sscanf(v, "%d", &n)
			return n
		}
	}
	return 0
}

// initStream prepares the decompression/decryption settings.
func (r *run) initStream() error {
	cfg := r.cfg
	if cfg.Compress == compat.CompressZstd {
		r.strm.Compress = true
		r.useStrm = true
	}
	if cfg.Encrypt != compat.EncryptNone && cfg.Key != nil {
		r.strm.Cipher = stream.AES128
		if cfg.Encrypt == compat.EncryptAES256 {
			r.strm.Cipher = stream.AES256
		}
		material := cfg.Key.Material
		if material == nil {
			m, err := stream.KeyMaterialFromPEM(cfg.Key.PEM)
			if err != nil {
				return fail(err.Error())
			}
			material = m
		}
		r.strm.Key = stream.DeriveKey(material, r.strm.Cipher)
		r.useStrm = true
	}
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
	context.AfterFunc(parent, func() {
		if r.interrupted() {
			return
		}
		r.log.Errorf("### Restore interrupted ###")
		r.interruptedBySignal.Store(true)
		r.abort()
	})
	verb := "restoring"
	if cfg.Validate {
		verb = "validating"
	}
	if cfg.Directory.Set || cfg.DirectoryList.Set {
		var files []storage.InputFile
		var total int64
		if cfg.DirectoryList.Set {
			for _, dir := range storage.InputDirectoryList(cfg.DirectoryList.Value, cfg.ParentDirectory.Value, cfg.ParentDirectory.Set) {
				f, t, err := storage.ListInputDirectory(dir)
				if err != nil {
					r.errLines(failLines2(err))
					r.log.Errorf("Error while getting backup files from directory_list entry: %s", dir)
					return false
				}
				r.log.Infof("Found %d backup file(s) in %s", len(f), dir)
				files = append(files, f...)
				total = t
			}
		} else {
			f, t, err := storage.ListInputDirectory(cfg.Directory.Value)
			if err != nil {
				r.errLines(failLines2(err))
				r.log.Errorf("Error while getting backup files from directory")
				return false
			}
			r.log.Infof("Found %d backup file(s) in %s", len(f), cfg.Directory.Value)
			files, total = f, t
		}
		if len(files) == 0 {
			r.log.Errorf("No backup files found")
			return false
		}
		if !cfg.NoRecords {
			r.prog.setEstimated(total)
		}
		if cfg.Validate {
			r.log.Infof("Validating backup files")
		}
		if !cfg.NoRecords && !cfg.Validate {
			r.log.Infof("Restoring records")
		}
		jobs := make(chan string, len(files))
		for _, f := range files {
			jobs <- f.Path
		}
		close(jobs)
		n := min(cfg.Parallel, len(files))
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for path := range jobs {
					if r.interrupted() {
						return
					}
					r.log.Infof("%s %s", verb, path)
					src, err := r.open(path, false)
					if err != nil {
						r.errLines(failLines(err))
						r.log.Errorf("Error while opening backup file")
						r.abort()
						return
					}
					r.readFile(src)
					src.close()
				}
			}()
		}
		r.log.Infof("Finished %s backup file(s)", verb)
		wg.Wait()
		return !r.failed.Load()
	}
	path := cfg.InputFile.Value
	size, isStdin, e := compat.ParseStdinSize(path)
	if strings.HasPrefix(path, "-") && path != "-" && !strings.HasPrefix(path, "-:") {
		isStdin = false
	}
	if cfg.Validate {
		r.log.Infof("Validating %s", path)
	} else {
		r.log.Infof("Restoring %s", path)
	}
	if e != nil {
		compat.Print(e.Messages, r.log, os.Stdout)
		r.log.Errorf("Error while opening shared backup file")
		return false
	}
	src, err := r.open(path, isStdin)
	if err != nil {
		r.errLines(failLines(err))
		r.log.Errorf("Error while opening shared backup file")
		return false
	}
	defer src.close()
	if !cfg.NoRecords {
		if isStdin {
			r.prog.setEstimated(size)
		} else if st, err := os.Stat(path); err == nil {
			r.prog.setEstimated(st.Size())
		}
	}
	if !cfg.NoRecords && !cfg.Validate {
		r.log.Infof("Restoring records")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.readFile(src)
	}()
	r.log.Infof("Finished %s backup file(s)", verb)
	<-done
	return !r.failed.Load()
}

func failLines2(err error) []string {
	if ie, ok := err.(*storage.InputError); ok {
		return ie.Lines
	}
	return []string{err.Error()}
}

func (r *run) open(path string, isStdin bool) (*source, error) {
	ns, check := r.lists.SourceNamespace, r.lists.TargetNamespace != ""
	return openSource(openOptions{path: path, stdin: r.env.Stdin, stream: r.strm, useStrm: r.useStrm,
		nsSrc: ns, nsCheck: check, bytes: &r.c.Bytes, limit: r.limit, isStdin: isStdin, legacyStrict: r.cfg.Validate,
		logOpen: func(p string) { r.log.Infof("Opened backup file %s", p) }})
}

// readFile decodes one file and dispatches its entries.
func (r *run) readFile(src *source) {
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
		e, err := src.reader.Next()
		if err == io.EOF {
			r.log.Verbosef("End of backup file reached")
			return
		}
		if err != nil {
			r.errLines(legacyParseError(err, src.path, src.reader.Line()))
			src.stoppedAt(err)
			r.abort()
			return
		}
		switch e.Kind {
		case asb.EntryIndex:
			ix := e.Index
			if r.lists.SourceNamespace != "" && ix.Namespace != r.lists.SourceNamespace {
				r.log.Errorf("Invalid namespace %s in index %s, expected: %s (line %d, col %d)", ix.Namespace, ix.Name, r.lists.SourceNamespace, e.Line, 6+len(ix.Namespace))
				r.log.Errorf("Error while parsing backup file %s (line %d)", src.path, e.Line)
				r.abort()
				return
			}
			if r.cfg.Validate {
				r.log.Verbosef("Validated Secondary Index")
				r.c.Indexes.Add(1)
				continue
			}
			if r.cfg.NoIndexes {
				r.log.Verbosef("Ignoring index block")
				continue
			}
			cp := cloneIndex(ix)
			if !r.cfg.IndexesLast && !r.restoreIndex(cp) {
				r.log.Errorf("Error while restoring secondary index")
				r.abort()
				return
			}
			r.mu.Lock()
			r.indexes = append(r.indexes, cp)
			r.mu.Unlock()
			r.c.Indexes.Add(1)
		case asb.EntryUDF:
			if r.cfg.Validate {
				r.log.Verbosef("Validated UDF")
				r.c.UDFs.Add(1)
				continue
			}
			if r.cfg.NoUDFs {
				r.log.Verbosef("Ignoring UDF file block")
				continue
			}
			if !r.restoreUDF(e.UDF) {
				r.log.Errorf("Error while restoring UDF")
				r.abort()
				return
			}
			r.c.UDFs.Add(1)
		case asb.EntryRecord:
			rec := e.Record
			if r.lists.SourceNamespace != "" && string(rec.Namespace) != r.lists.SourceNamespace {
				line, col := nsPosition(rec, src.version)
				r.log.Errorf("Invalid namespace %s in backup record, expected: %s (line %d, col %d)", rec.Namespace, r.lists.SourceNamespace, line, col)
				r.log.Errorf("Error while parsing record")
				r.log.Errorf("Error while parsing backup file %s (line %d)", src.path, line)
				r.abort()
				return
			}
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
				ns := r.lists.TargetNamespace
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

// nsPosition returns the line and column where the legacy reader reports
// a namespace mismatch: the end of the "+ n" line.
func nsPosition(rec *asb.Record, v asb.Version) (int, int) {
	line := rec.Line
	if rec.Key.Type != asb.KeyNone {
		line++
		if rec.Key.Type == asb.KeyString || (rec.Key.Type == asb.KeyBytes && rec.Key.Compact) {
			line += strings.Count(string(rec.Key.Bytes), "\n")
		}
	}
	width := len(rec.Namespace)
	if v != asb.Version30 {
		for _, c := range rec.Namespace {
			if c == ' ' || c == '\n' || c == '\\' {
				width++
			}
		}
	}
	return line, 5 + width
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
			if !r.restoreIndex(ix) {
				ok = false
			}
		}
	}
	if n := r.c.SkippedIndexes.Load(); n > 0 {
		r.log.Infof("Skipped %d index(es) with unwanted set(s)", n)
	}
	if n := r.c.MatchedIndexes.Load(); n > 0 {
		r.log.Infof("Skipped %d matched index(es)", n)
	}
	if n := r.c.MismatchedIndexes.Load(); n > 0 {
		r.log.Errorf("Skipped %d mismatched index(es)", n)
	}
	if r.cfg.Wait && !r.waitIndexes() {
		ok = false
	}
	return ok
}
