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
	// Namespace, when set, is the namespace every record must be in (the
	// legacy asrestore's -n source namespace): a record of another one is
	// a syntax error, reported where the legacy reader reports it (at the
	// end of the "+ n" line). IndexNamespace makes index lines checked
	// too, which the legacy reader does only when -n also names a target
	// namespace.
	Namespace      string
	IndexNamespace bool
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
	r.p.ns, r.p.indexNS = r.opts.Namespace, r.opts.IndexNamespace && r.opts.Namespace != ""
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
	if len(r.p.chain) > 0 {
		se.Legacy = append([]string(nil), r.p.chain...)
		used := min(r.p.i, len(win))
		reached := used
		if r.p.peeked && used < len(win) {
			reached++
		}
		se.Consumed = r.base + int64(r.rpos) + int64(used)
		se.Reached = r.base + int64(r.rpos) + int64(reached)
		se.LegacyLine = r.line + bytes.Count(win[:used], []byte{'\n'})
		if r.p.startChar {
			se.LegacyLine = r.line
		}
	}
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
	p.line0 = r.line
	r.ar.reset()
	c := p.b[0]
	switch {
	case c == '+':
		if p.fastRecord(&r.rec) && (p.ns == "" || string(r.rec.Namespace) == p.ns) {
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
	// The legacy reader takes the first byte of an entry without
	// counting lines: a line feed there leaves the line number alone.
	p.i, p.startChar = 1, true
	p.legacy("Invalid start character %s in block (line %d, col 1)", legacyChar(c), r.line)
	return 0, p.fail(0, "start of entry", exp, quoteByte(c))
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
