package asdsim

import (
	"sync"
	"sync/atomic"
	"time"
)

// Faults holds fault-injection settings. The server-wide set (Server.Faults)
// applies to every node; each node also has its own set (Node.Faults). All
// methods are safe for concurrent use and take effect for the next request.
type Faults struct {
	mu            sync.Mutex
	delay         time.Duration
	dropAfter     int // records; 0 = off (one-shot, consumed by the next scan)
	unavailable   map[int]int
	failWrites    int
	failCode      ResultCode
	scanLimit     int
	scanLimitCode ResultCode
	activeScans   int
	refusedScans  int
	droppedScans  int

	// outage: after outageAfter more records (written or sent by scans),
	// the node(s) go down for outageFor (outage.go).
	outageArmed atomic.Bool
	outageAfter int
	outageFor   time.Duration
	outageDrop  bool // drop connections instead of going down
}

func newFaults() *Faults { return &Faults{unavailable: map[int]int{}} }

// Reset clears every fault.
func (f *Faults) Reset() {
	f.mu.Lock()
	f.delay, f.dropAfter, f.failWrites, f.scanLimit = 0, 0, 0, 0
	f.unavailable = map[int]int{}
	f.outageArmed.Store(false)
	f.mu.Unlock()
}

// OutageAfterRecords takes the node (for the server-wide hooks: every
// node) down once k more records have been written or sent by scans, and
// brings it back d later (d < 0: it stays down until Up). The record that
// reaches k is processed, but its connection is closed with every other
// one, so the client does not see its answer. It is a one-shot fault.
func (f *Faults) OutageAfterRecords(k int, d time.Duration) {
	f.armOutage(k, d, false)
}

// DropConnectionsAfterRecords is OutageAfterRecords with a node that keeps
// listening but resets every connection (SetDropConnections) for d.
func (f *Faults) DropConnectionsAfterRecords(k int, d time.Duration) {
	f.armOutage(k, d, true)
}

func (f *Faults) armOutage(k int, d time.Duration, drop bool) {
	f.mu.Lock()
	f.outageAfter, f.outageFor, f.outageDrop = max(k, 1), d, drop
	f.outageArmed.Store(true)
	f.mu.Unlock()
}

// countRecords counts n records toward an armed outage; it reports
// whether the outage starts now, for how long and of which kind.
func (f *Faults) countRecords(n int) (d time.Duration, drop, start bool) {
	if !f.outageArmed.Load() {
		return 0, false, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.outageArmed.Load() {
		return 0, false, false
	}
	f.outageAfter -= n
	if f.outageAfter > 0 {
		return 0, false, false
	}
	f.outageArmed.Store(false)
	return f.outageFor, f.outageDrop, true
}

// SetReplyDelay delays every reply (info and data) by d; 0 disables.
func (f *Faults) SetReplyDelay(d time.Duration) {
	f.mu.Lock()
	f.delay = d
	f.mu.Unlock()
}

// DropAfterRecords makes the next scan or query close its connection after
// sending k records (k >= 0); a negative k disables the fault.
func (f *Faults) DropAfterRecords(k int) {
	f.mu.Lock()
	if k < 0 {
		f.dropAfter = 0
	} else {
		f.dropAfter = k + 1 // stored off by one so that 0 means "off"
	}
	f.mu.Unlock()
}

// SetPartitionsUnavailable makes scans report the given partitions as
// unavailable (PARTITION_UNAVAILABLE, 11) the next `times` times each is
// requested; times < 0 means until cleared.
func (f *Faults) SetPartitionsUnavailable(times int, pids ...int) {
	f.mu.Lock()
	for _, p := range pids {
		if times == 0 {
			delete(f.unavailable, p)
		} else {
			f.unavailable[p] = times
		}
	}
	f.mu.Unlock()
}

// ClearPartitionsUnavailable removes every partition-unavailable fault.
func (f *Faults) ClearPartitionsUnavailable() {
	f.mu.Lock()
	f.unavailable = map[int]int{}
	f.mu.Unlock()
}

// FailNextWrites makes the next n write, delete or touch operations (single
// commands and batch rows) fail with result code rc.
func (f *Faults) FailNextWrites(n int, rc ResultCode) {
	f.mu.Lock()
	f.failWrites, f.failCode = n, rc
	f.mu.Unlock()
}

// LimitConcurrentScans refuses scans and queries started while n others are
// running, answering result code rc; n <= 0 removes the limit.
func (f *Faults) LimitConcurrentScans(n int, rc ResultCode) {
	f.mu.Lock()
	f.scanLimit, f.scanLimitCode = n, rc
	f.mu.Unlock()
}

// RefusedScans returns how many scans were refused by the concurrency limit.
func (f *Faults) RefusedScans() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refusedScans
}

// DroppedScans returns how many scan connections were dropped by
// DropAfterRecords.
func (f *Faults) DroppedScans() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.droppedScans
}

func (f *Faults) replyDelay() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.delay
}

// takeWriteFailure consumes one injected write failure.
func (f *Faults) takeWriteFailure() (ResultCode, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failWrites > 0 {
		f.failWrites--
		return f.failCode, true
	}
	return 0, false
}

// takeDropAfter consumes the one-shot drop-after setting; -1 = none.
func (f *Faults) takeDropAfter() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dropAfter == 0 {
		return -1
	}
	k := f.dropAfter - 1
	f.dropAfter = 0
	f.droppedScans++
	return k
}

// partitionUnavailable consumes one unavailability of pid.
func (f *Faults) partitionUnavailable(pid int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.unavailable[pid]
	if !ok {
		return false
	}
	if t > 0 {
		if t == 1 {
			delete(f.unavailable, pid)
		} else {
			f.unavailable[pid] = t - 1
		}
	}
	return true
}

// hasUnavailable reports quickly whether any partition fault is set.
func (f *Faults) hasUnavailable() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.unavailable) > 0
}

// beginScan registers a running scan; it reports false (and the code) when
// the concurrency limit refuses it.
func (f *Faults) beginScan() (ResultCode, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.scanLimit > 0 && f.activeScans >= f.scanLimit {
		f.refusedScans++
		return f.scanLimitCode, false
	}
	f.activeScans++
	return 0, true
}

func (f *Faults) endScan() {
	f.mu.Lock()
	f.activeScans--
	f.mu.Unlock()
}
