package asb

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
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

func (w *Writer) appendToken(buf, s []byte, what string, stops string) ([]byte, error) {
	if w.version == Version30 {
		for _, c := range s {
			for k := 0; k < len(stops); k++ {
				if c == stops[k] {
					return buf, fmt.Errorf("asb: %s %q cannot be written in a version 3.0 file", what, s)
				}
			}
		}
		return append(buf, s...), nil
	}
	return escapeAppend(buf, s), nil
}

// appendB64 appends "<encoded size> <base64>".
func appendB64(buf, b []byte) []byte {
	n := (len(b) + 2) / 3 * 4
	buf = appendUint(buf, uint64(n))
	buf = append(buf, ' ')
	s := len(buf)
	buf = growTo(buf, s+n)
	encodeBase64(buf[s:], b)
	return buf
}

// appendRaw appends "<size> <bytes>".
func appendRaw(buf, b []byte) []byte {
	buf = appendUint(buf, uint64(len(b)))
	buf = append(buf, ' ')
	return append(buf, b...)
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
	// The record is built in a local slice (kept in registers) and stored
	// back once complete.
	buf := w.buf
	var err error
	k := &r.Key
	switch k.Type {
	case KeyNone:
	case KeyInt:
		buf = append(buf, "+ k I "...)
		buf = appendInt(buf, k.Int)
		buf = append(buf, '\n')
	case KeyFloat:
		buf = append(buf, "+ k D "...)
		buf = AppendFloat(buf, k.Float)
		buf = append(buf, '\n')
	case KeyString:
		buf = append(buf, "+ k S "...)
		buf = appendRaw(buf, k.Bytes)
		buf = append(buf, '\n')
	case KeyString64:
		buf = append(buf, "+ k X "...)
		buf = appendB64(buf, k.Bytes)
		buf = append(buf, '\n')
	case KeyBytes:
		if k.Compact {
			buf = append(buf, "+ k B! "...)
			buf = appendRaw(buf, k.Bytes)
		} else {
			buf = append(buf, "+ k B "...)
			buf = appendB64(buf, k.Bytes)
		}
		buf = append(buf, '\n')
	default:
		return fmt.Errorf("asb: invalid key type %q", byte(k.Type))
	}
	buf = append(buf, "+ n "...)
	if buf, err = w.appendToken(buf, r.Namespace, "namespace", "\n\x00"); err != nil {
		return err
	}
	buf = append(buf, "\n+ d "...)
	s := len(buf)
	buf = growTo(buf, s+28)
	encodeBase64(buf[s:], r.Digest[:])
	buf = append(buf, '\n')
	if r.HasSet || len(r.Set) > 0 {
		buf = append(buf, "+ s "...)
		if buf, err = w.appendToken(buf, r.Set, "set", "\n\x00"); err != nil {
			return err
		}
		buf = append(buf, '\n')
	}
	buf = append(buf, "+ g "...)
	buf = appendUint(buf, uint64(r.Generation))
	buf = append(buf, "\n+ t "...)
	buf = appendUint(buf, uint64(r.VoidTime))
	buf = append(buf, "\n+ b "...)
	buf = appendUint(buf, uint64(len(r.Bins)))
	buf = append(buf, '\n')
	for i := range r.Bins {
		if buf, err = w.appendBin(buf, &r.Bins[i]); err != nil {
			return err
		}
	}
	w.buf = buf
	return nil
}

func (w *Writer) appendBin(buf []byte, b *Bin) ([]byte, error) {
	if !isBinLetter(byte(b.Type)) || b.Type == BinLDT {
		return buf, fmt.Errorf("asb: bin %q: invalid bin type %q", b.Name, byte(b.Type))
	}
	buf = append(buf, '-', ' ', byte(b.Type))
	if b.Compact {
		buf = append(buf, '!')
	}
	buf = append(buf, ' ')
	var err error
	if buf, err = w.appendToken(buf, b.Name, "bin name", " \n\x00"); err != nil {
		return buf, err
	}
	switch b.Type {
	case BinNil:
		return append(buf, '\n'), nil
	case BinBool:
		if b.Bool {
			return append(buf, " T\n"...), nil
		}
		return append(buf, " F\n"...), nil
	case BinInt:
		buf = append(buf, ' ')
		buf = appendInt(buf, b.Int)
	case BinFloat:
		buf = append(buf, ' ')
		buf = AppendFloat(buf, b.Float)
	case BinString, BinGeoJSON:
		buf = append(buf, ' ')
		buf = appendRaw(buf, b.Bytes)
	case BinString64:
		buf = append(buf, ' ')
		buf = appendB64(buf, b.Bytes)
	default:
		buf = append(buf, ' ')
		if b.Compact {
			buf = appendRaw(buf, b.Bytes)
		} else {
			buf = appendB64(buf, b.Bytes)
		}
	}
	return append(buf, '\n'), nil
}

// digitPairs holds "00" to "99".
const digitPairs = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// pow10u64[i] is 10^i.
var pow10u64 = func() (t [20]uint64) {
	t[0] = 1
	for i := 1; i < len(t); i++ {
		t[i] = t[i-1] * 10
	}
	return
}()

// appendUint appends v in decimal, writing the digits in place (two at a
// time, from the end) rather than through a temporary.
func appendUint(dst []byte, v uint64) []byte {
	if v < 10 {
		return append(dst, byte('0'+v))
	}
	// Digit count: bits.Len64(v)*1233>>12 is floor(log10(2^len)), which
	// is the count less one, or the count itself when v is below that
	// power of ten.
	t := bits.Len64(v) * 1233 >> 12
	n := t + 1
	if v < pow10u64[t] {
		n = t
	}
	l := len(dst)
	dst = growTo(dst, l+n)
	d := dst[l : l+n : l+n]
	i := n
	for v >= 100 {
		q := v / 100
		r := (v - q*100) * 2
		i -= 2
		d[i], d[i+1] = digitPairs[r], digitPairs[r+1]
		v = q
	}
	if v >= 10 {
		d[0], d[1] = digitPairs[v*2], digitPairs[v*2+1]
	} else {
		d[0] = byte('0' + v)
	}
	return dst
}

// appendInt appends v in decimal.
func appendInt(dst []byte, v int64) []byte {
	if v < 0 {
		return appendUint(append(dst, '-'), uint64(-v))
	}
	return appendUint(dst, uint64(v))
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
	w.buf = appendUint(w.buf, uint64(len(ix.Paths)))
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
	w.buf = appendRaw(w.buf, u.Content)
	w.buf = append(w.buf, '\n')
	return w.maybeFlush()
}
