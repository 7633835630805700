package stream

import (
	"crypto/aes"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
)

// MaxWindow is the largest zstd window a Reader accepts (libzstd's default
// decoder limit, 128 MiB). Files written by this package use Window (256 KiB
// at the default level); legacy files use the window of their compression
// level (2 MiB at the default). A reader holds about its window plus two
// blocks (256 KiB) and its block buffers.
const MaxWindow = 1 << 27

// ErrTruncatedFrame is returned (wrapped in a DecompressError) when the input
// ends inside a zstd frame. The legacy reader silently treats this as the end
// of the data (e.g. the file of an interrupted -o backup); callers wanting
// that behaviour can test errors.Is(err, ErrTruncatedFrame) and stop reading.
var ErrTruncatedFrame = errors.New("unexpected end of file inside a zstd frame")

// DecompressError is a zstd decoding failure. Its text is
// `Failed to decompress data: <reason>` with libzstd's wording for the
// reason where one exists.
type DecompressError struct {
	Reason string
	Err    error
}

func (e *DecompressError) Error() string { return "Failed to decompress data: " + e.Reason }

// Unwrap returns the decoder's error.
func (e *DecompressError) Unwrap() error { return e.Err }

func decompressError(err error) error {
	reason := "Data corruption detected"
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &DecompressError{Reason: ErrTruncatedFrame.Error(), Err: errors.Join(ErrTruncatedFrame, err)}
	case errors.Is(err, zstd.ErrMagicMismatch):
		reason = "Unknown frame descriptor"
	case errors.Is(err, zstd.ErrWindowSizeExceeded), errors.Is(err, zstd.ErrDecoderSizeExceeded):
		reason = "Frame requires too much memory for decoding"
	case errors.Is(err, zstd.ErrCRCMismatch):
		reason = "Restored data doesn't match checksum"
	case errors.Is(err, zstd.ErrUnknownDictionary):
		reason = "Dictionary mismatch"
	}
	return &DecompressError{Reason: reason, Err: err}
}

// IVError reports a stream shorter than the 16-byte encryption header, with
// the legacy text.
type IVError struct{ Got int }

func (e *IVError) Error() string {
	return fmt.Sprintf("Error when reading IV from file: only %d bytes were found, but expected 16", e.Got)
}

// countingReader counts the bytes read from the file.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// decrypter applies the CTR keystream to what it reads.
type decrypter struct {
	r  io.Reader
	ks *keystream
}

func (d *decrypter) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.ks.xor(p[:n])
	return n, err
}

// Reader decodes a legacy stream back to ASB text. It is not safe for
// concurrent use.
//
// A compressing Reader takes a zstd decoder from a process-wide pool when
// it starts decoding and gives it back at the end of the stream, on a
// decoding error, on Close and on SuspendAt: a decoder holds its frame's
// window, two blocks and its block buffers (about 0.65 MiB for the files
// this package writes, 2.4 MiB for legacy's level 3), so a program that
// keeps many streams open but decodes a few at a time (asrestore of a
// directory) suspends the others.
type Reader struct {
	file *countingReader
	src  io.Reader // what Read returns: the decoder, or the (decrypted) file
	comp *tap      // the compressed stream, as the decoder reads it
	dec  *zstd.Decoder
	text int64 // text bytes returned so far
	// suspended is set while a suspended reader (SuspendAt) has no
	// decoder.
	suspended bool
	err       error
}

// maxReplay bounds the compressed bytes a Reader that may be suspended
// keeps (see AllowSuspend): enough for a frame header and the largest
// block.
const maxReplay = 256 << 10

// tap is the compressed stream the decoder reads. It serves replay first
// (the bytes a suspended decoder had consumed) and, while recording, keeps
// a copy of what it reads.
type tap struct {
	r         io.Reader
	replay    []byte
	rec       []byte
	recording bool
}

func (t *tap) Read(p []byte) (int, error) {
	if len(t.replay) > 0 {
		n := copy(p, t.replay)
		t.replay = t.replay[n:]
		if len(t.replay) == 0 {
			t.replay = nil
		}
		return n, nil
	}
	n, err := t.r.Read(p)
	if t.recording && n > 0 {
		if len(t.rec)+n > maxReplay {
			t.recording, t.rec = false, nil
		} else {
			t.rec = append(t.rec, p[:n]...)
		}
	}
	return n, err
}

// decoders holds idle zstd decoders: their buffers (window ring, block
// buffers) are reused by the next stream, and those idle through two
// garbage collections are dropped.
var decoders sync.Pool

// inUse counts the decoders Readers hold.
var inUse atomic.Int64

// DecodersInUse returns how many zstd decoders Readers hold now.
func DecodersInUse() int { return int(inUse.Load()) }

// getDecoder returns an idle decoder or a new one, reset to read r.
func getDecoder(r io.Reader) (*zstd.Decoder, error) {
	d, ok := decoders.Get().(*zstd.Decoder)
	if ok {
		if err := d.Reset(r); err != nil {
			return nil, err
		}
	} else {
		var err error
		d, err = zstd.NewReader(r,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(MaxWindow),
		)
		if err != nil {
			return nil, err
		}
	}
	inUse.Add(1)
	return d, nil
}

// putDecoder gives back a decoder that is no longer used.
func putDecoder(d *zstd.Decoder) {
	inUse.Add(-1)
	// Reset(nil) only drops the reference to the input; it cannot fail.
	_ = d.Reset(nil)
	decoders.Put(d)
}

// NewReader starts decoding r. With encryption it reads and decrypts the
// 16-byte header immediately (IVError if the stream is shorter).
// Options.IV and Options.Level are ignored.
func NewReader(r io.Reader, opts Options) (*Reader, error) {
	opts.Level = 0
	if err := opts.validate(); err != nil {
		return nil, err
	}
	rd := &Reader{file: &countingReader{r: r}}
	rd.src = rd.file
	if opts.Cipher != None {
		var hdr [16]byte
		n, err := io.ReadFull(rd.file, hdr[:])
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, &IVError{Got: n}
			}
			return nil, err
		}
		b, err := aes.NewCipher(opts.Key)
		if err != nil {
			return nil, err
		}
		var iv [16]byte
		b.Decrypt(iv[:], hdr[:])
		ks, err := newKeystream(opts.Key, add128(iv, 1), 0)
		if err != nil {
			return nil, err
		}
		rd.src = &decrypter{r: rd.file, ks: ks}
	}
	if opts.Compress {
		rd.comp = &tap{r: rd.src}
		dec, err := getDecoder(rd.comp)
		if err != nil {
			return nil, err
		}
		rd.dec = dec
		rd.src = dec
	}
	return rd, nil
}

// AllowSuspend makes the Reader keep a copy of the compressed bytes its
// decoder reads (at most 256 KiB, a frame header and the largest block),
// so that SuspendAt can give the decoder back. Call it before the first
// Read.
func (r *Reader) AllowSuspend() {
	if r.comp != nil && r.text == 0 && r.err == nil {
		r.comp.recording = true
	}
}

// SuspendAt gives back the decoder of a Reader (see AllowSuspend) that has
// read little so far and moves it back to text offset at (at most the
// text returned so far): the next Read takes a decoder again, decodes the
// kept bytes once more, skips the text before at and goes on from there.
// It reports whether the Reader holds no decoder now and reads on from
// at; when it cannot (more than the kept bytes were read, AllowSuspend was
// not called, or at is not where a Reader without a decoder stands: a
// stream without compression or one that ended) nothing changes.
func (r *Reader) SuspendAt(at int64) bool {
	if at < 0 || at > r.text {
		return false
	}
	if r.suspended {
		r.text = at
		return true
	}
	if r.dec == nil {
		return at == r.text
	}
	if r.err != nil || !r.comp.recording {
		return false
	}
	putDecoder(r.dec)
	r.dec, r.src = nil, nil
	r.suspended = true
	r.comp.recording = false
	r.text = at
	return true
}

// resume takes a decoder for a suspended Reader and brings it back to the
// position where it was suspended.
func (r *Reader) resume() error {
	r.comp.replay, r.comp.rec = r.comp.rec, nil
	dec, err := getDecoder(r.comp)
	if err != nil {
		return err
	}
	r.dec, r.src, r.suspended = dec, dec, false
	if r.text > 0 {
		// The same bytes decode to the same text: this cannot fail
		// where the first decoding did not.
		if _, err := io.CopyN(io.Discard, dec, r.text); err != nil {
			return err
		}
	}
	return nil
}

// Read returns decoded text; io.EOF at the end of the stream (after all
// concatenated zstd frames).
func (r *Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	var n int
	err := r.resumeIfSuspended()
	if err == nil {
		n, err = r.src.Read(p)
		r.text += int64(n)
	}
	if err != nil && err != io.EOF && r.comp != nil {
		var de *DecompressError
		if !errors.As(err, &de) {
			err = decompressError(err)
		}
	}
	if err != nil {
		r.err = err
		r.release()
	}
	return n, err
}

func (r *Reader) resumeIfSuspended() error {
	if !r.suspended {
		return nil
	}
	return r.resume()
}

// release gives the decoder back once nothing more is decoded.
func (r *Reader) release() {
	if r.comp != nil {
		r.comp.rec, r.comp.replay, r.comp.recording = nil, nil, false
	}
	if r.dec != nil {
		putDecoder(r.dec)
		r.dec, r.src = nil, nil
	}
	r.suspended = false
}

// BytesRead returns the number of bytes consumed from the underlying reader
// so far (the file position, for progress reporting).
func (r *Reader) BytesRead() int64 { return r.file.n }

// Close releases the decoder. It does not close the underlying reader.
func (r *Reader) Close() error {
	r.release()
	if r.err == nil {
		r.err = errors.New("stream: read from closed reader")
	}
	return nil
}
