package restore

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"asbtools/asb"
	"asbtools/msg"
	"asbtools/storage"
	"asbtools/stream"
)

// fail returns an error with the given ERR lines.
func fail(lines ...string) *msg.Error {
	e := &msg.Error{}
	for _, l := range lines {
		e.Lines = append(e.Lines, msg.Err("%s", l))
	}
	return e
}

// parseFailure is a decoding error with the legacy lines (see
// legacyParseError).
func parseFailure(err error, path string, recordLine int) *msg.Error {
	f := fail(legacyParseError(err, path, recordLine)...)
	f.Err = err
	return f
}

// countingReader counts the bytes read from the backup file into a shared
// counter (progress and --nice bandwidth).
type countingReader struct {
	r     io.Reader
	n     *atomic.Uint64
	limit *limiter
	own   uint64 // bytes of this file
}

func (c *countingReader) Read(p []byte) (int, error) {
	if len(p) > 64<<10 {
		p = p[:64<<10]
	}
	n, err := c.r.Read(p)
	if n > 0 {
		c.own += uint64(n)
		c.n.Add(uint64(n))
		if c.limit != nil {
			c.limit.addBytes(uint64(n))
		}
	}
	return n, err
}

// readBufferSize is the size of the read buffers of one backup file (the
// decoder's buffer grows to the largest entry when needed).
const readBufferSize = 16 << 10

// source is one opened backup file: its decoder and what is needed to
// report errors the legacy way.
type source struct {
	path   string
	file   io.Closer // nil for stdin
	size   int64     // the file's size (-1 for stdin)
	stream *stream.Reader
	reader *asb.Reader // see records
	// body and bodyOpts are what records reads the body with.
	body     io.Reader
	bodyOpts asb.ReaderOptions
	version  asb.Version
	line     int
	offset   int64 // where the body starts in the text
	counter  *countingReader
	// shared is set for -i: the legacy tool then counts the bytes its
	// shared reader read in, in whole blocks; for the files of a directory
	// it counts the bytes its reader consumed.
	shared bool
}

// legacyReadBlock is the size of the blocks the legacy tool reads a plain
// backup file in; its byte count (and so its progress percentage) grows
// by whole blocks.
const legacyReadBlock = 4096

// stoppedAt makes the byte count of a plain file that failed to parse what
// the legacy tool counts when its reader stops at the same defect, not
// what this reader read ahead: with -i the blocks it had read up to the
// last byte its reader looked at, for a file of a directory the bytes its
// reader consumed. The final progress line then shows the same percentage.
func (s *source) stoppedAt(err error) {
	var se *asb.SyntaxError
	if s.stream != nil || s.counter == nil || !errors.As(err, &se) || len(se.Legacy) == 0 {
		return
	}
	c := uint64(se.Consumed)
	if s.shared {
		c = (uint64(se.Reached) + legacyReadBlock - 1) / legacyReadBlock * legacyReadBlock
	}
	switch {
	case c < s.counter.own:
		s.counter.n.Add(^(s.counter.own - c - 1))
		s.counter.own = c
	case c > s.counter.own && s.file != nil && s.size >= 0:
		// The legacy tool had read more than this reader has: at most
		// the file's size.
		c = min(c, uint64(s.size))
		if c > s.counter.own {
			s.counter.n.Add(c - s.counter.own)
			s.counter.own = c
		}
	}
}

// close releases the input. It is read-only: every byte the restore uses
// was read and checked before, so a failing close loses nothing and is not
// reported (the legacy tool does not check it either).
func (s *source) close() {
	if s.stream != nil {
		_ = s.stream.Close()
	}
	if s.file != nil {
		_ = s.file.Close()
	}
}

// hexDump renders data like the legacy hex_dump: one line per 16 bytes,
// "%04x" offset, " %02x" per byte padded to 16 columns, a space, and the
// printable characters.
func hexDump(data []byte) []string {
	var out []string
	for i := 0; i < len(data); i += 16 {
		var b strings.Builder
		fmt.Fprintf(&b, "%04x", i)
		end := min(i+16, len(data))
		for k := i; k < end; k++ {
			fmt.Fprintf(&b, " %02x", data[k])
		}
		for k := end; k < i+16; k++ {
			b.WriteString("   ")
		}
		b.WriteByte(' ')
		for k := i; k < end; k++ {
			c := data[k]
			if c < 32 || c > 126 {
				c = '.'
			}
			b.WriteByte(c)
		}
		out = append(out, b.String())
	}
	return out
}

// openOptions are the parameters of openSource.
type openOptions struct {
	store    storage.Store
	path     string
	listed   *storage.InputFile // the file as a directory listing gave it
	stdin    io.Reader
	stream   stream.Options
	useStrm  bool
	nsSrc    string // "# namespace" must match it when nsCheck
	nsCheck  bool
	bytes    *atomic.Uint64
	limit    *limiter
	logOpen  func(path string)
	isStdin  bool
	maxEntry int
	// legacyStrict rejects "Version 3.2" like the legacy tool (--validate
	// checks that the legacy tool can read a file).
	legacyStrict bool
	// headers, when set, is held while a compressed file's header is
	// decoded, after which its decoder is given back (stream.SuspendAt)
	// until the records are read: the files of a directory are opened at
	// once, as legacy does, but only a few decode at a time.
	headers *sync.Mutex
}

// maxMetaLine is the most characters of a meta line (after the "#",
// with the line feed) the legacy tool reads.
const maxMetaLine = 1000

// cString returns b up to its first NUL, as C's "%s" prints it.
func cString(b []byte) string {
	if z := bytes.IndexByte(b, 0); z >= 0 {
		b = b[:z]
	}
	return string(b)
}

// openSource opens a backup file, checks its version line and meta lines
// with the legacy messages and returns a decoder positioned at the body.
func openSource(o openOptions) (*source, error) {
	s := &source{path: o.path, size: -1}
	var raw io.Reader
	if o.isStdin {
		raw = o.stdin
	} else {
		store := o.store
		if store == nil {
			store = storage.Local{}
		}
		var f storage.Object
		var err error
		if o.listed != nil {
			f, err = store.OpenListed(*o.listed)
		} else {
			f, err = store.Open(o.path)
		}
		if errors.Is(err, storage.ErrIsDirectory) {
			return nil, fail(fmt.Sprintf("Error while reading version from backup file %s", o.path))
		}
		if err != nil {
			if storage.IsS3Path(o.path) {
				return nil, fail(err.Error(), fmt.Sprintf("Failed to open file %s in \"r\" mode", o.path))
			}
			return nil, fail(fmt.Sprintf("Failed to open file %s in \"r\" mode (error %d: %s)", o.path, errnoOf(err), errText(err)))
		}
		s.file = f
		s.size = f.Size()
		raw = f
		if o.logOpen != nil {
			o.logOpen(o.path)
		}
	}
	s.counter = &countingReader{r: raw, n: o.bytes, limit: o.limit}
	raw = s.counter
	suspend := o.headers != nil && o.useStrm && o.stream.Compress
	if suspend {
		// The first bytes are read before taking the lock, so that the
		// files of a store that is slow to answer (S3) do not wait for
		// each other.
		raw = preread(raw, 16)
		o.headers.Lock()
		defer o.headers.Unlock()
	}
	var text io.Reader = raw
	if o.useStrm {
		sr, err := stream.NewReader(raw, o.stream)
		if err != nil {
			s.close()
			return nil, msg.Wrap(err)
		}
		if suspend {
			sr.AllowSuspend()
		}
		s.stream = sr
		text = sr
	}
	// Small buffers: a directory restore keeps --parallel files open.
	size := readBufferSize
	if suspend {
		size = headerBufferSize
	}
	br := bufio.NewReaderSize(text, size)
	if err := s.readHeader(o, br); err != nil {
		s.close()
		return nil, err
	}
	s.body = br
	if suspend && s.stream.SuspendAt(s.offset) {
		// The body is read from the stream itself when its turn comes;
		// until then nothing of it is decoded or buffered.
		s.body = s.stream
	}
	s.bodyOpts = asb.ReaderOptions{FileName: o.path, MaxEntrySize: o.maxEntry, BufferSize: readBufferSize,
		Namespace: o.nsSrc, IndexNamespace: o.nsCheck}
	return s, nil
}

// headerBufferSize is the buffer that reads the header of a file whose
// body is read from its stream afterwards (the longest meta line the
// legacy tool reads is 1000 characters).
const headerBufferSize = 4096

// records returns the reader of the file's body, which allocates its
// buffer on the first call.
func (s *source) records() *asb.Reader {
	if s.reader == nil {
		s.reader = asb.NewBodyReader(s.body, s.version, s.offset, s.line, s.bodyOpts)
		s.body = nil
	}
	return s.reader
}

// prefixed is a reader whose first bytes (and the error met reading
// them) were read ahead.
type prefixed struct {
	pre []byte
	err error
	r   io.Reader
}

// preread reads the first n bytes of r now and returns a reader of all of
// r, which returns what r returned after them (a read error, or io.EOF
// for a stream shorter than n) at the same place.
func preread(r io.Reader, n int) io.Reader {
	buf := make([]byte, n)
	got, err := io.ReadFull(r, buf)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	return &prefixed{pre: buf[:got], err: err, r: r}
}

func (p *prefixed) Read(b []byte) (int, error) {
	if len(p.pre) > 0 {
		n := copy(b, p.pre)
		p.pre = p.pre[n:]
		return n, nil
	}
	if p.err != nil {
		return 0, p.err
	}
	return p.r.Read(b)
}

// readHeader checks the version line and the meta lines with the legacy
// messages and leaves br at the body.
func (s *source) readHeader(o openOptions, br *bufio.Reader) error {
	// Version line: the legacy reader takes up to 12 bytes, stopping after
	// a line feed, and requires "Version " + 3 chars + LF.
	var ver [13]byte
	n := 0
	for n < 12 {
		c, err := br.ReadByte()
		if err != nil {
			if n == 0 || !errors.Is(err, io.EOF) {
				if !errors.Is(err, io.EOF) {
					return fail(err.Error(), fmt.Sprintf("Error while reading version from backup file %s", o.path))
				}
				return fail(fmt.Sprintf("Error while reading version from backup file %s", o.path))
			}
			break
		}
		ver[n] = c
		n++
		if c == '\n' {
			break
		}
	}
	if string(ver[:8]) != "Version " || ver[11] != '\n' {
		return fail(append([]string{"Invalid version line in backup file " + o.path}, hexDump(ver[:])...)...)
	}
	switch string(ver[8:11]) {
	case "3.0":
		s.version = asb.Version30
	case "3.1":
		s.version = asb.Version31
	case "3.2":
		if !o.legacyStrict {
			s.version = asb.Version32
			break
		}
		fallthrough
	default:
		return fail(append([]string{fmt.Sprintf("Invalid backup file version %s in backup file %s", ver[8:11], o.path)}, hexDump(ver[:])...)...)
	}
	line := 2
	offset := int64(12)
	for {
		c, err := br.Peek(1)
		if err != nil || c[0] != '#' {
			if err != nil && !errors.Is(err, io.EOF) {
				return fail(err.Error(), fmt.Sprintf("Error while reading meta data from backup file %s [2]", o.path))
			}
			break
		}
		// The legacy tool reads a meta line with fgets into 1001 bytes
		// (up to 1000 characters and the line feed) and then looks for
		// the line feed, stopping at a NUL: a line without one (too long,
		// cut short by the end of the file, or holding a NUL) is "too
		// long".
		// The '#' just peeked: reading a buffered byte cannot fail.
		_, _ = br.ReadByte()
		var raw []byte
		var rerr error
		for len(raw) < maxMetaLine {
			c, err := br.ReadByte()
			if err != nil {
				rerr = err
				break
			}
			raw = append(raw, c)
			if c == '\n' {
				break
			}
		}
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return fail(rerr.Error(), fmt.Sprintf("Error while reading meta data from backup file %s:%d [1]", o.path, line))
		}
		if len(raw) == 0 {
			return fail(fmt.Sprintf("Error while reading meta data from backup file %s:%d [1]", o.path, line))
		}
		offset += int64(1 + len(raw))
		end := bytes.IndexAny(raw, "\n\x00")
		if end < 0 || raw[end] == 0 {
			return fail(fmt.Sprintf("Meta data line %s too long in backup file %s:%d", cString(raw), o.path, line))
		}
		meta := string(raw[:end])
		switch {
		case !strings.HasPrefix(meta, " "):
			return fail(fmt.Sprintf("Invalid meta data line \"#%s\" in backup file %s:%d [1]", meta, o.path, line))
		case meta[1:] == "first-file":
		case strings.HasPrefix(meta[1:], "namespace"):
			if o.nsCheck {
				rest := meta[1+len("namespace"):]
				if !strings.HasPrefix(rest, " ") {
					return fail(fmt.Sprintf("Invalid namespace meta data line in backup file %s:%d", o.path, line))
				}
				if rest[1:] != o.nsSrc {
					return fail(fmt.Sprintf("Invalid namespace %s in backup file %s (expected: %s)", rest[1:], o.path, o.nsSrc))
				}
			}
		default:
			return fail(fmt.Sprintf("Invalid meta data line \"#%s\" in backup file %s:%d [2]", meta, o.path, line))
		}
		line++
	}
	s.line, s.offset = line, offset
	return nil
}

func errnoOf(err error) int {
	var en syscall.Errno
	if errors.As(err, &en) {
		return int(en)
	}
	return 5
}

func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		s := pe.Err.Error()
		if s != "" {
			return strings.ToUpper(s[:1]) + s[1:]
		}
	}
	return err.Error()
}

// legacyParseError returns the ERR lines the legacy tool logs for a
// decoding error: the reader's chain of messages (innermost first, see
// asb.SyntaxError.Legacy), then "Error while parsing backup file <path>
// (line <n>)". recordLine is the line of the entry being decoded, for
// errors without a legacy chain.
func legacyParseError(err error, path string, recordLine int) []string {
	var se *asb.SyntaxError
	if errors.As(err, &se) && len(se.Legacy) > 0 {
		return append(append([]string(nil), se.Legacy...), fmt.Sprintf("Error while parsing backup file %s (line %d)", path, se.LegacyLine))
	}
	var de *stream.DecompressError
	if errors.As(err, &de) {
		return []string{de.Error(), fmt.Sprintf("Error while parsing backup file %s (line %d)", path, recordLine)}
	}
	if se != nil {
		return []string{se.Error(), fmt.Sprintf("Error while parsing backup file %s (line %d)", path, se.Line)}
	}
	return []string{err.Error(), fmt.Sprintf("Error while parsing backup file %s (line %d)", path, recordLine)}
}
