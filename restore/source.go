package restore

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"syscall"

	"asbtools/asb"
	"asbtools/stream"
)

// failure is an error carrying the exact ERR lines to log.
type failure struct {
	lines []string
}

func (f *failure) Error() string { return strings.Join(f.lines, "\n") }

func fail(lines ...string) *failure { return &failure{lines: lines} }

// failLines returns the lines of err to log: a failure's own lines, or its
// text.
func failLines(err error) []string {
	var f *failure
	if errors.As(err, &f) {
		return f.lines
	}
	return []string{err.Error()}
}

// countingReader counts the bytes read from the backup file into a shared
// counter (progress and --nice bandwidth).
type countingReader struct {
	r     io.Reader
	n     *atomic.Uint64
	limit *limiter
}

func (c *countingReader) Read(p []byte) (int, error) {
	if len(p) > 64<<10 {
		p = p[:64<<10]
	}
	n, err := c.r.Read(p)
	if n > 0 {
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
	path    string
	file    *os.File // nil for stdin
	stream  *stream.Reader
	reader  *asb.Reader
	version asb.Version
	line    int
}

func (s *source) close() {
	if s.stream != nil {
		s.stream.Close()
	}
	if s.file != nil {
		s.file.Close()
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
	path     string
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
}

// openSource opens a backup file, checks its version line and meta lines
// with the legacy messages and returns a decoder positioned at the body.
func openSource(o openOptions) (*source, error) {
	s := &source{path: o.path}
	var raw io.Reader
	if o.isStdin {
		raw = o.stdin
	} else {
		f, err := os.Open(o.path)
		if err != nil {
			return nil, fail(fmt.Sprintf("Failed to open file %s in \"r\" mode (error %d: %s)", o.path, errnoOf(err), errText(err)))
		}
		st, err := f.Stat()
		if err == nil && st.IsDir() {
			f.Close()
			return nil, fail(fmt.Sprintf("Error while reading version from backup file %s", o.path))
		}
		s.file = f
		raw = f
		if o.logOpen != nil {
			o.logOpen(o.path)
		}
	}
	raw = &countingReader{r: raw, n: o.bytes, limit: o.limit}
	var text io.Reader = raw
	if o.useStrm {
		sr, err := stream.NewReader(raw, o.stream)
		if err != nil {
			s.close()
			return nil, fail(err.Error())
		}
		s.stream = sr
		text = sr
	}
	// Small buffers: a directory restore keeps --parallel files open.
	br := bufio.NewReaderSize(text, readBufferSize)
	// Version line: the legacy reader takes up to 12 bytes, stopping after
	// a line feed, and requires "Version " + 3 chars + LF.
	var ver [13]byte
	n := 0
	for n < 12 {
		c, err := br.ReadByte()
		if err != nil {
			if n == 0 || !errors.Is(err, io.EOF) {
				s.close()
				if !errors.Is(err, io.EOF) {
					return nil, fail(err.Error(), fmt.Sprintf("Error while reading version from backup file %s", o.path))
				}
				return nil, fail(fmt.Sprintf("Error while reading version from backup file %s", o.path))
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
		s.close()
		return nil, fail(append([]string{"Invalid version line in backup file " + o.path}, hexDump(ver[:])...)...)
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
		s.close()
		return nil, fail(append([]string{fmt.Sprintf("Invalid backup file version %s in backup file %s", ver[8:11], o.path)}, hexDump(ver[:])...)...)
	}
	line := 2
	offset := int64(12)
	for {
		c, err := br.Peek(1)
		if err != nil || c[0] != '#' {
			if err != nil && !errors.Is(err, io.EOF) {
				s.close()
				return nil, fail(err.Error(), fmt.Sprintf("Error while reading meta data from backup file %s [2]", o.path))
			}
			break
		}
		text, err := br.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) && !errors.Is(err, io.EOF) {
			s.close()
			return nil, fail(err.Error(), fmt.Sprintf("Error while reading meta data from backup file %s:%d [1]", o.path, line))
		}
		offset += int64(len(text))
		meta := strings.TrimSuffix(string(text[1:]), "\n")
		if len(text) > 1000 || (err != nil && !errors.Is(err, io.EOF)) {
			s.close()
			return nil, fail(fmt.Sprintf("Meta data line %s too long in backup file %s:%d", meta, o.path, line))
		}
		if z := strings.IndexByte(meta, 0); z >= 0 {
			meta = meta[:z]
		}
		switch {
		case !strings.HasPrefix(meta, " "):
			s.close()
			return nil, fail(fmt.Sprintf("Invalid meta data line \"#%s\" in backup file %s:%d [1]", meta, o.path, line))
		case meta[1:] == "first-file":
		case strings.HasPrefix(meta[1:], "namespace"):
			if o.nsCheck {
				rest := meta[1+len("namespace"):]
				if !strings.HasPrefix(rest, " ") {
					s.close()
					return nil, fail(fmt.Sprintf("Invalid namespace meta data line in backup file %s:%d", o.path, line))
				}
				if rest[1:] != o.nsSrc {
					s.close()
					return nil, fail(fmt.Sprintf("Invalid namespace %s in backup file %s (expected: %s)", rest[1:], o.path, o.nsSrc))
				}
			}
		default:
			s.close()
			return nil, fail(fmt.Sprintf("Invalid meta data line \"#%s\" in backup file %s:%d [2]", meta, o.path, line))
		}
		line++
		if errors.Is(err, io.EOF) {
			break
		}
	}
	s.line = line
	s.reader = asb.NewBodyReader(br, s.version, offset, line, asb.ReaderOptions{FileName: o.path, MaxEntrySize: o.maxEntry, BufferSize: readBufferSize})
	return s, nil
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

// invalidCharacter names, for the syntax-error contexts that read a type
// character, the legacy "Invalid <what> character" line and whether the
// reader was inside a record (then "Error while parsing record" follows).
var invalidCharacter = map[string]struct {
	what     string
	inRecord bool
}{
	"key type":         {"key type", true},
	"start of entry":   {"start", false},
	"global line type": {"global type", false},
	"index type":       {"index type", false},
	"index data type":  {"path type", false},
	"UDF type":         {"UDF type", false},
}

// legacyParseError translates a decoding error into the chain of ERR lines
// the legacy reader prints for the same defect (innermost first), ending
// with "Error while parsing backup file <path> (line <n>)".
func legacyParseError(err error, path string, recordLine int) []string {
	var se *asb.SyntaxError
	if !errors.As(err, &se) {
		var de *stream.DecompressError
		if errors.As(err, &de) {
			return []string{de.Error(), fmt.Sprintf("Error while parsing backup file %s (line %d)", path, recordLine)}
		}
		return []string{err.Error(), fmt.Sprintf("Error while parsing backup file %s (line %d)", path, recordLine)}
	}
	pos := fmt.Sprintf("(line %d, col %d)", se.Line, se.Column)
	eof := se.Found == "end of file"
	var lines []string
	inRecord := true
	switch ctx := se.Context; {
	case eof:
		lines = append(lines, "Unexpected end of file in backup block "+pos)
		switch ctx {
		case "string bin value":
			lines = append(lines, "Error while reading string data", "Error while reading string bin value")
		case "encoded string bin value":
			lines = append(lines, "Error while reading encoded data", "Error while reading encoded string bin value")
		case "bytes bin value":
			lines = append(lines, "Error while reading data", "Error while reading data bin value")
		case "encoded bytes bin value":
			lines = append(lines, "Error while reading encoded data", "Error while reading encoded data bin value")
		case "string key":
			lines = append(lines, "Error while reading string data", "Error while reading string key value")
		case "bytes key":
			lines = append(lines, "Error while reading data", "Error while reading key bytes")
		case "encoded bytes key":
			lines = append(lines, "Error while reading encoded data", "Error while reading encoded key bytes")
		case "UDF content", "UDF", "UDF name", "UDF size", "UDF type":
			inRecord = false
		case "index", "index namespace", "index set", "index name", "index type", "index path", "index path count", "index data type", "index context":
			inRecord = false
		}
	case ctx == "bin type":
		if se.Found == `"U"` {
			lines = append(lines, "The backup contains LDTs - please use an older version of this tool to restore the backup")
		} else {
			lines = append(lines, fmt.Sprintf("Invalid bytes label %s %s", se.Found, pos))
		}
	case invalidCharacter[ctx].what != "":
		ic := invalidCharacter[ctx]
		lines = append(lines, fmt.Sprintf("Invalid %s character %s in block %s", ic.what, se.Found, pos))
		inRecord = ic.inRecord
	case ctx == "boolean bin value":
		lines = append(lines, fmt.Sprintf("Unknown boolean value encoding: %s %s", se.Found, pos), "Error while reading boolean bin value")
	case strings.HasPrefix(ctx, "index") || strings.HasPrefix(ctx, "UDF") || ctx == "global line":
		lines = append(lines, fmt.Sprintf("Unexpected character %s in backup block %s, expected %s", se.Found, pos, se.Expected))
		inRecord = false
	case se.Expected == "digit":
		lines = append(lines, fmt.Sprintf("Invalid character %s in backup block %s, expected digit", se.Found, pos))
	case se.Expected == "floating point notation":
		lines = append(lines, fmt.Sprintf("Invalid character %s in backup block %s, expected floating point notation", se.Found, pos))
	default:
		what := se.Expected
		if what == "" {
			what = "valid input"
		}
		lines = append(lines, fmt.Sprintf("Unexpected character %s in backup block %s, expected %s", se.Found, pos, what))
	}
	if inRecord {
		lines = append(lines, "Error while parsing record")
	}
	return append(lines, fmt.Sprintf("Error while parsing backup file %s (line %d)", path, se.Line))
}
