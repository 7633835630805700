package backup

import (
	"math"
	"time"

	"asbtools/asb"
	"asbtools/storage"
)

// counter is the legacy counter thread: a progress tick when the backup
// begins, then about every second, and one last when it finishes.
func (e *engine) counter(finished <-chan struct{}) {
	expected := e.count.estimate
	if e.cfg.Estimate {
		expected = uint64(e.cfg.EstimateSamples)
	}
	tick := func(first, last bool) {
		now := e.deps.Clock()
		e.rep.Progress(Progress{Records: e.count.records.Load(), Bytes: e.count.bytes.Load(), Expected: expected,
			Time: now, First: first, Last: last})
	}
	tick(true, false)
	for {
		select {
		case <-time.After(time.Second):
			tick(false, false)
		case <-finished:
			tick(false, true)
			return
		case <-e.life.ctx.Done():
			tick(false, true)
			return
		}
	}
}

// throttle holds the bytes written to the backup files at the --nice rate.
type throttle struct {
	rate  float64 // bytes per second
	start time.Time
	base  uint64
}

func newThrottle(rate, base uint64) *throttle {
	return &throttle{rate: float64(rate), start: time.Now(), base: base}
}

// wait blocks while more bytes than the rate allows have been written.
func (t *throttle) wait(total uint64, stop <-chan struct{}) {
	if total <= t.base {
		return
	}
	ahead := float64(total-t.base)/t.rate - time.Since(t.start).Seconds()
	if ahead <= 0.001 {
		return
	}
	select {
	case <-time.After(time.Duration(ahead * float64(time.Second))):
	case <-stop:
	}
}

// Estimate mode.

// estFile returns the discarding output of an estimate run.
func (e *engine) estFile() *storage.File {
	if e.out.single == nil {
		f, err := storage.CreateOn(e.out.estW, "/dev/null", e.cfg.Namespace, e.firstVer, e.streamO)
		if err != nil {
			panic(err) // only fails on invalid stream options, checked earlier
		}
		e.out.single = f
	}
	return e.out.single
}

// estRecord writes one sampled record of an estimate run and records its
// uncompressed encoded size.
func (e *engine) estRecord(s *jobSink, r *asb.Record) error {
	e.out.writeMu.Lock()
	defer e.out.writeMu.Unlock()
	f := e.estFile()
	w := f.ASB()
	off := w.Offset()
	before := f.Size()
	if err := w.WriteRecord(r); err != nil {
		return err
	}
	e.count.samples = append(e.count.samples, uint64(w.Offset()-off))
	if err := f.Commit(); err != nil {
		return err
	}
	e.addBytes(s, f.Size()-before)
	return nil
}

// estFlush flushes the estimate output after the scan.
func (e *engine) estFlush() {
	e.out.writeMu.Lock()
	defer e.out.writeMu.Unlock()
	f := e.estFile()
	_ = f.Flush()
	e.count.bytes.Store(f.Size())
}

func recordStats(s []uint64) (total uint64, mean, variance float64) {
	if len(s) <= 1 {
		return 0, 0, 0
	}
	for _, v := range s {
		total += v
	}
	mean = float64(total) / float64(len(s))
	for _, v := range s {
		d := float64(v) - mean
		variance += d * d
	}
	variance /= float64(len(s) - 1)
	return
}

func confidenceZ(p float64, n uint64) float64 {
	q := (1 - p) / float64(n)
	return math.Sqrt2 * -math.Erfinv(q*2-1)
}

// estimatedFileSize is the expected size of the whole backup file (legacy
// estimate_total_backup_size): the preamble plus the expected record count
// times the mean sampled size scaled by the output ratio, with a 99.9 %
// confidence margin.
func (e *engine) estimatedFileSize(total uint64, mean, variance float64) uint64 {
	n := len(e.count.samples)
	size := e.count.header
	if R := e.count.estimate; R > 0 {
		ratio := float64(e.count.bytes.Load()) / float64(total+e.count.header)
		extra := 0.0
		if n > 0 {
			extra = confidenceZ(0.999, R) * math.Sqrt(variance/float64(n))
		}
		size += uint64(math.Ceil(float64(R) * (ratio*mean + extra)))
	}
	return size
}

// showEstimate reports the result of --estimate (legacy show_estimate).
func (e *engine) showEstimate() {
	f := e.estFile()
	_ = f.Flush() // a discarding writer
	e.count.bytes.Store(f.Size())
	n := len(e.count.samples)
	total, mean, variance := recordStats(e.count.samples)
	upper := uint64(0)
	if n > 1 {
		upper = uint64(math.Ceil(mean + confidenceZ(0.999999, 1)*math.Sqrt(variance/float64(n))))
	}
	est := Estimate{Records: e.count.estimate, RecordSize: upper, Compressed: e.streamO.Compress}
	if est.Compressed {
		est.Ratio = float64(f.Size()) / float64(f.ASB().Offset())
	}
	est.FileSize = e.estimatedFileSize(total, mean, variance)
	e.rep.Estimate(est)
}
