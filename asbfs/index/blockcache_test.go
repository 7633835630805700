package index

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
)

// countingReaderAt counts the reads reaching the object; fail makes them
// fail.
type countingReaderAt struct {
	data  []byte
	reads atomic.Int32
	fail  atomic.Bool
}

func (r *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	r.reads.Add(1)
	if r.fail.Load() {
		return 0, errors.New("store unreachable")
	}
	if off >= int64(len(r.data)) {
		return 0, io.EOF
	}
	n := copy(p, r.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func TestBlockCache(t *testing.T) {
	data := make([]byte, 5*cacheBlock+1234)
	for i := range data {
		data[i] = byte(i * 7 / 3)
	}
	src := &countingReaderAt{data: data}
	o := &cachedObject{ra: src, size: int64(len(data)), c: newBlockCache(3)}
	read := func(off int64, n int) ([]byte, error) {
		p := make([]byte, n)
		k, err := o.ReadAt(p, off)
		return p[:k], err
	}
	// Small reads in one block: one fetch.
	for off := int64(100); off < 100+50*300; off += 300 {
		got, err := read(off, 300)
		if err != nil || !bytes.Equal(got, data[off:off+300]) {
			t.Fatalf("read at %d: %v", off, err)
		}
	}
	if n := src.reads.Load(); n != 1 {
		t.Fatalf("%d fetches for reads inside one block", n)
	}
	// Across a block boundary: the next block too.
	if got, err := read(cacheBlock-10, 20); err != nil || !bytes.Equal(got, data[cacheBlock-10:cacheBlock+10]) {
		t.Fatalf("read across blocks: %v", err)
	}
	if n := src.reads.Load(); n != 2 {
		t.Fatalf("%d fetches after a read across two blocks", n)
	}
	// The end of the object: a short read with io.EOF.
	end := int64(len(data)) - 5
	if got, err := read(end, 100); err != io.EOF || !bytes.Equal(got, data[end:]) {
		t.Fatalf("read at the end: %d bytes, %v", len(got), err)
	}
	// Large reads bypass the cache.
	before := src.reads.Load()
	if got, err := read(0, cacheMaxRead+1); err != nil || !bytes.Equal(got, data[:cacheMaxRead+1]) {
		t.Fatalf("large read: %v", err)
	}
	if src.reads.Load() != before+1 {
		t.Fatal("a large read did not go to the object")
	}
	// Three blocks cached (0, 1, 5): block 2 evicts block 0.
	read(2*cacheBlock, 10)
	before = src.reads.Load()
	read(0, 10)
	if src.reads.Load() != before+1 {
		t.Fatal("the least recently used block was not evicted")
	}
	// Concurrent readers of one block fetch it once.
	before = src.reads.Load()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			off := int64(4*cacheBlock + i*100)
			if got, err := read(off, 50); err != nil || !bytes.Equal(got, data[off:off+50]) {
				t.Errorf("concurrent read: %v", err)
			}
		}()
	}
	wg.Wait()
	if n := src.reads.Load() - before; n != 1 {
		t.Fatalf("%d fetches of one block by concurrent readers", n)
	}
	// A failed fetch is reported and not kept.
	src.fail.Store(true)
	if _, err := read(3*cacheBlock, 10); err == nil {
		t.Fatal("a failed fetch was not reported")
	}
	src.fail.Store(false)
	if got, err := read(3*cacheBlock, 10); err != nil || !bytes.Equal(got, data[3*cacheBlock:3*cacheBlock+10]) {
		t.Fatalf("read after a failed fetch: %v", err)
	}
}
