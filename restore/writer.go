package restore

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"
	"github.com/aerospike/aerospike-client-go/v7/types"

	"asbtools/asb"
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

// writeOutcome classes of a result code, as the legacy tool sorts them.
type outcome int

const (
	outInserted outcome = iota
	outFresher
	outExisted
	outRecordError // record-specific permanent error: err_ignored
	outPermanent   // permanent error of the transaction
	outBatchDisabled
	outRetry
)

func classify(rc types.ResultCode) outcome {
	switch rc {
	case types.OK:
		return outInserted
	case types.GENERATION_ERROR:
		return outFresher
	case types.KEY_EXISTS_ERROR:
		return outExisted
	case types.RECORD_TOO_BIG, types.KEY_MISMATCH, types.BIN_NAME_TOO_LONG, types.ALWAYS_FORBIDDEN,
		types.FAIL_FORBIDDEN, types.BIN_TYPE_ERROR, types.BIN_NOT_FOUND:
		return outRecordError
	case types.MAX_RETRIES_EXCEEDED, types.PARAMETER_ERROR, types.COMMON_ERROR, types.SERVER_MEM_ERROR,
		types.UNSUPPORTED_FEATURE, types.INVALID_NAMESPACE, types.ENTERPRISE_ONLY, types.OP_NOT_APPLICABLE,
		types.FILTERED_OUT, types.SECURITY_NOT_SUPPORTED, types.SECURITY_NOT_ENABLED,
		types.SECURITY_SCHEME_NOT_SUPPORTED, types.INVALID_COMMAND, types.INVALID_FIELD, types.ILLEGAL_STATE,
		types.EXPIRED_SESSION, types.INVALID_ROLE, types.NOT_AUTHENTICATED, types.ROLE_VIOLATION,
		types.NOT_WHITELISTED, types.GEO_INVALID_GEOJSON, types.INDEX_OOM, types.INDEX_NOTREADABLE,
		types.SERIALIZE_ERROR, types.TYPE_NOT_SUPPORTED:
		return outPermanent
	case types.BATCH_DISABLED:
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

// writers is the pool of goroutines that write batches.
type writers struct {
	cfg    writerConfig
	policy as.BatchWritePolicy
	c      *Counters
	rep    Reporter
	queue  chan *batch
	free   chan *batch
	wg     sync.WaitGroup

	stopped atomic.Bool
	failed  atomic.Bool
	onStop  func()
}

// writersPerNode is the number of concurrent batch writes per cluster node
// (at most --max-async-batches in all): enough to keep a node's ingest
// busy, few enough to keep the records in flight, and the memory they
// hold, small.
const writersPerNode = 8

// queueDepth is the number of filled batches waiting for a writer: enough
// to keep the writers busy, small enough to bound memory.
const queueDepth = 4

func newWriters(cfg writerConfig, n int, c *Counters, rep Reporter, onStop func()) *writers {
	w := &writers{cfg: cfg, policy: basePolicy(cfg.unique, cfg.replace, cfg.noGeneration), c: c, rep: rep,
		queue: make(chan *batch, min(n, queueDepth)), free: make(chan *batch, n+queueDepth+4), onStop: onStop}
	for i := 0; i < n; i++ {
		w.wg.Add(1)
		go w.loop()
	}
	return w
}

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

// submit queues a batch for writing (blocks while all writers are busy).
func (w *writers) submit(b *batch) {
	if len(b.items) == 0 || w.stopped.Load() {
		w.put(b)
		return
	}
	w.queue <- b
}

// close waits for every queued batch to be written; it reports whether
// every write succeeded.
func (w *writers) close() bool {
	close(w.queue)
	w.wg.Wait()
	return !w.failed.Load()
}

func (w *writers) abort() {
	w.failed.Store(true)
	if !w.stopped.Swap(true) && w.onStop != nil {
		w.onStop()
	}
}

func (w *writers) loop() {
	defer w.wg.Done()
	var s wstate
	for b := range w.queue {
		if !w.stopped.Load() {
			if w.cfg.batchWrites {
				w.writeBatch(&s, b)
			} else {
				w.writeSingles(&s, b)
			}
		}
		s.release()
		w.put(b)
	}
}

// maxRetryDelay caps the back-off so that the shift cannot overflow.
const maxRetryDelay = time.Hour

// retryDelay is the legacy back-off before attempt number attempt (0 is
// the first try): none before the first try and the first retry, then
// scale × 2^(attempt−2).
func retryDelay(scale time.Duration, attempt int64) time.Duration {
	if attempt <= 1 || scale <= 0 {
		return 0
	}
	shift := attempt - 2
	if shift >= 62 || scale > maxRetryDelay>>uint(shift) {
		return maxRetryDelay
	}
	return scale << uint(shift)
}

// backoff sleeps before attempt, returning early when the restore stops.
func (w *writers) backoff(attempt int64) {
	d := retryDelay(w.cfg.scale, attempt)
	if d <= 0 {
		return
	}
	deadline := time.Now().Add(d)
	for !w.stopped.Load() {
		left := time.Until(deadline)
		if left <= 0 {
			return
		}
		time.Sleep(min(left, 50*time.Millisecond))
	}
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

// account counts one record outcome; it returns false when the restore
// must stop.
func (w *writers) account(rc types.ResultCode) bool {
	switch classify(rc) {
	case outInserted:
		w.c.Inserted.Add(1)
	case outFresher:
		w.c.Fresher.Add(1)
	case outExisted:
		w.c.Existed.Add(1)
	case outRecordError:
		w.c.ErrIgnored.Add(1)
		if !w.cfg.ignoreErrors {
			w.failf("Error while storing record - code %d", int(rc))
			return false
		}
	default:
		w.c.Failed.Add(1)
		w.failf("Error while storing record - code %d", int(rc))
		return false
	}
	return true
}

func errCode(err as.Error) types.ResultCode {
	if err == nil {
		return types.OK
	}
	if ae, ok := err.(*as.AerospikeError); ok {
		return ae.ResultCode
	}
	return types.COMMON_ERROR
}

func (w *writers) writeBatch(s *wstate, b *batch) {
	if err := w.prepare(s, b); err != nil {
		w.failf("Error while storing record - code %d: %s", int(errCode(err.(as.Error))), err.Error())
		w.c.Failed.Add(uint64(len(b.items)))
		w.abort()
		return
	}
	s.bws = grow(s.bws, len(b.items))
	s.pending = s.pending[:0]
	for i := range b.items {
		s.pending = append(s.pending, i)
	}
	bp := as.NewBatchPolicy()
	bp.MaxRetries = 0
	bp.SocketTimeout = w.cfg.socketTimeout
	bp.TotalTimeout = w.cfg.totalTimeout
	bp.RespondAllKeys = true
	// Like the legacy asynchronous batches, send the sub-batches of all
	// nodes at once.
	bp.ConcurrentNodes = 0
	for attempt := int64(0); ; attempt++ {
		if w.stopped.Load() {
			return
		}
		w.backoff(attempt)
		if w.stopped.Load() {
			return
		}
		s.recs = s.recs[:0]
		for _, i := range s.pending {
			s.bws[i] = *as.NewBatchWrite(&s.policies[i], s.keys[i], s.ops(b, i)...)
			s.recs = append(s.recs, &s.bws[i])
		}
		err := w.cfg.client.BatchOperate(bp, s.recs)
		if err != nil {
			rc := errCode(err)
			switch classify(rc) {
			case outRetry:
				if attempt < w.cfg.maxRetries {
					w.c.Retries.Add(1)
					continue
				}
				w.failf("Max batch-write retries exceeded (%d)", attempt+1)
			case outBatchDisabled:
				w.failf("Batch writes appear to be disabled, turn them off by passing --disable-batch-writes to asrestore")
			default:
				// Row results are valid when the batch as a whole failed
				// only because some rows failed.
				if rc == types.BATCH_FAILED || rc == types.OK {
					break
				}
				w.failf("Error while storing record - code %d: %s", int(rc), err.Error())
			}
			if rc != types.BATCH_FAILED {
				w.c.Failed.Add(uint64(len(s.pending)))
				w.abort()
				return
			}
		}
		next := s.pending[:0]
		ok := true
		var lastRC types.ResultCode
		for j, i := range s.pending {
			rc := s.recs[j].BatchRec().ResultCode
			if classify(rc) == outRetry {
				next = append(next, i)
				lastRC = rc
				continue
			}
			if !w.account(rc) {
				ok = false
			}
		}
		if !ok {
			w.abort()
			return
		}
		if len(next) == 0 {
			return
		}
		s.pending = next
		if attempt >= w.cfg.maxRetries {
			w.c.Failed.Add(uint64(len(next)))
			w.failf("Error while storing record - code %d", int(lastRC))
			w.failf("Max batch-write retries exceeded (%d)", attempt+1)
			w.abort()
			return
		}
		w.c.Retries.Add(1)
	}
}

func (w *writers) writeSingles(s *wstate, b *batch) {
	if err := w.prepare(s, b); err != nil {
		w.failf("Error while storing record - code %d: %s", int(errCode(err.(as.Error))), err.Error())
		w.c.Failed.Add(uint64(len(b.items)))
		w.abort()
		return
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
		for attempt := int64(0); ; attempt++ {
			if w.stopped.Load() {
				return
			}
			w.backoff(attempt)
			if w.stopped.Load() {
				return
			}
			_, err := w.cfg.client.Operate(wp, key, ops...)
			rc := errCode(err)
			if classify(rc) == outRetry {
				if attempt < w.cfg.maxRetries {
					w.c.Retries.Add(1)
					continue
				}
				w.c.Failed.Add(1)
				w.failf("Error while storing record - code %d: %s", int(rc), err.Error())
				w.failf("Max retries exceeded (%d)", attempt+1)
				w.abort()
				return
			}
			if classify(rc) == outPermanent {
				w.c.Failed.Add(1)
				w.failf("Error while storing record - code %d: %s", int(rc), err.Error())
				w.abort()
				return
			}
			if !w.account(rc) {
				w.abort()
				return
			}
			break
		}
	}
}
