package stream

import (
	"crypto/aes"
	"errors"
	"fmt"
	"io"

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
type Reader struct {
	file *countingReader
	src  io.Reader
	dec  *zstd.Decoder
	err  error
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
		dec, err := zstd.NewReader(rd.src,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(MaxWindow),
		)
		if err != nil {
			return nil, err
		}
		rd.dec = dec
		rd.src = dec
	}
	return rd, nil
}

// Read returns decoded text; io.EOF at the end of the stream (after all
// concatenated zstd frames).
func (r *Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.src.Read(p)
	if err != nil && err != io.EOF && r.dec != nil {
		var de *DecompressError
		if !errors.As(err, &de) {
			err = decompressError(err)
		}
	}
	if err != nil {
		r.err = err
	}
	return n, err
}

// BytesRead returns the number of bytes consumed from the underlying reader
// so far (the file position, for progress reporting).
func (r *Reader) BytesRead() int64 { return r.file.n }

// Close releases the decoder. It does not close the underlying reader.
func (r *Reader) Close() error {
	if r.dec != nil {
		r.dec.Close()
		r.dec = nil
	}
	if r.err == nil {
		r.err = errors.New("stream: read from closed reader")
	}
	return nil
}
