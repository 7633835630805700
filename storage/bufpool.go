package storage

import "sync"

// bufPool recycles the large buffers of S3 transfers (upload parts,
// download chunks). A buffer is allocated only when none of its size is
// free, and a released buffer is kept for the next use, so the buffers
// allocated never exceed the most in use at once, and the steady flow of
// parts and chunks allocates nothing. On Linux the buffers are anonymous
// mappings outside the Go heap (allocBuf), so they neither count towards
// the garbage collector's heap goal (a heap of 40 MiB of buffers would let
// another 40 MiB of garbage accumulate) nor need zeroing by the runtime.
//
// A buffer must not be used after put: a mapping is unmapped when the pool
// drops it.
type bufPool struct {
	mu   sync.Mutex
	size int      // size of the buffers kept
	free [][]byte // released buffers of that size
	// live counts the buffers allocated and not yet dropped, peak its
	// highest value.
	live, peak int
	// grew, if set, is called (p.mu held) with the new size when the size
	// of the buffers grows.
	grew func(size int64)
}

// get returns a buffer of length 0 and capacity size. Sizes only grow
// (upload parts double every 100 parts past the 8,000th): asking for a larger size drops
// the free buffers of the smaller one.
func (p *bufPool) get(size int) []byte {
	p.mu.Lock()
	if size > p.size {
		p.drop()
		p.size = size
		if p.grew != nil {
			p.grew(int64(size))
		}
	}
	if size == p.size && len(p.free) > 0 {
		b := p.free[len(p.free)-1]
		p.free = p.free[:len(p.free)-1]
		p.mu.Unlock()
		return b[:0]
	}
	p.live++
	p.peak = max(p.peak, p.live)
	p.mu.Unlock()
	return allocBuf(size)[:0]
}

// put releases a buffer returned by get.
func (p *bufPool) put(b []byte) {
	if b == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if cap(b) != p.size {
		freeBuf(b)
		p.live--
		return
	}
	p.free = append(p.free, b[:cap(b)])
}

// drop frees the free buffers (p.mu held).
func (p *bufPool) drop() {
	for _, b := range p.free {
		freeBuf(b)
	}
	p.live -= len(p.free)
	p.free = nil
}

// stats returns the buffers allocated now and at most so far.
func (p *bufPool) stats() (live, peak int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.live, p.peak
}
