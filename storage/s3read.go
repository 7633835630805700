package storage

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Read-side sizes: a sequential reader keeps chunks of readChunk bytes
// downloading ahead of it: MaxAsyncDownloads shared among the objects being
// read, at least one and at most maxReadAhead each. A reader holds a chunk
// from the moment its download is requested until it has consumed it; it
// may always hold one, and more only while all readers together hold fewer
// than MaxAsyncDownloads. The chunk buffers are thus at most maxReadAhead
// per object, and at most MaxAsyncDownloads plus one per object in all.
// Downloads themselves (these and ReadAt's) run at most MaxAsyncDownloads
// at once.
const (
	readChunk     = 1 << 20
	maxReadAhead  = 4
	readRetries   = 8
	readRetryBase = 100 * time.Millisecond
)

// readAhead returns the chunks one sequential reader may hold.
func (s *S3Store) readAhead() int {
	n := int(s.readers.Load())
	return max(1, min(maxReadAhead, s.opts.downloads()/max(n, 1)))
}

// holdChunk counts a chunk a reader is about to request: its first one
// always, another only while the readers hold fewer than
// MaxAsyncDownloads chunks.
func (s *S3Store) holdChunk(first bool) bool {
	for {
		h := s.held.Load()
		if !first && int(h) >= s.opts.downloads() {
			return false
		}
		if s.held.CompareAndSwap(h, h+1) {
			return true
		}
	}
}

// Open implements Store: the object's size comes from a HEAD request.
func (s *S3Store) Open(path string) (Object, error) {
	p, err := ParseS3Path(path)
	if err != nil {
		return nil, err
	}
	head, err := s.client.HeadObject(bg, &s3.HeadObjectInput{Bucket: aws.String(p.Bucket), Key: aws.String(p.Key)})
	if err != nil {
		return nil, wrapS3(err)
	}
	return &s3Object{st: s, path: path, bucket: p.Bucket, key: p.Key, size: aws.ToInt64(head.ContentLength)}, nil
}

// OpenListed implements Store: the object's size is the one its listing
// gave, so no request is sent before the first ranged download.
func (s *S3Store) OpenListed(f InputFile) (Object, error) {
	p, err := ParseS3Path(f.Path)
	if err != nil {
		return nil, err
	}
	return &s3Object{st: s, path: f.Path, bucket: p.Bucket, key: p.Key, size: f.Size}, nil
}

// s3Object reads an S3 object: ReadAt with ranged GETs, Read sequentially
// with chunks downloaded ahead in parallel.
type s3Object struct {
	st          *S3Store
	path        string
	bucket, key string
	size        int64

	// sequential reading
	reading bool  // counted in the store's readers
	next    int64 // offset of the next chunk to request
	pending []chan chunkResult
	cur     []byte
	curBuf  []byte
	closed  bool
	readErr error
}

type chunkResult struct {
	data []byte
	err  error
}

func (o *s3Object) Size() int64 { return o.size }

// ReadAt reads len(p) bytes at off (fewer at the end of the object, with
// io.EOF).
func (o *s3Object) ReadAt(p []byte, off int64) (int, error) {
	if off >= o.size {
		return 0, io.EOF
	}
	want := min(int64(len(p)), o.size-off)
	o.st.downloads <- struct{}{}
	n, err := o.st.getRange(o.bucket, o.key, off, p[:want])
	<-o.st.downloads
	if err != nil {
		return n, &s3Err{prefix: "Error while reading " + o.path + ": ", err: err}
	}
	if want < int64(len(p)) {
		return n, io.EOF
	}
	return n, nil
}

// getRange fills buf with the bytes at off. A failed request or a body cut
// short is retried from the last byte received, with backoff.
func (s *S3Store) getRange(bucket, key string, off int64, buf []byte) (int, error) {
	got := 0
	var last error
	for attempt := 0; attempt < readRetries && got < len(buf); attempt++ {
		if attempt > 0 {
			time.Sleep(min(readRetryBase<<attempt, 3*time.Second))
		}
		res, err := s.client.GetObject(bg, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
			Range: aws.String(fmt.Sprintf("bytes=%d-%d", off+int64(got), off+int64(len(buf))-1))})
		if err != nil {
			last = err
			if isNotFound(err) {
				break
			}
			continue
		}
		n, err := io.ReadFull(res.Body, buf[got:])
		// The bytes that count were read (and err says how many); closing
		// the response body only returns the connection to the pool.
		_ = res.Body.Close()
		if n > 0 {
			attempt = -1 // progress: a fresh series of retries
		}
		got += n
		if err != nil {
			last = err
		}
	}
	if got < len(buf) {
		if last == nil {
			last = io.ErrUnexpectedEOF
		}
		return got, last
	}
	return got, nil
}

// fill keeps readAhead chunk downloads running ahead of the reader.
func (o *s3Object) fill() {
	if !o.reading {
		o.reading = true
		o.st.readers.Add(1)
	}
	for len(o.pending) < o.st.readAhead() && o.next < o.size && o.st.holdChunk(len(o.pending) == 0) {
		off := o.next
		n := min(int64(readChunk), o.size-off)
		o.next += n
		ch := make(chan chunkResult, 1)
		o.pending = append(o.pending, ch)
		go func() {
			o.st.downloads <- struct{}{}
			buf := o.st.chunks.get(readChunk)[:n]
			got, err := o.st.getRange(o.bucket, o.key, off, buf)
			<-o.st.downloads
			ch <- chunkResult{buf[:got], err}
		}()
	}
}

// release returns a consumed chunk's buffer.
func (o *s3Object) release(buf []byte) {
	o.st.chunks.put(buf[:0])
	o.st.held.Add(-1)
}

func (o *s3Object) Read(p []byte) (int, error) {
	for len(o.cur) == 0 {
		if o.readErr != nil {
			return 0, o.readErr
		}
		if o.curBuf != nil {
			o.release(o.curBuf)
			o.curBuf = nil
		}
		o.fill()
		if len(o.pending) == 0 {
			return 0, io.EOF
		}
		r := <-o.pending[0]
		o.pending = o.pending[1:]
		if r.err != nil {
			o.release(r.data)
			o.readErr = &s3Err{prefix: "Error while reading " + o.path + ": ", err: r.err}
			return 0, o.readErr
		}
		o.cur, o.curBuf = r.data, r.data
	}
	n := copy(p, o.cur)
	o.cur = o.cur[n:]
	return n, nil
}

// Close waits for the downloads in flight and releases the chunks.
func (o *s3Object) Close() error {
	if o.closed {
		return errors.New("already closed")
	}
	o.closed = true
	if o.reading {
		o.st.readers.Add(-1)
	}
	if o.curBuf != nil {
		o.release(o.curBuf)
		o.cur, o.curBuf = nil, nil
	}
	for _, ch := range o.pending {
		r := <-ch
		o.release(r.data)
	}
	o.pending = nil
	return nil
}
