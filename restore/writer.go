package restore

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"
	"golang.org/x/sync/errgroup"

	"asbtools/asb"
	"asbtools/clusterconn"
	"asbtools/msg"
)

// wbin is one bin of a queued record; its value is arena[start:end].
type wbin struct {
	name       string
	pt         int32
	start, end int32
	null       bool
}

// witem is one queued record. Key bytes are arena[kStart:kEnd]; an integer
// key is keyNum, a float key the IEEE bits in keyNum.
type witem struct {
	ns, set          string
	keyNum           int64
	kStart, kEnd     int32
	binStart, binEnd int32
	gen, ttl         uint32
	digest           [20]byte
	keyType          asb.KeyType
}

// batch is a group of records read from a backup, waiting to be written
// with one batch call (or one by one without batch writes). It holds only
// the records' own bytes; the client objects live in the writer that
// handles it. Batches are recycled through a free list, so their slices
// keep their capacity.
type batch struct {
	items []witem
	bins  []wbin
	arena []byte
}

func (b *batch) reset() {
	b.items = b.items[:0]
	b.bins = b.bins[:0]
	b.arena = b.arena[:0]
}

// wstate is one writer goroutine's reusable client objects: keys, bin
// values, operations, policies and batch records of the batch it writes.
type wstate struct {
	keys     []*as.Key
	values   []as.RawBlobValue
	opv      []as.Operation
	opp      []*as.Operation
	policies []as.BatchWritePolicy
	bws      []as.BatchWrite
	recs     []as.BatchRecordIfc
	pending  []int
	// retried marks the records of the batch that are being retried.
	retried []bool
}

// release drops the references to client objects (keys, results) so that
// an idle writer keeps only its buffers alive.
func (s *wstate) release() {
	clear(s.keys)
	clear(s.bws)
	clear(s.recs)
	clear(s.opv)
	s.recs = s.recs[:0]
}

// grow returns s with length n, reusing its capacity when possible.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4)
	}
	return s[:n]
}

// add appends rec (already filtered: bins are the indexes of the bins to
// write) to the batch; names turns the i-th bin's name into a string.
func (b *batch) add(rec *asb.Record, ns, set string, ttl uint32, bins []int, names func(i int, name []byte) string) {
	it := witem{ns: ns, set: set, keyType: rec.Key.Type, digest: rec.Digest, gen: uint32(rec.Generation), ttl: ttl}
	switch rec.Key.Type {
	case asb.KeyInt:
		it.keyNum = rec.Key.Int
	case asb.KeyFloat:
		it.keyNum = int64(math.Float64bits(rec.Key.Float))
	}
	if len(rec.Key.Bytes) > 0 {
		it.kStart = int32(len(b.arena))
		b.arena = append(b.arena, rec.Key.Bytes...)
		it.kEnd = int32(len(b.arena))
	}
	it.binStart = int32(len(b.bins))
	for _, i := range bins {
		bin := &rec.Bins[i]
		wb := wbin{name: names(i, bin.Name)}
		if bin.Type == asb.BinNil {
			wb.null = true
		} else {
			start := len(b.arena)
			var pt asb.ParticleType
			pt, b.arena = bin.AppendWire(b.arena)
			wb.pt, wb.start, wb.end = int32(pt), int32(start), int32(len(b.arena))
		}
		b.bins = append(b.bins, wb)
	}
	it.binEnd = int32(len(b.bins))
	b.items = append(b.items, it)
}

// size returns the bytes held by the batch.
func (b *batch) size() int { return len(b.arena) }

// outcome is the class of a C client status code, as the legacy tool sorts
// the results of its write transactions and of their records.
type outcome int

const (
	outInserted outcome = iota
	outFresher
	outExisted
	outRecordError // record-specific permanent error: err_ignored
	outPermanent   // permanent error of the transaction
	outBatchDisabled
	outRetry // transient: the write is retried
)

// classify sorts a C client status code (clusterconn.ErrorStatus) like the
// legacy tool: the record outcomes, the permanent errors that retrying
// cannot resolve, and every other code, which is transient (timeouts,
// connection errors, unavailable nodes or partitions, device overload,
// key busy, no response ...).
func classify(code int) outcome {
	switch code {
	case 0:
		return outInserted
	case 3: // AEROSPIKE_ERR_RECORD_GENERATION
		return outFresher
	case 5: // AEROSPIKE_ERR_RECORD_EXISTS
		return outExisted
	case 13, 19, 21, 10, 22, 12, 17: // record too big, key mismatch, bin name, always/fail forbidden, bin type, bin not found
		return outRecordError
	case clusterconn.StatusMaxRetries, clusterconn.StatusParam, clusterconn.StatusClient,
		4, 8, 16, 20, 25, 26, 27, // request invalid, server full, unsupported feature, namespace not found, enterprise only, op not applicable, filtered out
		51, 52, 53, 54, 55, 56, 66, 70, 80, 81, 82, // security, invalid command/field, illegal state, session, role, authentication, whitelist
		160, 202, 203: // invalid GeoJSON, index out of memory, index not readable
		return outPermanent
	case 150: // AEROSPIKE_ERR_BATCH_DISABLED
		return outBatchDisabled
	}
	return outRetry
}

// writerConfig holds the write policy settings.
type writerConfig struct {
	client        *as.Client
	batchWrites   bool
	unique        bool
	replace       bool
	noGeneration  bool
	ignoreErrors  bool
	maxRetries    int64
	scale         time.Duration
	socketTimeout time.Duration
	totalTimeout  time.Duration
}

// writers is the pool of goroutines that write batches. They run under an
// errgroup whose context is cancelled when the caller cancels the restore
// (the legacy interrupt) or when a write fails: the writers then drop the
// batches still queued and end their retry back-offs (a write in flight
// completes). A reader's failure does not stop them: as with the legacy
// tool, the batches already handed over are written.
type writers struct {
	cfg    writerConfig
	policy as.BatchWritePolicy
	c      *Counters
	rep    Reporter
	queue  chan *batch
	free   chan *batch
	g      *errgroup.Group
	ctx    context.Context
	// cancel stops the writers at once when one fails.
	cancel context.CancelFunc

	// exhausted is set by the first writer that runs out of retries:
	// like the legacy tool, only that one reports it (the others stop
	// silently).
	exhausted atomic.Bool
	// onStop stops the restore (its readers) when a write fails.
	onStop func()
}

// errWriteFailed ends a writer whose write failed (the failure was
// reported); it cancels the other writers.
var errWriteFailed = errors.New("restore: write failed")

// writersPerNode is the number of concurrent batch writes per cluster node
// (at most --max-async-batches in all): enough to keep a node's ingest
// busy, few enough to keep the records in flight, and the memory they
// hold, small.
const writersPerNode = 8

// queueDepth is the number of filled batches waiting for a writer: enough
// to keep the writers busy, small enough to bound memory.
const queueDepth = 4

// newWriters starts n writers; cancelling ctx stops them.
func newWriters(ctx context.Context, cfg writerConfig, n int, c *Counters, rep Reporter, onStop func()) *writers {
	w := &writers{cfg: cfg, policy: basePolicy(cfg.unique, cfg.replace, cfg.noGeneration), c: c, rep: rep,
		queue: make(chan *batch, min(n, queueDepth)), free: make(chan *batch, n+queueDepth+4), onStop: onStop}
	ctx, w.cancel = context.WithCancel(ctx)
	w.g, w.ctx = errgroup.WithContext(ctx)
	for i := 0; i < n; i++ {
		w.g.Go(w.loop)
	}
	return w
}

// stopped reports whether the writers stop (cancelled or failed).
func (w *writers) stopped() bool { return w.ctx.Err() != nil }

// failf reports a write failure at once (the restore stops).
func (w *writers) failf(format string, a ...any) { w.rep.Failed(msg.New(msg.Err(format, a...))) }

// get returns an empty batch.
func (w *writers) get() *batch {
	select {
	case b := <-w.free:
		return b
	default:
		return &batch{}
	}
}

func (w *writers) put(b *batch) {
	b.reset()
	if cap(b.arena) > 4<<20 {
		b.arena = nil
	}
	select {
	case w.free <- b:
	default:
	}
}

// submit queues a batch for writing (blocks while all writers are busy);
// once the writers stop, its records are dropped.
func (w *writers) submit(b *batch) {
	if len(b.items) == 0 || w.stopped() {
		w.dropped(len(b.items))
		w.put(b)
		return
	}
	select {
	case w.queue <- b:
	case <-w.ctx.Done():
		w.dropped(len(b.items))
		w.put(b)
	}
}

// close waits for every queued batch to be written (or dropped, once the
// writers stopped); it reports whether every write succeeded.
func (w *writers) close() bool {
	close(w.queue)
	err := w.g.Wait()
	w.cancel()
	// Writers that failed left at once: what they left queued is dropped.
	for b := range w.queue {
		w.dropped(len(b.items))
		w.put(b)
	}
	return err == nil
}

// fail stops the restore after a write failure that was reported, and
// returns the error that ends the writer (and cancels the others).
func (w *writers) fail() error {
	w.cancel()
	if w.onStop != nil {
		w.onStop()
	}
	return errWriteFailed
}

func (w *writers) loop() error {
	var s wstate
	for b := range w.queue {
		var err error
		switch {
		case w.stopped():
			w.dropped(len(b.items))
		case w.cfg.batchWrites:
			err = w.writeBatch(&s, b)
		default:
			err = w.writeSingles(&s, b)
		}
		s.release()
		w.put(b)
		if err != nil {
			return err
		}
	}
	return nil
}

// maxRetryDelay caps the back-off so that the shift cannot overflow.
const maxRetryDelay = time.Hour

// retryStatus is the legacy retry state of one transaction: the number of
// retries granted so far.
type retryStatus struct {
	attempts int64
}

// next grants the next retry of a transaction that failed transiently and
// returns the delay to wait before it: none before the first retry, then
// scale × 2^(k−2) before retry k (150, 300, 600 ms ... for the default
// scale). It reports false once maxRetries retries were granted.
func (r *retryStatus) next(scale time.Duration, maxRetries int64) (time.Duration, bool) {
	if r.attempts >= maxRetries {
		return 0, false
	}
	r.attempts++
	if r.attempts == 1 || scale <= 0 {
		return 0, true
	}
	shift := r.attempts - 2
	if shift >= 62 || scale > maxRetryDelay>>uint(shift) {
		return maxRetryDelay, true
	}
	return scale << uint(shift), true
}

// sleep waits d, returning early (false) when the writers stop.
func (w *writers) sleep(d time.Duration) bool {
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-w.ctx.Done():
		}
	}
	return !w.stopped()
}

// key builds the client key of one queued record.
func key(b *batch, it *witem) (*as.Key, error) {
	// Client values are passed as they are (no second conversion).
	var v any
	switch it.keyType {
	case asb.KeyInt:
		v = as.LongValue(it.keyNum)
	case asb.KeyFloat:
		v = as.FloatValue(math.Float64frombits(uint64(it.keyNum)))
	case asb.KeyString, asb.KeyString64:
		v = as.StringValue(b.arena[it.kStart:it.kEnd])
	case asb.KeyBytes:
		v = as.BytesValue(b.arena[it.kStart:it.kEnd:it.kEnd])
	}
	return as.NewKeyWithDigest(it.ns, it.set, v, it.digest[:])
}

// prepare builds the client keys, bin values, operations and write
// policies of every record of b into s; they serve every attempt.
func (w *writers) prepare(s *wstate, b *batch) error {
	n := len(b.items)
	s.keys = grow(s.keys, n)
	s.values = grow(s.values, len(b.bins))
	s.opv = grow(s.opv, len(b.bins))
	s.opp = grow(s.opp, len(b.bins))
	s.policies = grow(s.policies, n)
	for k := range b.bins {
		wb := &b.bins[k]
		if wb.null {
			s.opv[k] = *as.PutOp(&as.Bin{Name: wb.name, Value: as.NewNullValue()})
		} else {
			s.values[k] = as.RawBlobValue{ParticleType: int(wb.pt), Data: b.arena[wb.start:wb.end:wb.end]}
			s.opv[k] = *as.PutOp(&as.Bin{Name: wb.name, Value: &s.values[k]})
		}
		s.opp[k] = &s.opv[k]
	}
	for i := range b.items {
		it := &b.items[i]
		k, err := key(b, it)
		if err != nil {
			return err
		}
		s.keys[i] = k
		p := &s.policies[i]
		*p = w.policy
		p.Generation = it.gen
		p.SendKey = it.keyType != asb.KeyNone
		p.Expiration = it.ttl
	}
	return nil
}

// ops returns the operations of the i-th record of a prepared batch.
func (s *wstate) ops(b *batch, i int) []*as.Operation {
	it := &b.items[i]
	return s.opp[it.binStart:it.binEnd:it.binEnd]
}

// basePolicy returns the batch write policy shared by every record (the
// legacy write-policy mapping of --unique, --replace and --no-generation);
// generation, TTL and send-key are set per record.
func basePolicy(unique, replace, noGeneration bool) as.BatchWritePolicy {
	p := *as.NewBatchWritePolicy()
	p.RecordExistsAction = as.UPDATE
	switch {
	case unique:
		p.RecordExistsAction = as.CREATE_ONLY
	case replace:
		p.RecordExistsAction = as.REPLACE
	}
	p.GenerationPolicy = as.EXPECT_GEN_GT
	if noGeneration {
		p.GenerationPolicy = as.NONE
	}
	return p
}

// account counts one record outcome (code: C client status of a record
// that was not retried); it returns false when the restore must stop.
func (w *writers) account(code int) bool {
	switch classify(code) {
	case outInserted:
		w.c.Inserted.Add(1)
	case outFresher:
		w.c.Fresher.Add(1)
	case outExisted:
		w.c.Existed.Add(1)
	case outRecordError:
		w.c.ErrIgnored.Add(1)
		if !w.cfg.ignoreErrors {
			w.failf("Error while storing record - code %d", code)
			return false
		}
	default:
		w.c.Failed.Add(1)
		w.failf("Error while storing record - code %d", code)
		return false
	}
	return true
}

// retriedOutcome returns the code a record result is counted as. A write
// that is retried after a transient failure may have been applied by the
// attempt that failed (the node stored it but its answer was lost); the
// retry is then refused by the generation check (or, with --unique, as an
// existing record). Such a record was stored by this restore and is
// counted as inserted, not as fresher or existed.
func retriedOutcome(code int, retried bool) int {
	if retried && (code == 3 || code == 5) {
		return 0
	}
	return code
}

// dropped counts n records that will not be written because the restore
// stops.
func (w *writers) dropped(n int) {
	w.c.Failed.Add(uint64(n))
}

// transactionError prints the legacy line of a transaction that failed
// with a permanent error.
func (w *writers) transactionError(code int) {
	if classify(code) == outBatchDisabled {
		w.failf("Batch writes appear to be disabled, turn them off by passing --disable-batch-writes to asrestore")
		return
	}
	w.failf("Error while storing record - code %d: %s", code, clusterconn.StatusName(code))
}

// rowStatus returns the C client status of one record of a batch: the
// server's result, or when the record's node failed, the status of that
// failure (a record that got no answer is retried).
func rowStatus(br *as.BatchRecord) int {
	if br.ResultCode >= 0 {
		return int(br.ResultCode)
	}
	code := clusterconn.CStatus(br.ResultCode)
	if br.Err != nil {
		code = clusterconn.ErrorStatus(br.Err)
	}
	if code == clusterconn.StatusMaxRetries {
		code = clusterconn.StatusNoResponse
	}
	return code
}

// writeBatch writes the records of b with batch writes. A batch whose
// transaction fails transiently, or some of whose records fail
// transiently, is retried (those records only) with the legacy back-off;
// every retry maps the keys to nodes with the client's current partition
// map. A failure (reported) is errWriteFailed.
func (w *writers) writeBatch(s *wstate, b *batch) error {
	if err := w.prepare(s, b); err != nil {
		w.transactionError(clusterconn.ErrorStatus(err))
		w.dropped(len(b.items))
		return w.fail()
	}
	s.bws = grow(s.bws, len(b.items))
	s.pending = s.pending[:0]
	s.retried = grow(s.retried, len(b.items))
	for i := range b.items {
		s.pending = append(s.pending, i)
		s.retried[i] = false
	}
	bp := as.NewBatchPolicy()
	bp.MaxRetries = 0
	bp.SocketTimeout = w.cfg.socketTimeout
	bp.TotalTimeout = w.cfg.totalTimeout
	bp.RespondAllKeys = true
	// Like the legacy asynchronous batches, send the sub-batches of all
	// nodes at once.
	bp.ConcurrentNodes = 0
	var rs retryStatus
	for {
		if w.stopped() {
			w.dropped(len(s.pending))
			return nil
		}
		s.recs = s.recs[:0]
		for _, i := range s.pending {
			s.bws[i] = *as.NewBatchWrite(&s.policies[i], s.keys[i], s.ops(b, i)...)
			s.recs = append(s.recs, &s.bws[i])
		}
		txn := clusterconn.ErrorStatus(w.cfg.client.BatchOperate(bp, s.recs))
		if c := classify(txn); c == outPermanent || c == outBatchDisabled {
			// Permanent error of the whole transaction.
			w.transactionError(txn)
			w.dropped(len(s.pending))
			return w.fail()
		}
		// Records with a result are counted; records that failed
		// transiently (or got no answer because their node's
		// transaction failed) are retried.
		next := s.pending[:0]
		ok := true
		lastCode := 0
		for j, i := range s.pending {
			code := rowStatus(s.recs[j].BatchRec())
			if classify(code) == outRetry {
				next = append(next, i)
				s.retried[i] = true
				lastCode = code
				continue
			}
			if !w.account(retriedOutcome(code, s.retried[i])) {
				ok = false
			}
		}
		s.pending = next
		if !ok {
			w.dropped(len(s.pending))
			return w.fail()
		}
		if len(s.pending) == 0 {
			return nil
		}
		w.c.Retries.Add(1)
		delay, again := rs.next(w.cfg.scale, w.cfg.maxRetries)
		if !again {
			if !w.stopped() && w.exhausted.CompareAndSwap(false, true) {
				if txn == 0 || txn == clusterconn.StatusBatchFailed {
					// Only some records failed: the legacy line of a
					// record error.
					w.failf("Error while storing record - code %d", lastCode)
				}
				w.failf("Max batch-write retries exceeded (%d)", rs.attempts)
			}
			w.dropped(len(s.pending))
			return w.fail()
		}
		if !w.sleep(delay) {
			w.dropped(len(s.pending))
			return nil
		}
	}
}

// writeSingles writes the records of b one by one (without batch writes),
// retrying each record that fails transiently with the legacy back-off.
// A failure (reported) is errWriteFailed.
func (w *writers) writeSingles(s *wstate, b *batch) error {
	if err := w.prepare(s, b); err != nil {
		w.transactionError(clusterconn.ErrorStatus(err))
		w.dropped(len(b.items))
		return w.fail()
	}
	wp := as.NewWritePolicy(0, 0)
	wp.MaxRetries = 0
	wp.SocketTimeout = w.cfg.socketTimeout
	wp.TotalTimeout = w.cfg.totalTimeout
	wp.RecordExistsAction = w.policy.RecordExistsAction
	wp.GenerationPolicy = w.policy.GenerationPolicy
	for i := range b.items {
		p := &s.policies[i]
		wp.Generation, wp.SendKey, wp.Expiration = p.Generation, p.SendKey, p.Expiration
		key, ops := s.keys[i], s.ops(b, i)
		var rs retryStatus
		for {
			if w.stopped() {
				w.dropped(len(b.items) - i)
				return nil
			}
			_, err := w.cfg.client.Operate(wp, key, ops...)
			code := clusterconn.ErrorStatus(err)
			switch classify(code) {
			case outRetry:
				w.c.Retries.Add(1)
				delay, again := rs.next(w.cfg.scale, w.cfg.maxRetries)
				if !again {
					if !w.stopped() && w.exhausted.CompareAndSwap(false, true) {
						w.failf("Max key-put retries exceeded (%d)", rs.attempts)
					}
					w.dropped(len(b.items) - i)
					return w.fail()
				}
				if !w.sleep(delay) {
					w.dropped(len(b.items) - i)
					return nil
				}
				continue
			case outPermanent, outBatchDisabled:
				w.transactionError(code)
				w.dropped(len(b.items) - i)
				return w.fail()
			}
			if !w.account(retriedOutcome(code, rs.attempts > 0)) {
				w.dropped(len(b.items) - i - 1)
				return w.fail()
			}
			break
		}
	}
	return nil
}
