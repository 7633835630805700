package restore

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"asbtools/logging"
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
	// Failed counts records whose write was given up (retries exhausted or
	// a permanent error) and which are therefore not in the cluster.
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

// FormatETA formats seconds the legacy way: units d/h/m/s, leading zero
// units omitted, all smaller units after the first printed one; negative
// values give "0s", more than 100 days ">100d".
func FormatETA(secs int64) string {
	if secs < 0 {
		secs = 0
	}
	if secs > 100*86400 {
		return ">100d"
	}
	d, h, m, s := secs/86400, secs/3600%24, secs/60%60, secs%60
	switch {
	case d > 0:
		return fmt.Sprintf("%dd%dh%dm%ds", d, h, m, s)
	case h > 0:
		return fmt.Sprintf("%dh%dm%ds", h, m, s)
	case m > 0:
		return fmt.Sprintf("%dm%ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

// progress is the counter goroutine: it prints the progress lines after
// about a second, then every ten seconds, and once more at the end, and
// writes the --machine file.
type progress struct {
	c         *Counters
	log       *logging.Logger
	estimated int64 // total input size for the percentage; 0 = unknown
	validate  bool
	mach      *os.File

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func newProgress(c *Counters, log *logging.Logger, estimated int64, validate bool, mach *os.File) *progress {
	return &progress{c: c, log: log.WithTID(os.Getpid() + 1), estimated: estimated, validate: validate, mach: mach,
		stop: make(chan struct{}), done: make(chan struct{})}
}

func (p *progress) setEstimated(n int64) { atomic.StoreInt64(&p.estimated, n) }

func (p *progress) start() { go p.run() }

// finish makes the goroutine print the final lines and waits for it.
func (p *progress) finish() {
	p.once.Do(func() { close(p.stop) })
	<-p.done
}

func (p *progress) run() {
	defer close(p.done)
	prev := time.Now()
	printPrev := prev
	var prevBytes, machPrevBytes, prevRecords uint64
	iter := 0
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		last := false
		select {
		case <-p.stop:
			last = true
		case <-t.C:
		}
		now := time.Now()
		ms := uint64(now.Sub(prev).Milliseconds())
		prev = now
		s := p.c.Snapshot()
		est := uint64(atomic.LoadInt64(&p.estimated))
		percent := int64(-1)
		if est != 0 {
			percent = int64(s.Bytes * 100 / est)
		}
		retries := s.Retries
		if p.validate {
			retries = 0
		}
		if last || iter%10 == 0 {
			bytes := s.Bytes - prevBytes
			records := s.Records - prevRecords
			pms := uint64(now.Sub(printPrev).Milliseconds())
			printPrev = now
			var rps, kps, bpr uint64
			if pms != 0 {
				rps = records * 1000 / pms
				kps = bytes * 1000 / 1024 / pms
			}
			if records != 0 {
				bpr = bytes / records
			}
			p.log.Infof("%d UDF file(s), %d secondary index(es), %d record(s) (%d rec/s, %d KiB/s, %d B/rec, retries: %d)",
				s.UDFs, s.Indexes, s.Records, rps, kps, bpr, retries)
			p.log.Infof("Expired %d : skipped %d : err_ignored %d : inserted %d: failed %d (existed %d , fresher %d)",
				s.Expired, s.Skipped, s.ErrIgnored, s.Inserted, s.Existed+s.Fresher, s.Existed, s.Fresher)
			eta := int64(-1)
			if bytes != 0 && est != 0 {
				eta = int64((est - min(s.Bytes, est)) * pms / bytes / 1000)
				if s.Bytes > est {
					eta = 0
				}
			}
			if percent >= 0 && eta >= 0 {
				p.log.Infof("%d%% complete, ~%s remaining", percent, FormatETA(eta))
			}
			prevBytes = s.Bytes
			prevRecords = s.Records
		}
		iter++
		if p.mach != nil {
			if percent >= 0 {
				fmt.Fprintf(p.mach, "PROGRESS:%d\n", percent)
			}
			bytes := s.Bytes - machPrevBytes
			if bytes != 0 && est != 0 && ms != 0 {
				eta := int64(0)
				if s.Bytes < est {
					eta = int64((est - s.Bytes) * ms / bytes / 1000)
				}
				fmt.Fprintf(p.mach, "REMAINING:%s\n", FormatETA(eta))
			}
			machPrevBytes = s.Bytes
			if last {
				fmt.Fprintf(p.mach, "SUMMARY:%d:%d:%d:%d:%d:%d :%d:%d:%d\n", s.UDFs, s.Indexes, s.Records,
					s.Expired, s.Skipped, s.ErrIgnored, s.Inserted, s.Existed, s.Fresher)
			}
		}
		if last {
			return
		}
	}
}
