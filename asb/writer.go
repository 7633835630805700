package asb

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

const writerFlushSize = 64 << 10

// Writer encodes a backup file to an io.Writer. It buffers internally; call
// Flush at the end. Writing a record allocates nothing in the steady state.
type Writer struct {
	w       io.Writer
	buf     []byte
	version Version
	started bool
	n       int64
	err     error
}

// NewWriter returns a Writer on w. The header must be written first.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, buf: make([]byte, 0, writerFlushSize+4096)}
}

// NewBodyWriter returns a Writer that appends entries to the body of a file
// of version v whose header was written earlier (e.g. when resuming). The
// byte count starts at offset.
func NewBodyWriter(w io.Writer, v Version, offset int64) *Writer {
	wr := NewWriter(w)
	wr.version, wr.started, wr.n = v, true, offset
	return wr
}

// Offset returns the number of bytes written so far, including buffered
// ones: the offset at which the next entry starts.
func (w *Writer) Offset() int64 { return w.n + int64(len(w.buf)) }

// Buffered returns the number of bytes not yet handed to the io.Writer.
func (w *Writer) Buffered() int { return len(w.buf) }

// Flush writes buffered data to the underlying io.Writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if len(w.buf) == 0 {
		return nil
	}
	m, err := w.w.Write(w.buf)
	w.n += int64(m)
	if err == nil && m < len(w.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = err
		return err
	}
	w.buf = w.buf[:0]
	return nil
}

func (w *Writer) maybeFlush() error {
	if len(w.buf) >= writerFlushSize {
		return w.Flush()
	}
	return nil
}

// WriteHeader writes "Version X.Y" and the meta lines. A zero Version means
// Version31.
func (w *Writer) WriteHeader(h *Header) error {
	if w.err != nil {
		return w.err
	}
	if w.started {
		return errors.New("asb: header already written")
	}
	v := h.Version
	if v == 0 {
		v = Version31
	}
	if v != Version30 && v != Version31 && v != Version32 {
		return fmt.Errorf("asb: cannot write version %s", v)
	}
	w.version, w.started = v, true
	w.buf = append(w.buf, "Version "...)
	w.buf = append(w.buf, v.String()...)
	w.buf = append(w.buf, '\n')
	for _, m := range h.Meta {
		if err := w.WriteMeta(m); err != nil {
			return err
		}
	}
	return w.maybeFlush()
}

// WriteMeta writes one "# " line (legacy writes "# first-file" after the
// namespace line, so meta lines may follow WriteHeader). It must come before
// any entry.
func (w *Writer) WriteMeta(m Meta) error {
	if !w.started {
		return errors.New("asb: header not written")
	}
	for i := 0; i < len(m.Text); i++ {
		if m.Text[i] == '\n' || m.Text[i] == 0 {
			return fmt.Errorf("asb: meta line %q contains a line feed or NUL", m.Text)
		}
	}
	if len(m.Text)+1 > maxMetaLine {
		return fmt.Errorf("asb: meta line %q too long", m.Text)
	}
	w.buf = append(w.buf, "# "...)
	w.buf = append(w.buf, m.Text...)
	w.buf = append(w.buf, '\n')
	return nil
}

// token appends a name, escaped unless the file is version 3.0, where
// characters that would end the token are refused.
func (w *Writer) token(s []byte, what string, stops string) error {
	if w.version == Version30 {
		for _, c := range s {
			for k := 0; k < len(stops); k++ {
				if c == stops[k] {
					return fmt.Errorf("asb: %s %q cannot be written in a version 3.0 file", what, s)
				}
			}
		}
		w.buf = append(w.buf, s...)
		return nil
	}
	w.buf = escapeAppend(w.buf, s)
	return nil
}

func (w *Writer) b64(b []byte) {
	n := base64.StdEncoding.EncodedLen(len(b))
	w.buf = strconv.AppendInt(w.buf, int64(n), 10)
	w.buf = append(w.buf, ' ')
	s := len(w.buf)
	w.buf = growTo(w.buf, s+n)
	base64.StdEncoding.Encode(w.buf[s:], b)
}

func (w *Writer) raw(b []byte) {
	w.buf = strconv.AppendInt(w.buf, int64(len(b)), 10)
	w.buf = append(w.buf, ' ')
	w.buf = append(w.buf, b...)
}

func growTo(b []byte, n int) []byte {
	if n <= cap(b) {
		return b[:n]
	}
	nb := make([]byte, n, max(n, 2*cap(b)))
	copy(nb, b)
	return nb
}

// WriteRecord writes one record.
func (w *Writer) WriteRecord(r *Record) error {
	if w.err != nil {
		return w.err
	}
	if !w.started {
		return errors.New("asb: header not written")
	}
	if len(r.Bins) > math.MaxUint16 {
		return fmt.Errorf("asb: record has %d bins, at most 65535 allowed", len(r.Bins))
	}
	mark := len(w.buf)
	if err := w.record(r); err != nil {
		w.buf = w.buf[:mark]
		return err
	}
	return w.maybeFlush()
}

func (w *Writer) record(r *Record) error {
	k := &r.Key
	switch k.Type {
	case KeyNone:
	case KeyInt:
		w.buf = append(w.buf, "+ k I "...)
		w.buf = strconv.AppendInt(w.buf, k.Int, 10)
		w.buf = append(w.buf, '\n')
	case KeyFloat:
		w.buf = append(w.buf, "+ k D "...)
		w.buf = AppendFloat(w.buf, k.Float)
		w.buf = append(w.buf, '\n')
	case KeyString:
		w.buf = append(w.buf, "+ k S "...)
		w.raw(k.Bytes)
		w.buf = append(w.buf, '\n')
	case KeyString64:
		w.buf = append(w.buf, "+ k X "...)
		w.b64(k.Bytes)
		w.buf = append(w.buf, '\n')
	case KeyBytes:
		if k.Compact {
			w.buf = append(w.buf, "+ k B! "...)
			w.raw(k.Bytes)
		} else {
			w.buf = append(w.buf, "+ k B "...)
			w.b64(k.Bytes)
		}
		w.buf = append(w.buf, '\n')
	default:
		return fmt.Errorf("asb: invalid key type %q", byte(k.Type))
	}
	w.buf = append(w.buf, "+ n "...)
	if err := w.token(r.Namespace, "namespace", "\n"); err != nil {
		return err
	}
	w.buf = append(w.buf, "\n+ d "...)
	s := len(w.buf)
	w.buf = growTo(w.buf, s+28)
	base64.StdEncoding.Encode(w.buf[s:], r.Digest[:])
	w.buf = append(w.buf, '\n')
	if r.HasSet || len(r.Set) > 0 {
		w.buf = append(w.buf, "+ s "...)
		if err := w.token(r.Set, "set", "\n"); err != nil {
			return err
		}
		w.buf = append(w.buf, '\n')
	}
	w.buf = append(w.buf, "+ g "...)
	w.buf = strconv.AppendUint(w.buf, uint64(r.Generation), 10)
	w.buf = append(w.buf, "\n+ t "...)
	w.buf = strconv.AppendUint(w.buf, uint64(r.VoidTime), 10)
	w.buf = append(w.buf, "\n+ b "...)
	w.buf = strconv.AppendUint(w.buf, uint64(len(r.Bins)), 10)
	w.buf = append(w.buf, '\n')
	for i := range r.Bins {
		if err := w.bin(&r.Bins[i]); err != nil {
			return err
		}
	}
	return nil
}

func (w *Writer) bin(b *Bin) error {
	if !isBinLetter(byte(b.Type)) || b.Type == BinLDT {
		return fmt.Errorf("asb: bin %q: invalid bin type %q", b.Name, byte(b.Type))
	}
	w.buf = append(w.buf, '-', ' ', byte(b.Type))
	if b.Compact {
		w.buf = append(w.buf, '!')
	}
	w.buf = append(w.buf, ' ')
	if err := w.token(b.Name, "bin name", " \n"); err != nil {
		return err
	}
	switch b.Type {
	case BinNil:
		w.buf = append(w.buf, '\n')
		return nil
	case BinBool:
		if b.Bool {
			w.buf = append(w.buf, " T\n"...)
		} else {
			w.buf = append(w.buf, " F\n"...)
		}
		return nil
	case BinInt:
		w.buf = append(w.buf, ' ')
		w.buf = strconv.AppendInt(w.buf, b.Int, 10)
	case BinFloat:
		w.buf = append(w.buf, ' ')
		w.buf = AppendFloat(w.buf, b.Float)
	case BinString, BinGeoJSON:
		w.buf = append(w.buf, ' ')
		w.raw(b.Bytes)
	case BinString64:
		w.buf = append(w.buf, ' ')
		w.b64(b.Bytes)
	default:
		w.buf = append(w.buf, ' ')
		if b.Compact {
			w.raw(b.Bytes)
		} else {
			w.b64(b.Bytes)
		}
	}
	w.buf = append(w.buf, '\n')
	return nil
}

// WriteIndex writes a secondary index line ("* i", or "* e" for an
// expression index, which needs a Version32 header).
func (w *Writer) WriteIndex(ix *Index) error {
	if w.err != nil {
		return w.err
	}
	if !w.started {
		return errors.New("asb: header not written")
	}
	if w.version == Version30 {
		return errors.New("asb: version 3.0 files have no global section")
	}
	if ix.Expression != "" && w.version < Version32 {
		return fmt.Errorf("asb: expression index %q needs a version 3.2 file", ix.Name)
	}
	if len(ix.Paths) == 0 {
		return fmt.Errorf("asb: index %q has no path", ix.Name)
	}
	switch ix.Type {
	case IndexDefault, IndexList, IndexMapKeys, IndexMapValues:
	default:
		return fmt.Errorf("asb: index %q: invalid index type %q", ix.Name, byte(ix.Type))
	}
	if ix.Expression != "" {
		w.buf = append(w.buf, "* e "...)
	} else {
		w.buf = append(w.buf, "* i "...)
	}
	w.buf = escapeAppend(w.buf, []byte(ix.Namespace))
	w.buf = append(w.buf, ' ')
	w.buf = escapeAppend(w.buf, []byte(ix.Set))
	w.buf = append(w.buf, ' ')
	w.buf = escapeAppend(w.buf, []byte(ix.Name))
	w.buf = append(w.buf, ' ', byte(ix.Type), ' ')
	w.buf = strconv.AppendInt(w.buf, int64(len(ix.Paths)), 10)
	for i, p := range ix.Paths {
		switch p.Type {
		case IndexNumeric, IndexString, IndexGeo, IndexBlob:
		default:
			return fmt.Errorf("asb: index %q: invalid data type %q", ix.Name, byte(p.Type))
		}
		if i > 0 {
			// The legacy reader expects an extra separator between paths.
			w.buf = append(w.buf, ' ')
		}
		w.buf = append(w.buf, ' ')
		w.buf = escapeAppend(w.buf, []byte(p.Bin))
		w.buf = append(w.buf, ' ', byte(p.Type))
	}
	if ix.HasContext || ix.Context != "" {
		w.buf = append(w.buf, ' ')
		w.buf = escapeAppend(w.buf, []byte(ix.Context))
	}
	if ix.Expression != "" {
		w.buf = append(w.buf, ' ')
		w.buf = escapeAppend(w.buf, []byte(ix.Expression))
	}
	w.buf = append(w.buf, '\n')
	return w.maybeFlush()
}

// WriteUDF writes a UDF module line.
func (w *Writer) WriteUDF(u *UDF) error {
	if w.err != nil {
		return w.err
	}
	if !w.started {
		return errors.New("asb: header not written")
	}
	if w.version == Version30 {
		return errors.New("asb: version 3.0 files have no global section")
	}
	t := u.Type
	if t == 0 {
		t = 'L'
	}
	if t != 'L' {
		return fmt.Errorf("asb: UDF %q: invalid type %q", u.Name, t)
	}
	w.buf = append(w.buf, '*', ' ', 'u', ' ', t, ' ')
	w.buf = escapeAppend(w.buf, []byte(u.Name))
	w.buf = append(w.buf, ' ')
	w.raw(u.Content)
	w.buf = append(w.buf, '\n')
	return w.maybeFlush()
}
