package restore

import (
	"sync"
	"sync/atomic"
	"time"
)

// Counters are the totals a restore reports in its progress lines and final
// summary. All fields are updated atomically.
type Counters struct {
	// Records is every record read from the backup (including expired and
	// skipped ones).
	Records atomic.Uint64
	// Bytes is the number of backup-file bytes consumed so far.
	Bytes      atomic.Uint64
	Expired    atomic.Uint64
	Skipped    atomic.Uint64
	ErrIgnored atomic.Uint64
	Inserted   atomic.Uint64
	Existed    atomic.Uint64
	Fresher    atomic.Uint64
	// Failed counts records that were read but not stored because their
	// write failed (retries exhausted, a permanent error) or because the
	// restore stopped before writing them. The "failed" of the summary is
	// Existed + Fresher (as legacy) + Failed, so that the records read are
	// always expired + skipped + err_ignored + inserted + failed.
	Failed  atomic.Uint64
	Retries atomic.Uint64
	Indexes atomic.Uint32
	UDFs    atomic.Uint32

	SkippedIndexes    atomic.Uint32
	MatchedIndexes    atomic.Uint32
	MismatchedIndexes atomic.Uint32
}

// Summary is a snapshot of the counters.
type Summary struct {
	Records, Bytes, Expired, Skipped, ErrIgnored, Inserted, Existed, Fresher, Failed, Retries uint64
	Indexes, UDFs                                                                             uint32
}

// Snapshot returns the current values.
func (c *Counters) Snapshot() Summary {
	return Summary{
		Records: c.Records.Load(), Bytes: c.Bytes.Load(), Expired: c.Expired.Load(), Skipped: c.Skipped.Load(),
		ErrIgnored: c.ErrIgnored.Load(), Inserted: c.Inserted.Load(), Existed: c.Existed.Load(),
		Fresher: c.Fresher.Load(), Failed: c.Failed.Load(), Retries: c.Retries.Load(),
		Indexes: c.Indexes.Load(), UDFs: c.UDFs.Load(),
	}
}

// progress is the counter goroutine: a progress tick when the restore
// begins, every second, and once more at the end.
type progress struct {
	c         *Counters
	rep       Reporter
	now       func() time.Time
	estimated atomic.Int64 // total input size for the percentage; 0 = unknown
	validate  bool

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func newProgress(c *Counters, rep Reporter, now func() time.Time, validate bool) *progress {
	return &progress{c: c, rep: rep, now: now, validate: validate,
		stop: make(chan struct{}), done: make(chan struct{})}
}

func (p *progress) setEstimated(n int64) { p.estimated.Store(n) }

func (p *progress) start() {
	p.tick(true, false)
	go p.run()
}

// finish makes the goroutine report the last tick and waits for it.
func (p *progress) finish() {
	p.once.Do(func() { close(p.stop) })
	<-p.done
}

func (p *progress) tick(first, last bool) {
	s := p.c.Snapshot()
	if p.validate {
		s.Retries = 0
	}
	p.rep.Progress(Progress{Counts: s, Estimated: p.estimated.Load(), Time: p.now(), First: first, Last: last})
}

func (p *progress) run() {
	defer close(p.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			p.tick(false, true)
			return
		case <-t.C:
			p.tick(false, false)
		}
	}
}
