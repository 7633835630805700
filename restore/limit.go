package restore

import (
	"sync"
	"time"
)

// limiter implements --nice: readers block while the bytes read or the
// records read have reached their allowance; a ticker raises both
// allowances every second by one second's worth.
type limiter struct {
	mu         sync.Mutex
	cond       *sync.Cond
	bandwidth  uint64 // bytes per second
	tps        uint64 // records per second
	bytes      uint64
	records    uint64
	bytesLimit uint64
	recLimit   uint64
	stopped    bool
	done       chan struct{}
}

func newLimiter(bandwidth, tps uint64) *limiter {
	l := &limiter{bandwidth: bandwidth, tps: tps, bytesLimit: bandwidth, recLimit: tps, done: make(chan struct{})}
	l.cond = sync.NewCond(&l.mu)
	go l.tick()
	return l
}

func (l *limiter) tick() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	prev := time.Now()
	for {
		select {
		case <-l.done:
			return
		case now := <-t.C:
			ms := uint64(now.Sub(prev).Milliseconds())
			prev = now
			l.mu.Lock()
			l.bytesLimit += l.bandwidth * ms / 1000
			l.recLimit += l.tps * ms / 1000
			l.mu.Unlock()
			l.cond.Broadcast()
		}
	}
}

func (l *limiter) addBytes(n uint64) {
	l.mu.Lock()
	l.bytes += n
	l.mu.Unlock()
}

// record counts one record and waits while a limit is reached.
func (l *limiter) record() {
	l.mu.Lock()
	l.records++
	for !l.stopped && (l.bytes >= l.bytesLimit || l.records >= l.recLimit) {
		l.cond.Wait()
	}
	l.mu.Unlock()
}

func (l *limiter) stop() {
	l.mu.Lock()
	if !l.stopped {
		l.stopped = true
		close(l.done)
	}
	l.mu.Unlock()
	l.cond.Broadcast()
}
