package backup

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"time"

	"asbtools/asb"
	"asbtools/storage"
)

// FormatETA formats seconds like the legacy tool: d/h/m/s units, leading
// zero units omitted, all smaller units after the first printed one;
// negative means 0s and more than 100 days ">100d".
func FormatETA(seconds int64) string {
	if seconds > 100*86400 {
		return ">100d"
	}
	if seconds < 0 {
		seconds = 0
	}
	divs := []int64{86400, 3600, 60, 1}
	labels := "dhms"
	out := ""
	printed := false
	for i, d := range divs {
		v := seconds / d
		if v == 0 && !printed && i < 3 {
			continue
		}
		seconds -= v * d
		out += strconv.FormatInt(v, 10) + string(labels[i])
		printed = true
	}
	return out
}

// counter is the legacy counter thread: progress lines (first after ~1 s,
// then every ~10 s, while below 100 %), machine-readable progress, and one
// last evaluation when the backup finishes.
func (e *engine) counter(mach *os.File, finished <-chan struct{}) {
	prev := time.Now()
	printPrev := prev
	printBytes, printRecs := e.byteTotal.Load(), e.recTotal.Load()
	machPrev := printRecs
	iter := 0
	for {
		done := false
		select {
		case <-time.After(time.Second):
		case <-finished:
			done = true
		case <-e.ctx.Done():
			done = true
		}
		now := time.Now()
		ms := uint64(now.Sub(prev).Milliseconds())
		prev = now
		nRecs := e.recEstimate
		if e.cfg.Estimate {
			nRecs = uint64(e.cfg.EstimateSamples)
		}
		if nRecs > 0 {
			nowBytes, nowRecs := e.byteTotal.Load(), e.recTotal.Load()
			pct := int64(nowRecs * 100 / nRecs)
			if pct < 100 {
				if iter%10 == 0 {
					pms := uint64(now.Sub(printPrev).Milliseconds())
					printPrev = now
					bytes, recs := nowBytes-printBytes, nowRecs-printRecs
					eta := int64(-1)
					if recs > 0 && pms > 0 {
						eta = int64((nRecs - nowRecs) * pms / recs / 1000)
					}
					printRecs, printBytes = nowRecs, nowBytes
					var kps, rps, bpr uint64
					if pms > 0 {
						kps, rps = bytes*1000/1024/pms, recs*1000/pms
					}
					if recs > 0 {
						bpr = bytes / recs
					}
					e.infof("%d%% complete (~%d KiB/s, ~%d rec/s, ~%d B/rec)", pct, kps, rps, bpr)
					if eta >= 0 {
						e.infof("~%s remaining", FormatETA(eta))
					}
				}
				iter++
				if mach != nil {
					recs := nowRecs - machPrev
					machPrev = nowRecs
					fmt.Fprintf(mach, "PROGRESS:%d\n", pct)
					if recs > 0 && ms > 0 {
						fmt.Fprintf(mach, "REMAINING:%s\n", FormatETA(int64((nRecs-nowRecs)*ms/recs/1000)))
					}
				}
			}
		}
		if done {
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
	if e.single == nil {
		f, err := storage.CreateOn(e.estW, "/dev/null", e.cfg.Namespace, e.firstVer, e.streamO)
		if err != nil {
			panic(err) // only fails on invalid stream options, checked earlier
		}
		e.single = f
	}
	return e.single
}

// estRecord writes one sampled record of an estimate run and records its
// uncompressed encoded size.
func (e *engine) estRecord(s *jobSink, r *asb.Record) error {
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	f := e.estFile()
	w := f.ASB()
	off := w.Offset()
	before := f.Size()
	if err := w.WriteRecord(r); err != nil {
		return err
	}
	e.samples = append(e.samples, uint64(w.Offset()-off))
	if err := f.Commit(); err != nil {
		return err
	}
	e.addBytes(s, f.Size()-before)
	return nil
}

// estFlush flushes the estimate output after the scan.
func (e *engine) estFlush() {
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	f := e.estFile()
	_ = f.Flush()
	e.byteTotal.Store(f.Size())
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
	n := len(e.samples)
	size := e.header
	if R := e.recEstimate; R > 0 {
		ratio := float64(e.byteTotal.Load()) / float64(total+e.header)
		extra := 0.0
		if n > 0 {
			extra = confidenceZ(0.999, R) * math.Sqrt(variance/float64(n))
		}
		size += uint64(math.Ceil(float64(R) * (ratio*mean + extra)))
	}
	return size
}

// showEstimate prints the estimate lines (legacy show_estimate).
func (e *engine) showEstimate(mach *os.File) {
	f := e.estFile()
	_ = f.Flush()
	e.byteTotal.Store(f.Size())
	n := len(e.samples)
	total, mean, variance := recordStats(e.samples)
	upper := uint64(0)
	if n > 1 {
		upper = uint64(math.Ceil(mean + confidenceZ(0.999999, 1)*math.Sqrt(variance/float64(n))))
	}
	if e.streamO.Compress {
		raw := f.ASB().Offset()
		ratio := float64(f.Size()) / float64(raw)
		e.infof("Estimated overall record size before compression is %d byte(s)", upper)
		e.infof("Approximate compression ratio is %s%%", strconv.FormatFloat(100*ratio, 'g', 6, 64))
	} else {
		e.infof("Estimated overall record size is %d byte(s)", upper)
	}
	if mach != nil {
		if _, err := fmt.Fprintf(mach, "ESTIMATE:%d:%d\n", e.recEstimate, upper); err != nil {
			e.errf("Error while writing machine-readable estimate%s", storage.Errno(err))
		}
	}
	size := e.estimatedFileSize(total, mean, variance)
	e.infof("Estimated total backup file size (for backup-to-file, 99.9%% confidence): %d byte(s)", size)
}
