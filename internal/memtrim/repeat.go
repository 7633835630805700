package memtrim

import "time"

// Repeat calls release first after first and then every interval until
// done is closed. Rarely used code and tables (start of the work, progress
// lines, garbage collection, checkpoints) are mapped in 64 KiB at a time
// and would otherwise stay resident for the rest of the run; the record
// paths need a few MiB of them, which come back at the cost of a few minor
// page faults.
func Repeat(release func(), first, interval time.Duration, done <-chan struct{}) {
	t := time.NewTimer(first)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			release()
			t.Reset(interval)
		}
	}
}
