package storage

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"asbtools/state"
)

// s3Writer streams a backup file to S3 as a multipart upload: bytes fill a
// part buffer; a full part is uploaded in the background while the writer
// goes on, at most MaxAsyncUploads parts at once across all files (a
// writer waits for a free slot). Memory is one filling part per file plus
// the parts in flight.
type s3Writer struct {
	st       *S3Store
	path     string
	bucket   string
	key      string
	uploadID string
	base     int64 // starting part size

	buf     []byte
	partNum int32 // the last part number handed out

	mu    sync.Mutex
	parts map[int32]string // completed parts: number → ETag
	// failedData holds the bytes of the parts whose upload failed after the
	// retries: they go into the state (legacy failed_part_list) and
	// --continue uploads them again.
	failedData map[int32][]byte
	err        error
	wg         sync.WaitGroup
	// settled is signalled (under mu) each time a part's upload ends, and
	// once the writer is released (Detach, Abort: released is set).
	settled  *sync.Cond
	released bool
	// early is the upload of the part being filled started ahead of Close
	// (UploadLast), nil if none.
	early *earlyPart
}

// earlyPart is a last part uploaded ahead of Close: part num with the
// first n bytes of the buffer, settled once done is closed.
type earlyPart struct {
	num  int32
	n    int
	done chan struct{}
	etag string
	err  error
}

// ErrUploadIncomplete is the cause of a failed Close of an S3 file that
// can still be saved in a state and continued: a part could not be
// uploaded (its bytes are kept, Upload lists it as failed) or the upload
// could not be completed. The upload is left open.
var ErrUploadIncomplete = errors.New("upload incomplete")

// UploadHooks tell a backup what the background part uploads of its S3
// files meet (legacy UploadManager::UploadPartFinished and _UploadPart).
type UploadHooks struct {
	// Failed: a part could not be uploaded after the retries; its bytes
	// are kept for the state. Legacy logs the store's message and stops
	// the backup.
	Failed func(err error)
	// Stopped reports whether the backup has stopped; a part handed to
	// the store after that is reported to Late.
	Stopped func() bool
	Late    func(part int)
}

// SetUploadHooks sets the hooks of the store's uploads (nil: none).
func (s *S3Store) SetUploadHooks(h *UploadHooks) { s.hooks.Store(h) }

// Parts keep the starting size up to part s3RampFrom, as legacy keeps them
// up to its last part; then they double every s3RampEvery parts up to 5
// GiB, so that 10,000 parts hold more than 5 TiB whatever the starting size
// (legacy puts everything after its 9,999th part into the last one and
// fails once that exceeds 5 GiB).
const (
	s3RampFrom  = 8000
	s3RampEvery = 100
)

// partSize returns the size of part n.
func (w *s3Writer) partSize(n int32) int64 {
	if n <= s3RampFrom {
		return w.base
	}
	shift := min((n-s3RampFrom+s3RampEvery-1)/s3RampEvery, 30)
	return min(w.base<<shift, S3MaxPartSize)
}

// basePartSize is the size parts start with (legacy _calc_part_size):
// --s3-min-part-size if given, else the expected size of the file spread
// over 10,000 parts, at least 5 MiB.
func (o S3Options) basePartSize(expected uint64) int64 {
	if o.MinPartSize > 0 {
		return o.MinPartSize
	}
	return max(S3MinPartSize, int64((expected+S3MaxParts-1)/S3MaxParts))
}

// Create implements Store: it starts a multipart upload of the key with
// parts of --s3-min-part-size (default 5 MiB).
func (s *S3Store) Create(path string) (Sink, error) { return s.CreateSized(path, 0) }

// CreateSized starts a multipart upload of the key whose parts are sized
// for a file of about expected bytes (legacy _calc_part_size). An expected
// size over 5 TiB is refused with the legacy message.
func (s *S3Store) CreateSized(path string, expected uint64) (Sink, error) {
	if expected > S3MaxObjectSize {
		return nil, fmt.Errorf("The max S3 object size is %d, but expected file size is %d", uint64(S3MaxObjectSize), expected)
	}
	p, err := ParseS3Path(path)
	if err != nil {
		return nil, err
	}
	res, err := s.client.CreateMultipartUpload(bg, &s3.CreateMultipartUploadInput{Bucket: aws.String(p.Bucket), Key: aws.String(p.Key)})
	if err != nil {
		return nil, wrapS3(err)
	}
	return &s3Writer{st: s, path: path, bucket: p.Bucket, key: p.Key, uploadID: aws.ToString(res.UploadId),
		base: s.opts.basePartSize(expected), parts: map[int32]string{}}, nil
}

func (w *s3Writer) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *s3Writer) Write(p []byte) (int, error) {
	if err := w.failed(); err != nil {
		return 0, err
	}
	if w.early != nil {
		// The part grows after all: its early upload is void (it is
		// replaced when the part is handed out).
		<-w.early.done
		w.early = nil
	}
	n := len(p)
	for len(p) > 0 {
		if w.buf == nil {
			if w.partNum >= S3MaxParts {
				return n - len(p), w.tooManyParts()
			}
			w.buf = w.st.parts.get(int(w.partSize(w.partNum + 1)))
		}
		k := min(cap(w.buf)-len(w.buf), len(p))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == cap(w.buf) {
			w.dispatch()
			if err := w.failed(); err != nil {
				return n - len(p), err
			}
		}
	}
	return n, nil
}

// tooManyParts fails the upload: S3 takes at most 10,000 parts.
func (w *s3Writer) tooManyParts() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = fmt.Errorf("%s: more than %d parts of up to %d bytes", w.path, S3MaxParts, S3MaxPartSize)
	}
	return w.err
}

// dispatch uploads the filled buffer as the next part in the background.
func (w *s3Writer) dispatch() {
	if w.partNum >= S3MaxParts {
		w.tooManyParts()
		w.st.parts.put(w.buf)
		w.buf = nil
		return
	}
	w.partNum++
	num, data := w.partNum, w.buf
	w.buf = nil
	h := w.st.hooks.Load()
	if h != nil && h.Stopped != nil && h.Late != nil && h.Stopped() {
		h.Late(int(num))
	}
	w.st.uploads <- struct{}{}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		etag, err := w.st.uploadPart(w.bucket, w.key, w.uploadID, num, data)
		if err == nil {
			w.st.parts.put(data) // before the slot is free: no new part needs a new buffer
		}
		<-w.st.uploads
		w.mu.Lock()
		if err != nil {
			// Kept for the state; the writer goes on, as legacy's does.
			if w.failedData == nil {
				w.failedData = map[int32][]byte{}
			}
			w.failedData[num] = data
		} else {
			w.parts[num] = etag
		}
		if w.settled != nil {
			w.settled.Broadcast()
		}
		w.mu.Unlock()
		if err != nil && h != nil && h.Failed != nil {
			h.Failed(err)
		}
	}()
}

// castagnoli is the CRC-32C table (hardware-accelerated on amd64 and
// arm64).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// partCRC32C returns the x-amz-checksum-crc32c value of a part: its
// CRC-32C, big-endian, in base64. Given in the input, the SDK sends it as
// a plain header (no aws-chunked trailer) and computes nothing itself.
func partCRC32C(data []byte) string {
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.Checksum(data, castagnoli))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// unsignedPayload sends a part with the UNSIGNED-PAYLOAD marker instead of
// the body's SHA-256 in the signature: the SDK already does so over
// https; over plain http it would hash every part, and the store would hash
// it again to check it, the largest CPU cost of an upload after the
// store's own ETag (MD5).
func unsignedPayload(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
}

func (s *S3Store) uploadPart(bucket, key, id string, num int32, data []byte) (string, error) {
	in := &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key),
		UploadId: aws.String(id), PartNumber: aws.Int32(num), Body: newBytesReader(data),
		ContentLength: aws.Int64(int64(len(data)))}
	if s.partCRC {
		in.ChecksumCRC32C = aws.String(partCRC32C(data))
	}
	res, err := s.client.UploadPart(bg, in, unsignedPayload)
	if err != nil {
		return "", err
	}
	return aws.ToString(res.ETag), nil
}

// Sync waits for the parts in flight. The bytes of the part being filled
// are not uploaded: Upload returns them as Pending, and the parts whose
// upload failed as Failed.
func (w *s3Writer) Sync() error {
	w.wg.Wait()
	return w.failed()
}

// Upload returns the upload state (call after Sync).
func (w *s3Writer) Upload() *state.S3Upload {
	w.mu.Lock()
	defer w.mu.Unlock()
	// PartNumber is the number of the next part, as legacy saves it.
	up := &state.S3Upload{PartNumber: uint32(w.partNum) + 1, UploadID: w.uploadID, MinPartSize: uint64(w.base),
		Pending: append([]byte(nil), w.buf...)}
	for n, etag := range w.parts {
		if n <= w.partNum {
			up.Parts = append(up.Parts, state.S3Part{PartNumber: uint32(n), ETag: etag})
		}
	}
	sort.Slice(up.Parts, func(i, j int) bool { return up.Parts[i].PartNumber < up.Parts[j].PartNumber })
	for n, data := range w.failedData {
		up.Failed = append(up.Failed, state.S3FailedPart{PartNumber: uint32(n), Data: data})
	}
	sort.Slice(up.Failed, func(i, j int) bool { return up.Failed[i].PartNumber < up.Failed[j].PartNumber })
	return up
}

// Mark notes the parts handed out so far and the bytes of the part being
// filled. The function it returns waits until those parts are uploaded
// (or failed), not for the parts handed out after the mark, and returns
// the upload state as of the mark: the writer may go on meanwhile (a part
// handed out later, numbered after the mark's, is replaced or left out by
// --continue). The state's pending bytes are the part buffer itself, not a
// copy (a checkpoint of 8 files would copy up to 40 MiB): the writer only
// appends after them, and the buffer is pinned, not reused, until release.
func (w *s3Writer) Mark() (func() (*state.S3Upload, error), func()) {
	last := w.partNum
	up := &state.S3Upload{PartNumber: uint32(last) + 1, UploadID: w.uploadID, MinPartSize: uint64(w.base)}
	release := func() {}
	if pending := w.buf; len(pending) > 0 {
		up.Pending = pending[:len(pending):len(pending)]
		w.st.parts.pin(pending)
		var once sync.Once
		release = func() { once.Do(func() { w.st.parts.unpin(pending) }) }
	}
	return func() (*state.S3Upload, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.settled == nil {
			w.settled = sync.NewCond(&w.mu)
		}
		for n := int32(1); n <= last; {
			if etag, ok := w.parts[n]; ok {
				up.Parts = append(up.Parts, state.S3Part{PartNumber: uint32(n), ETag: etag})
			} else if data, ok := w.failedData[n]; ok {
				// Copied: rare, and the writer's failed parts are
				// given back when it is released.
				up.Failed = append(up.Failed, state.S3FailedPart{PartNumber: uint32(n), Data: append([]byte(nil), data...)})
			} else if w.released {
				return nil, fmt.Errorf("%s: part %d is gone", w.path, n)
			} else {
				w.settled.Wait()
				continue
			}
			n++
		}
		return up, w.err
	}, release
}

// FailedParts returns the numbers of the parts whose upload failed.
func (w *s3Writer) FailedParts() []int32 {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []int32
	for n := range w.failedData {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// release returns the buffers of the failed parts and of the part being
// filled to the pool (the writer is done with them).
func (w *s3Writer) release() {
	w.mu.Lock()
	for n, data := range w.failedData {
		w.st.parts.put(data)
		delete(w.failedData, n)
	}
	w.released = true
	if w.settled != nil {
		w.settled.Broadcast()
	}
	w.mu.Unlock()
	if w.buf != nil {
		w.st.parts.put(w.buf)
		w.buf = nil
	}
}

// UploadLast starts uploading the bytes of the part being filled as the
// next part, in the background, for a file about to be closed: Close then
// only waits for it. The writer's state does not change: until Close takes
// the upload, the bytes stay pending (Upload, Mark), and a Write voids it.
// A failed early upload is not reported: Close uploads the part again as
// it would have without it.
func (w *s3Writer) UploadLast() {
	if w.early != nil || len(w.buf) == 0 || w.partNum >= S3MaxParts || w.failed() != nil {
		return
	}
	e := &earlyPart{num: w.partNum + 1, n: len(w.buf), done: make(chan struct{})}
	w.early = e
	data := w.buf[:e.n:e.n]
	w.st.uploads <- struct{}{}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		e.etag, e.err = w.st.uploadPart(w.bucket, w.key, w.uploadID, e.num, data)
		<-w.st.uploads
		close(e.done)
	}()
}

// takeEarly waits for the early upload of the last part, if any, and
// takes it as that part if it succeeded with the bytes still pending.
func (w *s3Writer) takeEarly() {
	e := w.early
	if e == nil {
		return
	}
	<-e.done
	w.early = nil
	if e.err != nil || len(w.buf) != e.n {
		return
	}
	w.partNum = e.num
	w.mu.Lock()
	w.parts[e.num] = e.etag
	w.mu.Unlock()
	w.st.parts.put(w.buf)
	w.buf = nil
}

// Close uploads the last part and completes the upload. If a part could
// not be uploaded, or the completion fails, the upload is left open and the
// error wraps ErrUploadIncomplete: the file can be saved in a state (legacy
// FinishUpload fails the same way). Close may then be called again: it
// uploads nothing more, and completes the upload unless parts failed.
func (w *s3Writer) Close() error {
	w.takeEarly()
	if len(w.buf) > 0 || w.partNum == 0 {
		if w.buf == nil {
			w.buf = w.st.parts.get(int(w.partSize(w.partNum + 1)))
		}
		w.dispatch()
	} else if w.buf != nil {
		w.st.parts.put(w.buf)
		w.buf = nil
	}
	if err := w.Sync(); err != nil {
		_ = w.Abort()
		return err
	}
	if f := w.FailedParts(); len(f) > 0 {
		return fmt.Errorf("%w: %s: parts %v not uploaded", ErrUploadIncomplete, w.path, f)
	}
	var parts []types.CompletedPart
	for n := int32(1); n <= w.partNum; n++ {
		etag, ok := w.parts[n]
		if !ok {
			_ = w.Abort()
			return fmt.Errorf("Part %d of %s is missing", n, w.path)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: aws.String(etag)})
	}
	_, err := w.st.client.CompleteMultipartUpload(bg, &s3.CompleteMultipartUploadInput{Bucket: aws.String(w.bucket),
		Key: aws.String(w.key), UploadId: aws.String(w.uploadID), MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		return &CompleteError{err: &s3Err{prefix: "Error finishing S3 file upload: ", err: err}}
	}
	return nil
}

// CompleteError is the failure of the request that completes an upload
// (legacy `Error finishing S3 file upload: <message>`); it wraps
// ErrUploadIncomplete.
type CompleteError struct{ err error }

func (e *CompleteError) Error() string { return e.err.Error() }

// Unwrap returns the request's error and ErrUploadIncomplete.
func (e *CompleteError) Unwrap() []error { return []error{e.err, ErrUploadIncomplete} }

// Detach waits for the parts in flight and leaves the upload open.
func (w *s3Writer) Detach() error {
	err := w.Sync()
	w.release()
	return err
}

// Abort waits for the parts in flight and aborts the upload.
func (w *s3Writer) Abort() error {
	w.wg.Wait()
	w.release()
	_, err := w.st.client.AbortMultipartUpload(bg, &s3.AbortMultipartUploadInput{Bucket: aws.String(w.bucket),
		Key: aws.String(w.key), UploadId: aws.String(w.uploadID)})
	if err != nil && !isNoSuchUpload(err) {
		return wrapS3(err)
	}
	return nil
}

// Reopen implements Store: it continues the saved multipart upload, saved
// in the legacy layout: PartNumber is the next part to upload, the parts
// before it were uploaded (Parts) or failed and are uploaded again from
// their saved bytes (Failed). Their sizes plus the saved pending bytes must
// equal the saved file position; parts a crashed run uploaded after its
// last checkpoint are replaced or left out of the completed object. If the
// upload was completed after the checkpoint (the file was rotated before
// the crash), a new upload starts from the first saved bytes of the object.
func (s *S3Store) Reopen(ent *state.FileEntry) (Sink, error) {
	p, err := ParseS3Path(ent.Path)
	if err != nil {
		return nil, err
	}
	up := ent.S3
	if up == nil {
		return nil, fmt.Errorf("No upload state for S3 file %s in the backup state file", ent.Path)
	}
	if up.PartNumber < 1 || up.PartNumber > S3MaxParts+1 {
		return nil, fmt.Errorf("%s: invalid part number %d in the backup state file", ent.Path, up.PartNumber)
	}
	base := int64(up.MinPartSize)
	if base < S3MinPartSize {
		base = s.opts.PartSize()
	}
	w := &s3Writer{st: s, path: ent.Path, bucket: p.Bucket, key: p.Key, uploadID: up.UploadID, base: base,
		parts: map[int32]string{}}
	last := int32(up.PartNumber) - 1 // the last part handed out
	failed := map[int32][]byte{}
	for _, f := range up.Failed {
		if f.PartNumber < 1 || int32(f.PartNumber) > last {
			return nil, fmt.Errorf("%s: failed part %d beyond part number %d in the backup state file", ent.Path, f.PartNumber, up.PartNumber)
		}
		failed[int32(f.PartNumber)] = f.Data
	}
	pending := up.Pending
	// tail is a last part that failed when the file was closed (shorter
	// than a part, nothing pending after it): it becomes the start of the
	// part being filled again, so that bytes appended to the file do not
	// follow a short part.
	tail := int32(0)
	if data, ok := failed[last]; ok && len(pending) == 0 && int64(len(data)) < w.partSize(last) {
		tail, pending = last, data
	}
	sizes, err := s.listParts(p.Bucket, p.Key, up.UploadID)
	switch {
	case err == nil:
		var done uint64
		for n := int32(1); n <= last; n++ {
			if n == tail {
				continue
			}
			if data, ok := failed[n]; ok {
				etag, err := s.uploadPart(p.Bucket, p.Key, up.UploadID, n, data)
				if err != nil {
					return nil, &s3Err{prefix: ent.Path + ": ", err: err}
				}
				w.parts[n] = etag
				done += uint64(len(data))
				continue
			}
			ps, ok := sizes[n]
			if !ok {
				return nil, fmt.Errorf("%s: part %d of upload %s is missing", ent.Path, n, up.UploadID)
			}
			w.parts[n] = ps.etag
			done += uint64(ps.size)
		}
		w.partNum = last
		if tail > 0 {
			w.partNum = tail - 1
		}
		if done+uint64(len(pending)) != ent.FilePos {
			return nil, fmt.Errorf("Expected file pos (%d) did not match file pos (%d) for file (%s) opened in append mode",
				ent.FilePos, done+uint64(len(pending)), ent.Path)
		}
	case isNoSuchUpload(err):
		pending = up.Pending
		if err := w.restart(ent, uint64(len(pending))); err != nil {
			return nil, err
		}
	default:
		return nil, &s3Err{prefix: ent.Path + ": ", err: err}
	}
	w.buf = s.parts.get(int(w.partSize(w.partNum + 1)))
	w.buf = append(w.buf, pending...)
	if len(w.buf) >= cap(w.buf) {
		w.dispatch()
	}
	return w, nil
}

type partInfo struct {
	etag string
	size int64
}

func (s *S3Store) listParts(bucket, key, id string) (map[int32]partInfo, error) {
	out := map[int32]partInfo{}
	in := &s3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id)}
	for {
		res, err := s.client.ListParts(bg, in)
		if err != nil {
			return nil, err
		}
		for _, pt := range res.Parts {
			out[aws.ToInt32(pt.PartNumber)] = partInfo{aws.ToString(pt.ETag), aws.ToInt64(pt.Size)}
		}
		if !aws.ToBool(res.IsTruncated) {
			return out, nil
		}
		in.PartNumberMarker = res.NextPartNumberMarker
	}
}

// restart replaces a saved upload that no longer exists because the
// crashed run completed it after its checkpoint: the object then begins
// with the saved bytes, which a new upload copies (the part-aligned prefix
// by a server-side copy, the saved pending bytes come from the state).
func (w *s3Writer) restart(ent *state.FileEntry, pending uint64) error {
	s := w.st
	head, err := s.client.HeadObject(bg, &s3.HeadObjectInput{Bucket: aws.String(w.bucket), Key: aws.String(w.key)})
	if err != nil {
		return &s3Err{prefix: ent.Path + ": ", err: err}
	}
	if uint64(aws.ToInt64(head.ContentLength)) < ent.FilePos {
		return fmt.Errorf("Expected file pos (%d) did not match file pos (%d) for file (%s) opened in append mode",
			ent.FilePos, aws.ToInt64(head.ContentLength), ent.Path)
	}
	res, err := s.client.CreateMultipartUpload(bg, &s3.CreateMultipartUploadInput{Bucket: aws.String(w.bucket), Key: aws.String(w.key)})
	if err != nil {
		return wrapS3(err)
	}
	w.uploadID = aws.ToString(res.UploadId)
	prefix := ent.FilePos - pending
	if prefix == 0 {
		return nil
	}
	if prefix < S3MinPartSize {
		return errors.New("saved parts of " + ent.Path + " are smaller than an S3 part")
	}
	cp, err := s.client.UploadPartCopy(bg, &s3.UploadPartCopyInput{Bucket: aws.String(w.bucket), Key: aws.String(w.key),
		UploadId: aws.String(w.uploadID), PartNumber: aws.Int32(1),
		CopySource:      aws.String(w.bucket + "/" + w.key),
		CopySourceRange: aws.String(fmt.Sprintf("bytes=0-%d", prefix-1))})
	if err != nil {
		return &s3Err{prefix: ent.Path + ": ", err: err}
	}
	w.partNum = 1
	w.parts[1] = aws.ToString(cp.CopyPartResult.ETag)
	return nil
}

// bytesReader is a seekable reader of a part (the SDK rewinds it to retry).
type bytesReader struct {
	b   []byte
	off int64
}

func newBytesReader(b []byte) *bytesReader { return &bytesReader{b: b} }

func (r *bytesReader) Read(p []byte) (int, error) {
	if r.off >= int64(len(r.b)) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.off:])
	r.off += int64(n)
	return n, nil
}

func (r *bytesReader) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += r.off
	case io.SeekEnd:
		off += int64(len(r.b))
	}
	if off < 0 {
		return 0, errors.New("negative position")
	}
	r.off = off
	return off, nil
}
