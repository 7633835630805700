package asb

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
)

const (
	// maxToken is the longest token the legacy reader accepts (its buffers
	// hold 1000 bytes including the terminating NUL).
	maxToken = 999
	// maxNamespace and maxSet are the legacy limits for "+ n" and "+ s".
	maxNamespace = 31
	maxSet       = 63
	// maxBinName is the longest bin name the legacy reader can store.
	maxBinName = 15
	// maxSize is the largest length field the legacy reader accepts.
	maxSize = 1 << 50
	// maxMetaLine is the longest "#" line content (after '#', excluding LF).
	maxMetaLine = 998

	defaultBufferSize = 64 << 10
	// DefaultMaxEntrySize bounds the bytes one entry (record, index or UDF
	// line) may span when ReaderOptions.MaxEntrySize is 0.
	DefaultMaxEntrySize = 1 << 30
)

// ReaderOptions configures a Reader.
type ReaderOptions struct {
	// FileName is used in error messages.
	FileName string
	// MaxVersion is the highest header version accepted; 0 means
	// Version32. Version31 emulates the legacy tools, which reject 3.2.
	MaxVersion Version
	// BufferSize is the initial read buffer size (0: 64 KiB). The buffer
	// grows to hold the largest entry.
	BufferSize int
	// MaxEntrySize bounds the size of one entry (0: DefaultMaxEntrySize),
	// so that a corrupt length field cannot make the buffer grow without
	// limit.
	MaxEntrySize int
}

// EntryKind tells what Next returned.
type EntryKind uint8

// Entry kinds.
const (
	EntryRecord EntryKind = iota + 1
	EntryIndex
	EntryUDF
)

// String names the kind.
func (k EntryKind) String() string {
	switch k {
	case EntryRecord:
		return "record"
	case EntryIndex:
		return "index"
	case EntryUDF:
		return "udf"
	}
	return "invalid"
}

// Entry is one item of a file's body. Exactly one of Record, Index and UDF
// is non-nil, matching Kind. The pointed-to value belongs to the Reader and
// is overwritten by the next call to Next; its byte slices stay valid until
// then. Use Record.Clone to keep a record.
type Entry struct {
	Kind   EntryKind
	Offset int64 // byte offset of the entry's first line
	Line   int   // 1-based line number of the entry's first line
	Record *Record
	Index  *Index
	UDF    *UDF
}

// Reader decodes a backup file from an io.Reader in a streaming fashion:
// memory use is bounded by the largest entry, not by the file size.
type Reader struct {
	src  io.Reader
	opts ReaderOptions

	buf        []byte
	rpos, wpos int
	base       int64 // file offset of buf[0]
	line       int   // line number at buf[rpos]
	eof        bool
	zeroReads  int

	hdr     Header
	hdrDone bool
	version Version

	p   parser
	rec Record
	idx Index
	udf UDF
	ar  arena

	err error
}

// NewReader returns a Reader that decodes a whole file (header first) from
// src.
func NewReader(src io.Reader, opts ReaderOptions) *Reader {
	r := &Reader{src: src, opts: opts, line: 1}
	r.init()
	return r
}

// NewBodyReader returns a Reader whose src starts inside the body of a file
// of version v, at an entry boundary: offset and line are that position in
// the file (as reported by Entry.Offset and Entry.Line) and are used for
// positions and error messages. No header is read.
func NewBodyReader(src io.Reader, v Version, offset int64, line int, opts ReaderOptions) *Reader {
	r := &Reader{src: src, opts: opts, line: line, base: offset}
	r.init()
	r.hdrDone = true
	r.hdr = Header{Version: v}
	r.version = v
	return r
}

// ReadRecordAt decodes the record whose first line is at offset (and line)
// of a file of version v, e.g. from an index of Entry offsets.
func ReadRecordAt(ra io.ReaderAt, offset int64, line int, v Version, opts ReaderOptions) (*Record, error) {
	if opts.BufferSize == 0 {
		opts.BufferSize = 4 << 10
	}
	r := NewBodyReader(io.NewSectionReader(ra, offset, math.MaxInt64-offset), v, offset, line, opts)
	e, err := r.Next()
	if err == io.EOF {
		return nil, &SyntaxError{File: opts.FileName, Line: line, Column: 1, Offset: offset,
			Context: "record", Expected: "a record", Found: foundEOF}
	}
	if err != nil {
		return nil, err
	}
	if e.Kind != EntryRecord {
		return nil, &SyntaxError{File: opts.FileName, Line: line, Column: 1, Offset: offset,
			Context: "record", Expected: "a record", Found: "a global line (" + e.Kind.String() + ")"}
	}
	return e.Record, nil
}

func (r *Reader) init() {
	n := r.opts.BufferSize
	if n <= 0 {
		n = defaultBufferSize
	}
	if r.opts.MaxVersion == 0 {
		r.opts.MaxVersion = Version32
	}
	if r.opts.MaxEntrySize <= 0 {
		r.opts.MaxEntrySize = DefaultMaxEntrySize
	}
	r.buf = make([]byte, n)
	r.ar.chunk = max(4<<10, min(n, 64<<10))
	r.p.ar = &r.ar
}

// SetFileName sets the file name used in error messages.
func (r *Reader) SetFileName(name string) { r.opts.FileName = name }

// Offset returns the file offset of the next entry.
func (r *Reader) Offset() int64 { return r.base + int64(r.rpos) }

// Line returns the line number of the next entry.
func (r *Reader) Line() int { return r.line }

// Version returns the file's version (valid after Header succeeded).
func (r *Reader) Version() Version { return r.version }

// Header reads (once) and returns the version line and meta lines.
func (r *Reader) Header() (*Header, error) {
	if r.hdrDone {
		return &r.hdr, nil
	}
	if r.err != nil {
		return nil, r.err
	}
	for {
		err := r.parseHeader()
		if err == errNeedMore {
			if err := r.fill(r.p.need); err != nil {
				r.err = err
				return nil, err
			}
			continue
		}
		if err != nil {
			r.err = r.locate(err)
			return nil, r.err
		}
		r.hdrDone = true
		return &r.hdr, nil
	}
}

func (r *Reader) parseHeader() error {
	p := &r.p
	p.reset(r.buf[r.rpos:r.wpos], r.eof, true)
	b := p.b
	// Version line: exactly "Version X.Y\n" in the first 12 bytes.
	n := bytes.IndexByte(b[:min(len(b), 12)], '\n') + 1
	if n == 0 {
		n = min(len(b), 12)
		if n < 12 && !p.atEOF {
			p.need = 12
			return errNeedMore
		}
	}
	line := b[:n]
	if len(line) == 0 {
		return p.fail(0, "version line", `"Version 3.1"`, foundEOF)
	}
	if n != 12 || !bytes.HasPrefix(line, []byte("Version ")) || line[11] != '\n' {
		return p.fail(0, "version line", `"Version 3.1" and a line feed`, quoteToken(line))
	}
	var v Version
	switch string(line[8:11]) {
	case "3.0":
		v = Version30
	case "3.1":
		v = Version31
	case "3.2":
		v = Version32
	}
	if v == 0 || v > r.opts.MaxVersion {
		return p.fail(8, "backup file version", "3.0 to "+r.opts.MaxVersion.String(), quoteToken(line[8:11]))
	}
	p.i = 12
	meta := r.hdr.Meta[:0]
	for {
		if p.i >= len(b) {
			if !p.atEOF {
				p.need = p.i + 1
				return errNeedMore
			}
			break
		}
		if b[p.i] != '#' {
			break
		}
		start := p.i + 1
		lim := min(len(b), start+maxMetaLine+1)
		nl := bytes.IndexByte(b[start:lim], '\n')
		if nl < 0 {
			if lim == len(b) && !p.atEOF && len(b) < start+maxMetaLine+1 {
				p.need = start + maxMetaLine + 1
				return errNeedMore
			}
			return p.fail(start, "meta data line", "a line feed within 999 bytes", "a longer line or end of file")
		}
		text := b[start : start+nl]
		if z := bytes.IndexByte(text, 0); z >= 0 {
			return p.fail(start+z, "meta data line", "no NUL byte", `\x00`)
		}
		if len(text) == 0 || text[0] != ' ' {
			return p.fail(start, "meta data line", `"# first-file" or "# namespace <ns>"`, quoteToken(append([]byte{'#'}, text...)))
		}
		body := text[1:]
		var kind MetaKind
		switch {
		case string(body) == "first-file":
			kind = MetaFirstFile
		case bytes.HasPrefix(body, []byte("namespace")):
			kind = MetaNamespace
		default:
			return p.fail(start, "meta data line", `"# first-file" or "# namespace <ns>"`, quoteToken(append([]byte{'#'}, text...)))
		}
		meta = append(meta, Meta{Kind: kind, Text: string(body)})
		p.i = start + nl + 1
	}
	r.hdr.Version = v
	r.hdr.Meta = meta
	r.hdr.Size = r.base + int64(r.rpos) + int64(p.i)
	r.version = v
	r.line += bytes.Count(b[:p.i], []byte{'\n'})
	r.rpos += p.i
	return nil
}

// Next decodes the next entry. It returns io.EOF after the last entry, a
// *SyntaxError for malformed input, or the source's read error. Errors are
// sticky.
func (r *Reader) Next() (Entry, error) {
	if r.err != nil {
		return Entry{}, r.err
	}
	if !r.hdrDone {
		if _, err := r.Header(); err != nil {
			return Entry{}, err
		}
	}
	for {
		if r.rpos == r.wpos {
			if r.eof {
				r.err = io.EOF
				return Entry{}, io.EOF
			}
			if err := r.fill(1); err != nil {
				r.err = err
				return Entry{}, err
			}
			continue
		}
		kind, err := r.parseEntry()
		if err == errNeedMore {
			if err := r.fill(r.p.need); err != nil {
				r.err = err
				return Entry{}, err
			}
			continue
		}
		if err != nil {
			r.err = r.locate(err)
			return Entry{}, r.err
		}
		e := Entry{Kind: kind, Offset: r.base + int64(r.rpos), Line: r.line}
		switch kind {
		case EntryRecord:
			r.rec.Offset, r.rec.Line = e.Offset, e.Line
			e.Record = &r.rec
		case EntryIndex:
			r.idx.Offset, r.idx.Line = e.Offset, e.Line
			e.Index = &r.idx
		case EntryUDF:
			r.udf.Offset, r.udf.Line = e.Offset, e.Line
			e.UDF = &r.udf
		}
		r.line += bytes.Count(r.buf[r.rpos:r.rpos+r.p.i], []byte{'\n'})
		r.rpos += r.p.i
		return e, nil
	}
}

// fill makes at least need bytes available from rpos, unless the source
// ends first (then r.eof is set and the parser reports the truncation).
func (r *Reader) fill(need int) error {
	if need > r.opts.MaxEntrySize {
		pos := r.wpos - r.rpos
		return r.locate(r.p.fail(pos, "entry", fmt.Sprintf("at most %d bytes per entry", r.opts.MaxEntrySize), "a longer entry"))
	}
	// Ask for some slack so that a growing entry is not re-parsed for every
	// small read.
	if have := r.wpos - r.rpos; need < have+have/2 {
		need = min(have+have/2, r.opts.MaxEntrySize)
	}
	if need < 4096 {
		need = 4096
	}
	if r.rpos > 0 {
		copy(r.buf, r.buf[r.rpos:r.wpos])
		r.base += int64(r.rpos)
		r.wpos -= r.rpos
		r.rpos = 0
	}
	for r.wpos < need && !r.eof {
		if r.wpos == len(r.buf) {
			nb := make([]byte, max(2*len(r.buf), 4096))
			copy(nb, r.buf[:r.wpos])
			r.buf = nb
		}
		n, err := r.src.Read(r.buf[r.wpos:])
		r.wpos += n
		switch {
		case err == io.EOF:
			r.eof = true
		case err != nil:
			return fmt.Errorf("%s: read error at offset %d: %w", r.fileName(), r.base+int64(r.wpos), err)
		case n == 0:
			r.zeroReads++
			if r.zeroReads > 100 {
				return fmt.Errorf("%s: %w", r.fileName(), io.ErrNoProgress)
			}
		default:
			r.zeroReads = 0
		}
	}
	return nil
}

func (r *Reader) fileName() string {
	if r.opts.FileName == "" {
		return "<input>"
	}
	return r.opts.FileName
}

// locate completes a parser error with file, offset, line and column.
func (r *Reader) locate(err error) error {
	var se *SyntaxError
	if !errors.As(err, &se) {
		return err
	}
	pos := r.p.errPos
	win := r.buf[r.rpos:r.wpos]
	if pos > len(win) {
		pos = len(win)
	}
	se.File = r.opts.FileName
	se.Offset = r.base + int64(r.rpos) + int64(pos)
	se.Line = r.line + bytes.Count(win[:pos], []byte{'\n'})
	if nl := bytes.LastIndexByte(win[:pos], '\n'); nl >= 0 {
		se.Column = pos - nl
	} else {
		se.Column = pos + 1
	}
	return se
}

func (r *Reader) parseEntry() (EntryKind, error) {
	p := &r.p
	p.reset(r.buf[r.rpos:r.wpos], r.eof, r.version != Version30)
	r.ar.reset()
	c := p.b[0]
	switch {
	case c == '+':
		if p.fastRecord(&r.rec) {
			return EntryRecord, nil
		}
		r.ar.reset()
		p.i = 1
		return EntryRecord, p.record(&r.rec)
	case c == '*' && r.version != Version30:
		p.i = 1
		return r.parseGlobal()
	}
	exp := `"+" (record)`
	if r.version != Version30 {
		exp = `"+" (record) or "*" (global)`
	}
	return 0, p.fail(0, "start of entry", exp, quoteByte(c))
}

var errNeedMore = errors.New("asb: need more input")

// parser decodes one entry from a window that starts at the entry.
type parser struct {
	b      []byte
	i      int
	atEOF  bool
	unesc  bool
	need   int
	errPos int
	ar     *arena
}

func (p *parser) reset(b []byte, atEOF, unesc bool) {
	p.b, p.i, p.atEOF, p.unesc, p.need, p.errPos = b, 0, atEOF, unesc, 0, 0
}

func (p *parser) fail(pos int, context, expected, found string) error {
	p.errPos = pos
	return &SyntaxError{Context: context, Expected: expected, Found: found}
}

// short reports that need bytes are required: errNeedMore, or a truncation
// error at end of input.
func (p *parser) short(need int, context, expected string) error {
	if p.atEOF {
		return p.fail(len(p.b), context, expected, foundEOF)
	}
	p.need = need
	return errNeedMore
}

func (p *parser) expect(c byte, context string) error {
	if i := p.i; i < len(p.b) && p.b[i] == c {
		p.i = i + 1
		return nil
	}
	return p.expectSlow(c, context)
}

func (p *parser) expectSlow(c byte, context string) error {
	if p.i >= len(p.b) {
		if !p.atEOF {
			p.need = p.i + 1
			return errNeedMore
		}
		return p.short(p.i+1, context, quoteByte(c))
	}
	return p.fail(p.i, context, quoteByte(c), quoteByte(p.b[p.i]))
}

func (p *parser) next(context, expected string) (byte, error) {
	if p.i < len(p.b) {
		c := p.b[p.i]
		p.i++
		return c, nil
	}
	return 0, p.short(p.i+1, context, expected)
}

func (p *parser) peek(context, expected string) (byte, error) {
	if p.i >= len(p.b) {
		return 0, p.short(p.i+1, context, expected)
	}
	return p.b[p.i], nil
}

// Byte classes that end a token scan: the delimiters plus the escape
// character.
var (
	stopLF      = stopTable("\n\\")
	stopSpace   = stopTable(" \\")
	stopSpaceLF = stopTable(" \n\\")
)

func stopTable(chars string) (t [256]bool) {
	for i := 0; i < len(chars); i++ {
		t[chars[i]] = true
	}
	return
}

// token reads bytes up to (not including) delimiter d1 or d2, unescaping
// backslashes unless the file is version 3.0. The result aliases the input
// or the arena.
func (p *parser) token(d1, d2 byte, limit int, context string) ([]byte, error) {
	b := p.b
	start := p.i
	i := start
	if d1 == '\n' && d2 == '\n' {
		// Short tokens (numbers) are scanned inline; long ones with
		// IndexByte.
		end := min(len(b), start+limit+1)
		for i < end && i-start < 24 && !stopLF[b[i]] {
			i++
		}
		if i < end && i-start == 24 {
			if k := bytes.IndexByte(b[i:end], '\n'); k >= 0 {
				i += k
			} else {
				i = end
			}
		}
	} else {
		stop := &stopSpaceLF
		if d1 == ' ' && d2 == ' ' {
			stop = &stopSpace
		}
		for i < len(b) && !stop[b[i]] && i-start <= limit {
			i++
		}
	}
	if p.unesc && bytes.IndexByte(b[start:i], '\\') >= 0 {
		return p.tokenEsc(start, d1, d2, limit, context)
	}
	if i-start > limit {
		if p.unesc && i < len(b) && b[i] == '\\' {
			return p.tokenEsc(start, d1, d2, limit, context)
		}
		return nil, p.fail(start+limit, context, fmt.Sprintf("at most %d bytes", limit), "a longer token")
	}
	if i < len(b) {
		if c := b[i]; c == d1 || c == d2 {
			p.i = i
			return b[start:i:i], nil
		}
		if p.unesc {
			// an escape character
			return p.tokenEsc(start, d1, d2, limit, context)
		}
		// a backslash in a version 3.0 token is data
		for i < len(b) && b[i] != d1 && b[i] != d2 {
			if i-start == limit {
				return nil, p.fail(i, context, fmt.Sprintf("at most %d bytes", limit), "a longer token")
			}
			i++
		}
		if i < len(b) {
			p.i = i
			return b[start:i:i], nil
		}
	}
	if !p.atEOF {
		p.need = len(b) + 1
		return nil, errNeedMore
	}
	return nil, p.short(len(b)+1, context, "token delimiter "+quoteByte(d1))
}

func (p *parser) tokenEsc(start int, d1, d2 byte, limit int, context string) ([]byte, error) {
	b := p.b
	esc := false
	n := 0
	i := start
	for ; i < len(b); i++ {
		c := b[i]
		if c == '\\' && !esc {
			esc = true
			continue
		}
		if !esc && (c == d1 || c == d2) {
			break
		}
		esc = false
		if n == limit {
			return nil, p.fail(i, context, fmt.Sprintf("at most %d bytes", limit), "a longer token")
		}
		n++
	}
	if i == len(b) {
		if !p.atEOF {
			p.need = len(b) + 1
			return nil, errNeedMore
		}
		return nil, p.short(len(b)+1, context, "token delimiter "+quoteByte(d1))
	}
	out := p.ar.alloc(n)
	k := 0
	esc = false
	for j := start; j < i; j++ {
		c := b[j]
		if c == '\\' && !esc {
			esc = true
			continue
		}
		esc = false
		out[k] = c
		k++
	}
	p.i = i
	return out, nil
}

// size reads an unsigned decimal length terminated by delim.
func (p *parser) size(delim byte, context string) (int, error) {
	start := p.i
	tok, err := p.token(delim, delim, maxToken, context)
	if err != nil {
		return 0, err
	}
	v := 0
	for j, c := range tok {
		if c < '0' || c > '9' {
			return 0, p.fail(min(start+j, p.i), context, "digit", quoteByte(c))
		}
		v = v*10 + int(c-'0')
		if v > maxSize {
			return 0, p.fail(start, context, "a size of at most 1024^5", quoteToken(tok))
		}
	}
	return v, nil
}

// integer reads a signed 64-bit decimal terminated by a line feed. Like the
// legacy reader it takes an empty token (or a lone "-") as 0.
func (p *parser) integer(context string) (int64, error) {
	// Fast path: up to 18 plain digits and a line feed.
	b := p.b
	if i := p.i; i < len(b) && b[i] != '\n' {
		neg := b[i] == '-'
		if neg {
			i++
		}
		var v int64
		j := i
		for ; j < len(b) && j-i < 18; j++ {
			c := b[j]
			if c < '0' || c > '9' {
				break
			}
			v = v*10 + int64(c-'0')
		}
		if j > i && j < len(b) && b[j] == '\n' {
			p.i = j
			if neg {
				return -v, nil
			}
			return v, nil
		}
	}
	start := p.i
	tok, err := p.token('\n', '\n', maxToken, context)
	if err != nil {
		return 0, err
	}
	neg := len(tok) > 0 && tok[0] == '-'
	digits := tok
	if neg {
		digits = tok[1:]
	}
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	var v uint64
	for j, c := range digits {
		if c < '0' || c > '9' {
			off := j
			if neg {
				off++
			}
			return 0, p.fail(min(start+off, p.i), context, "digit", quoteByte(c))
		}
		d := uint64(c - '0')
		if v > (limit-d)/10 {
			return 0, p.fail(start, context, "a 64-bit integer", quoteToken(tok))
		}
		v = v*10 + d
	}
	if neg {
		return int64(-v), nil
	}
	return int64(v), nil
}

// float reads a double terminated by a line feed, accepting exactly what the
// legacy reader accepts.
func (p *parser) float(context string) (float64, error) {
	start := p.i
	tok, err := p.token('\n', '\n', maxToken, context)
	if err != nil {
		return 0, err
	}
	if bad := floatBadIndex(tok); bad >= 0 {
		return 0, p.fail(min(start+bad, p.i), context, "floating point notation", quoteByte(tok[bad]))
	}
	f, ok := parseFloatToken(tok)
	if !ok {
		return 0, p.fail(start, context, "a floating-point value", quoteToken(tok))
	}
	return f, nil
}

// block returns the next n raw bytes.
func (p *parser) block(n int, context string) ([]byte, error) {
	if len(p.b)-p.i < n {
		if !p.atEOF {
			p.need = p.i + n + 1
			return nil, errNeedMore
		}
		return nil, p.short(p.i+n+1, context, fmt.Sprintf("%d bytes of data", n))
	}
	v := p.b[p.i : p.i+n : p.i+n]
	p.i += n
	return v, nil
}

// rawValue reads "<size> <bytes>".
func (p *parser) rawValue(context string) ([]byte, error) {
	n, err := p.size(' ', context)
	if err != nil {
		return nil, err
	}
	if err := p.expect(' ', context); err != nil {
		return nil, err
	}
	return p.block(n, context)
}

// b64Value reads "<encoded size> <base64>" and decodes it into the arena.
func (p *parser) b64Value(context string) ([]byte, error) {
	start := p.i
	n, err := p.size(' ', context)
	if err != nil {
		return nil, err
	}
	if n&3 != 0 {
		return nil, p.fail(start, context, "an encoded size that is a multiple of 4", fmt.Sprint(n))
	}
	if err := p.expect(' ', context); err != nil {
		return nil, err
	}
	src, err := p.block(n, context)
	if err != nil {
		if e := p.badBase64Prefix(context); e != nil {
			return nil, e
		}
		return nil, err
	}
	dst := p.ar.alloc(n / 4 * 3)
	m, bad := decodeBase64(dst, src)
	if bad >= 0 {
		g := src[bad : bad+4]
		return nil, p.fail(p.i-n+bad+3, context, "base64 data",
			fmt.Sprintf("%s %s %s %s", quoteByte(g[0]), quoteByte(g[1]), quoteByte(g[2]), quoteByte(g[3])))
	}
	return dst[:m:m], nil
}

func (p *parser) record(rec *Record) error {
	bins := rec.Bins[:0]
	*rec = Record{Bins: bins}
	const expected = "kndsgtb"
	quoted := [...]string{`"k"`, `"n"`, `"d"`, `"s"`, `"g"`, `"t"`, `"b"`}
	for st := 0; st < 7; st++ {
		if err := p.expect(' ', "record"); err != nil {
			return err
		}
		c, err := p.next("record", quoted[st])
		if err != nil {
			return err
		}
		switch {
		case st == 0 && c == 'n':
			st = 1
		case st == 3 && c == 'g':
			st = 4
		case c != expected[st]:
			return p.fail(p.i-1, "record line", quoted[st], quoteByte(c))
		}
		if err := p.expect(' ', "record line"); err != nil {
			return err
		}
		switch st {
		case 0:
			err = p.key(&rec.Key)
		case 1:
			var ns []byte
			ns, err = p.token('\n', '\n', maxNamespace, "namespace")
			rec.Namespace = ns
		case 2:
			err = p.digest(&rec.Digest)
		case 3:
			var set []byte
			set, err = p.token('\n', '\n', maxSet, "set")
			rec.Set, rec.HasSet = set, true
		case 4:
			start := p.i
			var g int64
			g, err = p.integer("generation")
			if err == nil && (g < 0 || g > math.MaxUint16) {
				err = p.fail(start, "generation", "0 to 65535", fmt.Sprint(g))
			}
			rec.Generation = uint16(g)
		case 5:
			start := p.i
			var t int64
			t, err = p.integer("expiration time")
			if err == nil && (t < 0 || t > math.MaxUint32) {
				err = p.fail(start, "expiration time", "0 to 4294967295", fmt.Sprint(t))
			}
			rec.VoidTime = uint32(t)
		case 6:
			start := p.i
			var n int64
			n, err = p.integer("bin count")
			if err == nil && (n < 0 || n > math.MaxUint16) {
				err = p.fail(start, "bin count", "0 to 65535", fmt.Sprint(n))
			}
			if err == nil {
				if err = p.expect('\n', "bin count"); err == nil {
					for j := 0; j < int(n) && err == nil; j++ {
						bins = append(bins, Bin{})
						err = p.bin(&bins[len(bins)-1])
					}
					rec.Bins = bins
				}
			}
			if err != nil {
				rec.Bins = bins[:0]
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if st != 2 && st != 0 {
			if err := p.expect('\n', "record line"); err != nil {
				return err
			}
		}
		if err := p.expect('+', "record"); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) key(k *Key) error {
	c, err := p.next("key", "key type")
	if err != nil {
		return err
	}
	switch c {
	case 'I':
		if err = p.expect(' ', "key"); err != nil {
			return err
		}
		k.Type = KeyInt
		k.Int, err = p.integer("integer key")
	case 'D':
		if err = p.expect(' ', "key"); err != nil {
			return err
		}
		k.Type = KeyFloat
		k.Float, err = p.float("floating-point key")
	case 'S':
		if err = p.expect(' ', "key"); err != nil {
			return err
		}
		k.Type = KeyString
		k.Bytes, err = p.rawValue("string key")
	case 'X':
		if err = p.expect(' ', "key"); err != nil {
			return err
		}
		k.Type = KeyString64
		k.Bytes, err = p.b64Value("encoded string key")
	case 'B':
		var d byte
		if d, err = p.peek("key", `"!" or " "`); err != nil {
			return err
		}
		k.Type = KeyBytes
		if d == '!' {
			k.Compact = true
			p.i++
		}
		if err = p.expect(' ', "key"); err != nil {
			return err
		}
		start := p.i
		if k.Compact {
			k.Bytes, err = p.rawValue("bytes key")
		} else {
			k.Bytes, err = p.b64Value("encoded bytes key")
		}
		if err == nil && len(k.Bytes) > math.MaxUint32 {
			err = p.fail(start, "bytes key", "at most 4294967295 bytes", fmt.Sprint(len(k.Bytes)))
		}
	default:
		return p.fail(p.i-1, "key type", `one of "I", "D", "S", "X", "B"`, quoteByte(c))
	}
	if err != nil {
		return err
	}
	return p.expect('\n', "key")
}

// badBase64Prefix reports an invalid base64 group among the complete groups
// before the end of truncated input, which the legacy reader (decoding as
// it reads) reports instead of the truncation.
func (p *parser) badBase64Prefix(context string) error {
	if !p.atEOF {
		return nil
	}
	src := p.b[p.i:]
	src = src[:len(src)&^3]
	var tmp [3]byte
	for g := 0; g < len(src); g += 4 {
		if _, bad := decodeBase64(tmp[:], src[g:g+4]); bad >= 0 {
			q := src[g : g+4]
			return p.fail(p.i+g+3, context, "base64 data",
				fmt.Sprintf("%s %s %s %s", quoteByte(q[0]), quoteByte(q[1]), quoteByte(q[2]), quoteByte(q[3])))
		}
	}
	return nil
}

func (p *parser) digest(d *[20]byte) error {
	src, err := p.block(28, "digest")
	if err != nil {
		if e := p.badBase64Prefix("digest"); e != nil {
			return e
		}
		return err
	}
	var tmp [21]byte
	if _, bad := decodeBase64(tmp[:], src); bad >= 0 {
		g := src[bad : bad+4]
		return p.fail(p.i-28+bad+3, "digest", "base64 data",
			fmt.Sprintf("%s %s %s %s", quoteByte(g[0]), quoteByte(g[1]), quoteByte(g[2]), quoteByte(g[3])))
	}
	copy(d[:], tmp[:20])
	return p.expect('\n', "digest")
}

func (p *parser) bin(b *Bin) error {
	if err := p.expect('-', "bin"); err != nil {
		return err
	}
	if err := p.expect(' ', "bin"); err != nil {
		return err
	}
	c, err := p.next("bin type", "bin type")
	if err != nil {
		return err
	}
	labelAt := p.i - 1
	if !isBinLetter(c) {
		return p.fail(labelAt, "bin type", `one of "N I D S X G B J C P R H E Y M L Z"`, quoteByte(c))
	}
	b.Type = BinType(c)
	d, err := p.peek("bin", `"!" or " "`)
	if err != nil {
		return err
	}
	if d == '!' {
		b.Compact = true
		p.i++
	}
	if err := p.expect(' ', "bin"); err != nil {
		return err
	}
	nameAt := p.i
	b.Name, err = p.token(' ', '\n', maxToken, "bin name")
	if err != nil {
		return err
	}
	if b.Type == BinNil {
		if err := p.expect('\n', "nil bin"); err != nil {
			return err
		}
		return p.checkBinName(b.Name, nameAt)
	}
	if err := p.expect(' ', "bin"); err != nil {
		return err
	}
	switch b.Type {
	case BinBool:
		at := p.i
		tok, err := p.token('\n', '\n', maxToken, "boolean bin value")
		if err != nil {
			return err
		}
		switch string(tok) {
		case "T":
			b.Bool = true
		case "F":
		default:
			return p.fail(at, "boolean bin value", `"T" or "F"`, quoteToken(tok))
		}
	case BinInt:
		b.Int, err = p.integer("integer bin value")
	case BinFloat:
		b.Float, err = p.float("floating-point bin value")
	case BinString, BinGeoJSON:
		b.Bytes, err = p.rawValue("string bin value")
	case BinString64:
		b.Bytes, err = p.b64Value("encoded string bin value")
	case BinLDT:
		return p.fail(labelAt, "bin type", "no LDT bins (use an older tool to restore LDTs)", `"U"`)
	default:
		at := p.i
		if b.Compact {
			b.Bytes, err = p.rawValue("bytes bin value")
		} else {
			b.Bytes, err = p.b64Value("encoded bytes bin value")
		}
		if err == nil && len(b.Bytes) > math.MaxUint32 {
			err = p.fail(at, "bytes bin value", "at most 4294967295 bytes", fmt.Sprint(len(b.Bytes)))
		}
	}
	if err != nil {
		return err
	}
	if err := p.expect('\n', "bin"); err != nil {
		return err
	}
	return p.checkBinName(b.Name, nameAt)
}

var binLetters = stopTable(binTypeLetters)

func isBinLetter(c byte) bool { return binLetters[c] }

// checkBinName applies the legacy record's limit (names are C strings of
// at most 15 bytes).
func (p *parser) checkBinName(name []byte, at int) error {
	n := len(name)
	if z := bytes.IndexByte(name, 0); z >= 0 {
		n = z
	}
	if n > maxBinName {
		return p.fail(at, "bin name", "at most 15 bytes", quoteToken(name))
	}
	return nil
}

func (r *Reader) parseGlobal() (EntryKind, error) {
	p := &r.p
	p.unesc = true
	if err := p.expect(' ', "global line"); err != nil {
		return 0, err
	}
	c, err := p.next("global line", "global line type")
	if err != nil {
		return 0, err
	}
	switch {
	case c == 'i':
		return EntryIndex, p.index(&r.idx, false)
	case c == 'e' && r.version >= Version32:
		return EntryIndex, p.index(&r.idx, true)
	case c == 'u':
		return EntryUDF, p.udf(&r.udf)
	}
	exp := `"i" or "u"`
	if r.version >= Version32 {
		exp = `"i", "e" or "u"`
	}
	return 0, p.fail(p.i-1, "global line type", exp, quoteByte(c))
}

func (p *parser) stringToken(d byte, context string) (string, error) {
	t, err := p.token(d, d, maxToken, context)
	return string(t), err
}

func (p *parser) index(ix *Index, isExpr bool) error {
	paths := ix.Paths[:0]
	*ix = Index{Paths: paths}
	var err error
	if err = p.expect(' ', "index"); err != nil {
		return err
	}
	if ix.Namespace, err = p.stringToken(' ', "index namespace"); err != nil {
		return err
	}
	if err = p.expect(' ', "index"); err != nil {
		return err
	}
	if ix.Set, err = p.stringToken(' ', "index set"); err != nil {
		return err
	}
	if err = p.expect(' ', "index"); err != nil {
		return err
	}
	if ix.Name, err = p.stringToken(' ', "index name"); err != nil {
		return err
	}
	if err = p.expect(' ', "index"); err != nil {
		return err
	}
	c, err := p.next("index type", "index type")
	if err != nil {
		return err
	}
	switch IndexType(c) {
	case IndexDefault, IndexList, IndexMapKeys, IndexMapValues:
		ix.Type = IndexType(c)
	default:
		return p.fail(p.i-1, "index type", `one of "N", "L", "K", "V"`, quoteByte(c))
	}
	if err = p.expect(' ', "index"); err != nil {
		return err
	}
	at := p.i
	n, err := p.size(' ', "index path count")
	if err != nil {
		return err
	}
	if n == 0 {
		return p.fail(at, "index path count", "at least 1", "0")
	}
	for k := 0; k < n; k++ {
		if err = p.expect(' ', "index path"); err != nil {
			return err
		}
		var path IndexPath
		if path.Bin, err = p.stringToken(' ', "index path"); err != nil {
			return err
		}
		if err = p.expect(' ', "index path"); err != nil {
			return err
		}
		c, err := p.next("index data type", "index data type")
		if err != nil {
			return err
		}
		switch IndexDataType(c) {
		case IndexNumeric, IndexString, IndexGeo, IndexBlob:
			path.Type = IndexDataType(c)
		default:
			return p.fail(p.i-1, "index data type", `one of "N", "S", "G", "B"`, quoteByte(c))
		}
		if k != n-1 {
			if err = p.expect(' ', "index path"); err != nil {
				return err
			}
		}
		paths = append(paths, path)
		ix.Paths = paths
	}
	d, err := p.peek("index", "a line feed")
	if err != nil {
		return err
	}
	if d != '\n' {
		if err = p.expect(' ', "index"); err != nil {
			return err
		}
		ix.HasContext = true
	}
	at = p.i
	rest, err := p.stringToken('\n', "index context")
	if err != nil {
		return err
	}
	if isExpr {
		ix.HasContext = false
		if sp := lastIndexByteString(rest, ' '); sp >= 0 {
			ix.Context, ix.HasContext, ix.Expression = rest[:sp], true, rest[sp+1:]
		} else {
			ix.Expression = rest
		}
		if ix.Expression == "" {
			return p.fail(at, "index expression", "a base64 expression", "nothing")
		}
	} else {
		ix.Context = rest
	}
	return p.expect('\n', "index")
}

func lastIndexByteString(s string, c byte) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func (p *parser) udf(u *UDF) error {
	*u = UDF{}
	if err := p.expect(' ', "UDF"); err != nil {
		return err
	}
	c, err := p.next("UDF type", `"L"`)
	if err != nil {
		return err
	}
	if c != 'L' {
		return p.fail(p.i-1, "UDF type", `"L"`, quoteByte(c))
	}
	u.Type = c
	if err = p.expect(' ', "UDF"); err != nil {
		return err
	}
	if u.Name, err = p.stringToken(' ', "UDF name"); err != nil {
		return err
	}
	if err = p.expect(' ', "UDF"); err != nil {
		return err
	}
	at := p.i
	n, err := p.size(' ', "UDF size")
	if err != nil {
		return err
	}
	if n > math.MaxUint32 {
		return p.fail(at, "UDF size", "at most 4294967295", fmt.Sprint(n))
	}
	if err = p.expect(' ', "UDF"); err != nil {
		return err
	}
	if u.Content, err = p.block(n, "UDF content"); err != nil {
		return err
	}
	return p.expect('\n', "UDF")
}

// arena hands out byte slices for decoded values. Chunks are reused across
// entries and never moved, so earlier slices stay valid while later ones
// are allocated.
type arena struct {
	chunks [][]byte
	cur    int
	// chunk is the smallest chunk size (0: 64 KiB); readers with a small
	// read buffer (ReadRecordAt) use small chunks too.
	chunk int
}

func (a *arena) reset() {
	for i := 0; i <= a.cur && i < len(a.chunks); i++ {
		a.chunks[i] = a.chunks[i][:0]
	}
	a.cur = 0
}

func (a *arena) alloc(n int) []byte {
	for a.cur < len(a.chunks) {
		c := a.chunks[a.cur]
		if cap(c)-len(c) >= n {
			s := len(c)
			c = c[:s+n]
			a.chunks[a.cur] = c
			return c[s : s+n : s+n]
		}
		a.cur++
		if a.cur < len(a.chunks) {
			a.chunks[a.cur] = a.chunks[a.cur][:0]
		}
	}
	size := a.chunk
	if size <= 0 {
		size = 64 << 10
	}
	c := make([]byte, n, max(n, size))
	a.chunks = append(a.chunks, c)
	a.cur = len(a.chunks) - 1
	return c[:n:n]
}
