package index

import (
	"container/list"
	"io"
	"sync"
)

// Small reads of S3 objects (a record's text, its JSON view's source, the
// bytes around a record for a message) go through a cache of aligned
// blocks shared by every object of the process: a record read fetches its
// block with one ranged GET, and the records next to it, or the same
// record through another view, are served from memory. Larger reads
// (indexing reads up to 256 KiB at a time, a large record) go straight to
// the object.
const (
	cacheBlock   = 256 << 10
	cacheBlocks  = 64 // 16 MiB in all
	cacheMaxRead = 32 << 10
)

var s3Blocks = newBlockCache(cacheBlocks)

type blockKey struct {
	obj *cachedObject
	idx int64
}

type cacheEntry struct {
	key  blockKey
	done chan struct{} // closed once data and err are set
	data []byte
	err  error
}

// blockCache is an LRU of blocks; a block being fetched is waited for by
// the other readers that need it, so it is fetched once.
type blockCache struct {
	mu    sync.Mutex
	max   int
	lru   *list.List // *cacheEntry, most recently used first
	items map[blockKey]*list.Element
}

func newBlockCache(max int) *blockCache {
	return &blockCache{max: max, lru: list.New(), items: map[blockKey]*list.Element{}}
}

// cachedObject is an io.ReaderAt of an object of size bytes whose small
// reads are served by blocks of c.
type cachedObject struct {
	ra   io.ReaderAt
	size int64
	c    *blockCache
}

func newCachedObject(ra io.ReaderAt, size int64) *cachedObject {
	return &cachedObject{ra: ra, size: size, c: s3Blocks}
}

func (o *cachedObject) ReadAt(p []byte, off int64) (int, error) {
	if len(p) > cacheMaxRead || off < 0 {
		return o.ra.ReadAt(p, off)
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		if pos >= o.size {
			return n, io.EOF
		}
		b, err := o.c.get(o, pos/cacheBlock)
		if err != nil {
			return n, err
		}
		in := pos % cacheBlock
		if in >= int64(len(b.data)) {
			return n, io.ErrUnexpectedEOF
		}
		n += copy(p[n:], b.data[in:])
	}
	return n, nil
}

// get returns block idx of o, fetching it if needed.
func (c *blockCache) get(o *cachedObject, idx int64) (*cacheEntry, error) {
	key := blockKey{o, idx}
	c.mu.Lock()
	if el, ok := c.items[key]; ok {
		c.lru.MoveToFront(el)
		b := el.Value.(*cacheEntry)
		c.mu.Unlock()
		<-b.done
		if b.err != nil {
			return nil, b.err
		}
		return b, nil
	}
	b := &cacheEntry{key: key, done: make(chan struct{})}
	c.items[key] = c.lru.PushFront(b)
	for c.lru.Len() > c.max {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.items, old.Value.(*cacheEntry).key)
	}
	c.mu.Unlock()

	start := idx * cacheBlock
	buf := make([]byte, min(cacheBlock, o.size-start))
	n, err := o.ra.ReadAt(buf, start)
	if n == len(buf) {
		err = nil
	}
	b.data, b.err = buf[:n], err
	close(b.done)
	if err != nil {
		// A failed fetch is not kept: the next read tries again.
		c.mu.Lock()
		if el, ok := c.items[key]; ok && el.Value.(*cacheEntry) == b {
			c.lru.Remove(el)
			delete(c.items, key)
		}
		c.mu.Unlock()
		return nil, err
	}
	return b, nil
}
