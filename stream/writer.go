package stream

import (
	"crypto/aes"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// Position is a writer's resumable state, in the units of the legacy .state
// file's io-proxy header.
type Position struct {
	// BytesWritten counts bytes handed to the underlying writer, including the
	// 16-byte header of an encrypted stream (legacy byte_cnt).
	BytesWritten uint64
	// RawBytes counts text bytes pushed through the stages, plus 16 for the
	// header of an encrypted stream (legacy raw_byte_cnt).
	RawBytes uint64
	// IV is the legacy CTR position: next counter block − 1 (zero when not
	// encrypting).
	IV [16]byte
	// Num is the offset inside the current AES block (0–15).
	Num uint32
}

// ErrClosed is returned by writes to a closed Writer.
var ErrClosed = errors.New("stream: write to closed writer")

// Writer writes the legacy stream. It is not safe for concurrent use.
type Writer struct {
	w    io.Writer
	opts Options
	pool *encoderPool
	// enc is the encoder of the open frame (nil between frames).
	enc *zstd.Encoder
	// sink receives the encoder's output (compressed blocks).
	sink   *blockSink
	ks     *keystream
	header []byte // encrypted IV still to be written
	buf    []byte // text not yet pushed through the stages
	pos    Position
	err    error
	closed bool
	// bufSize is the capacity of buf.
	bufSize int
}

// NewWriter starts a new stream on w. With encryption the 16-byte header is
// written together with the first data handed to w (at the latest on Flush or
// Close).
func NewWriter(w io.Writer, opts Options) (*Writer, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	wr, err := newWriter(w, opts)
	if err != nil {
		return nil, err
	}
	if opts.Cipher != None {
		var iv [16]byte
		if opts.IV != nil {
			iv = *opts.IV
		} else if iv, err = newIV(); err != nil {
			return nil, fmt.Errorf("stream: generating IV: %w", err)
		}
		b, err := aes.NewCipher(opts.Key)
		if err != nil {
			return nil, err
		}
		wr.header = make([]byte, 16)
		b.Encrypt(wr.header, iv[:])
		if wr.ks, err = newKeystream(opts.Key, add128(iv, 1), 0); err != nil {
			return nil, err
		}
		wr.pos.RawBytes = 16
	}
	return wr, nil
}

// ResumeWriter continues a stream whose first part is already in the file
// (--continue): w must append to that file, pos is the Position captured
// (after a Flush) when the first part ended, or the one read from a legacy
// .state entry. No header is written; the CTR keystream continues exactly
// where pos says.
func ResumeWriter(w io.Writer, opts Options, pos Position) (*Writer, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if pos.Num > 15 {
		return nil, fmt.Errorf("stream: invalid AES block position %d (must be 0-15)", pos.Num)
	}
	wr, err := newWriter(w, opts)
	if err != nil {
		return nil, err
	}
	wr.pos = pos
	if opts.Cipher != None {
		ctr, off := fromLegacy(pos.IV, pos.Num)
		if wr.ks, err = newKeystream(opts.Key, ctr, off); err != nil {
			return nil, err
		}
	} else {
		wr.pos.IV, wr.pos.Num = [16]byte{}, 0
	}
	return wr, nil
}

func newWriter(w io.Writer, opts Options) (*Writer, error) {
	wr := &Writer{w: w, opts: opts}
	if opts.Compress {
		wr.pool = sharedEncoders(opts.Level)
		wr.sink = &blockSink{w: wr}
		wr.buf = make([]byte, 0, BlockSize)
	} else {
		wr.buf = make([]byte, 0, plainBufSize)
	}
	wr.bufSize = cap(wr.buf)
	return wr, nil
}

// Write accepts text. Data is buffered (4 KiB, or BlockSize with
// compression) and pushed through the stages when the buffer is full.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, ErrClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	n := 0
	for len(p) > 0 {
		if len(w.buf) == 0 && len(p) >= cap(w.buf) && !w.opts.Compress && w.opts.Cipher == None {
			// Nothing to transform: hand the whole buffer-sized blocks of
			// a large write straight to the file. The rest is buffered,
			// so that the bytes handed on are always whole blocks, as
			// legacy commits them (its per-job "size:" counts them).
			whole := len(p) / cap(w.buf) * cap(w.buf)
			m, err := w.emit(p[:whole])
			w.pos.RawBytes += uint64(m)
			n += m
			if err != nil {
				return n, err
			}
			p = p[whole:]
			continue
		}
		c := copy(w.buf[len(w.buf):cap(w.buf)], p)
		w.buf = w.buf[:len(w.buf)+c]
		p = p[c:]
		n += c
		if len(w.buf) == cap(w.buf) {
			if err := w.commit(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// WriteString is Write for a string.
func (w *Writer) WriteString(s string) (int, error) {
	return w.Write([]byte(s))
}

// commit pushes the buffered text through compression (one block of the
// open frame, which starts here if none is open) and encryption to the
// underlying writer.
func (w *Writer) commit() error {
	if len(w.buf) == 0 {
		if w.header != nil {
			_, err := w.emit(nil)
			return err
		}
		return nil
	}
	if w.pool == nil {
		return w.emitText(w.buf)
	}
	if w.enc == nil {
		enc, err := w.pool.get(w.sink)
		if err != nil {
			w.err = err
			return err
		}
		w.enc = enc
	}
	// A full buffer is exactly one block: the encoder compresses it and
	// hands it to the sink before Write returns. A partial one stays in the
	// encoder until the frame ends.
	_, err := w.enc.Write(w.buf)
	if err == nil {
		err = w.err
	}
	w.pos.RawBytes += uint64(len(w.buf))
	w.buf = w.buf[:0]
	if err != nil {
		w.err = err
	}
	return err
}

// endFrame ends the open frame (the encoder writes its last block) and
// gives the encoder back to the pool.
func (w *Writer) endFrame() error {
	if w.enc == nil {
		return nil
	}
	err := w.enc.Close()
	if err == nil {
		err = w.err
	}
	if err != nil {
		w.err = err
		w.enc = nil // its state is unknown: not reused
		return err
	}
	w.pool.put(w.enc)
	w.enc = nil
	return nil
}

// blockSink takes the encoder's output: it encrypts it (in a buffer of its
// own, the encoder's is not ours to change) and hands it on.
type blockSink struct {
	w   *Writer
	buf []byte
}

func (s *blockSink) Write(p []byte) (int, error) {
	w := s.w
	if w.err != nil {
		return 0, w.err
	}
	data := p
	if w.ks != nil {
		s.buf = append(s.buf[:0], p...)
		data = s.buf
		w.ks.xor(data)
	}
	n, err := w.emit(data)
	if err != nil {
		return n, err
	}
	return len(p), nil
}

// emitText encrypts the buffered text in place and hands it on; the
// buffered text is then consumed.
func (w *Writer) emitText(data []byte) error {
	if w.ks != nil {
		w.ks.xor(data)
	}
	w.pos.RawBytes += uint64(len(w.buf))
	w.buf = w.buf[:0]
	_, err := w.emit(data)
	return err
}

// emit writes the pending header (if any) and data to the underlying writer.
func (w *Writer) emit(data []byte) (int, error) {
	if w.header != nil {
		n, err := w.w.Write(w.header)
		w.pos.BytesWritten += uint64(n)
		if err == nil && n < len(w.header) {
			err = io.ErrShortWrite
		}
		if err != nil {
			w.header = w.header[n:]
			w.err = err
			return 0, err
		}
		w.header = nil
	}
	if len(data) == 0 {
		return 0, nil
	}
	n, err := w.w.Write(data)
	w.pos.BytesWritten += uint64(n)
	if err == nil && n < len(data) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = err
	}
	return n, err
}

// Flush pushes all buffered text to the underlying writer, ending the current
// zstd frame. It does not sync the file.
func (w *Writer) Flush() error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if err := w.commit(); err != nil {
		return err
	}
	return w.endFrame()
}

// Close flushes the stream. It does not close the underlying writer.
// Closing twice is a no-op.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	err := w.Flush()
	w.closed = true
	w.buf = nil
	if w.sink != nil {
		w.sink.buf = nil
	}
	return err
}

// BufferSize returns the size of the text buffer: the stream hands text on
// (and fails, if the file does) in blocks of this size.
func (w *Writer) BufferSize() int { return w.bufSize }

// BytesWritten returns the number of bytes handed to the underlying writer so
// far (excluding buffered data): the size used for --file-limit, progress and
// the summary.
func (w *Writer) BytesWritten() uint64 { return w.pos.BytesWritten }

// Buffered returns the number of text bytes accepted but not yet handed on.
func (w *Writer) Buffered() int { return len(w.buf) }

// Position returns the writer's resumable state. It describes the bytes
// handed to the underlying writer, so capture it right after Flush (when
// Buffered() is 0) to resume with ResumeWriter.
func (w *Writer) Position() Position {
	p := w.pos
	if w.ks != nil {
		p.IV, p.Num = w.ks.legacy()
	}
	return p
}

// WriteCiphertext hands p to the underlying writer unchanged (no
// compression, no encryption, keystream not advanced). It serves to drain the
// "encrypted" buffer of a legacy .state entry on resume; call it before any
// other write.
func (w *Writer) WriteCiphertext(p []byte) error {
	if err := w.preResume(); err != nil {
		return err
	}
	_, err := w.emit(p)
	return err
}

// WriteCompressed encrypts p (if encrypting) and hands it to the underlying
// writer without compressing it. It serves to drain the "compressed" buffer of
// a legacy .state entry (complete zstd frames) on resume; call it after
// WriteCiphertext and before Write.
func (w *Writer) WriteCompressed(p []byte) error {
	if err := w.preResume(); err != nil {
		return err
	}
	if len(p) == 0 {
		return nil
	}
	data := append([]byte(nil), p...)
	if w.ks != nil {
		w.ks.xor(data)
	}
	_, err := w.emit(data)
	return err
}

func (w *Writer) preResume() error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if len(w.buf) != 0 {
		return errors.New("stream: pending legacy buffers must be written before any text")
	}
	return nil
}
