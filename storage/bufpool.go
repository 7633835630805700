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
	// pins counts the holders of each pinned buffer (by its first byte);
	// a pinned buffer given back with put waits in held until the last
	// unpin, so that what a holder reads is not overwritten meanwhile.
	pins map[*byte]int
	held map[*byte][]byte
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

// put releases a buffer returned by get. A pinned buffer is released at
// its last unpin.
func (p *bufPool) put(b []byte) {
	if b == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if k := &b[:cap(b)][0]; p.pins[k] > 0 {
		p.held[k] = b
		return
	}
	p.release(b)
}

// pin keeps a buffer returned by get from being reused (a put of it
// waits) until unpin: a checkpoint holds the bytes of a part being filled
// this way while the writer goes on, instead of copying them.
func (p *bufPool) pin(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pins == nil {
		p.pins, p.held = map[*byte]int{}, map[*byte][]byte{}
	}
	p.pins[&b[:cap(b)][0]]++
}

// unpin ends a pin; the last one releases the buffer if it was put
// meanwhile.
func (p *bufPool) unpin(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := &b[:cap(b)][0]
	if p.pins[k]--; p.pins[k] > 0 {
		return
	}
	delete(p.pins, k)
	if h, ok := p.held[k]; ok {
		delete(p.held, k)
		p.release(h)
	}
}

// release frees or keeps a buffer that nobody uses (p.mu held).
func (p *bufPool) release(b []byte) {
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
