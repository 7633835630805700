package fsnode

import (
	"fmt"
	"io"
	"sync"

	"asbtools/asb"
	"asbtools/asbfs/index"
	"asbtools/asbfs/render"
)

// stream is an open set stream: the set's records as JSON lines (each line
// is the record's JSON file with its line breaks turned into spaces, so
// line i has exactly the size of record i's file), or the set as one .asb
// file (the raw view's header, then every record's text). The content is
// produced as it is read: a window of it is kept, extended record by record
// while reading goes forward, and a read elsewhere starts a new window at
// the record that holds its offset (found from the index's per-block
// offsets), so the file is seekable without holding it.
type stream struct {
	mu  sync.Mutex
	v   *view
	hdr int64 // header size (raw)
	end int64 // stream size

	win    []byte
	winOff int64 // stream offset of win[0]
	next   int   // record following the window

	// JSON: the reader of the file the last record came from.
	rd     *asb.Reader
	rdFile *index.File
}

// keep is how much of the window before the read offset is kept for reads
// that come back a little (the kernel's readahead is not strictly in order).
const keep = 256 << 10

func newStream(v *view) *stream {
	s := &stream{v: v, end: v.streamSize()}
	if v.raw {
		s.hdr = int64(len(v.hdr))
	}
	s.reset(0)
	return s
}

// reset starts the window at the record that holds stream offset off (or
// at the header).
func (s *stream) reset(off int64) {
	s.win = s.win[:0]
	if s.v.raw && off < s.hdr {
		s.win = append(s.win, s.v.hdr...)
		s.winOff, s.next = 0, 0
		return
	}
	i, start := s.v.set.Locate(off-s.hdr, s.v.raw)
	s.winOff, s.next = start+s.hdr, i
}

// read returns the stream's bytes at off, up to len(buf).
func (s *stream) read(buf []byte, off int64) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if off >= s.end {
		return nil, nil
	}
	want := min(s.end, off+int64(len(buf)))
	if off < s.winOff || off > s.winOff+int64(len(s.win))+keep {
		s.reset(off)
	}
	// Drop what lies well before off.
	if drop := off - keep - s.winOff; drop > keep && drop <= int64(len(s.win)) {
		n := copy(s.win, s.win[drop:])
		s.win, s.winOff = s.win[:n], s.winOff+drop
	}
	for s.winOff+int64(len(s.win)) < want {
		if err := s.extend(want - s.winOff - int64(len(s.win))); err != nil {
			return nil, err
		}
	}
	n := copy(buf, s.win[off-s.winOff:want-s.winOff])
	return buf[:n], nil
}

// extend appends at least one record to the window (raw: consecutive
// records in one read, about need bytes).
func (s *stream) extend(need int64) error {
	set := s.v.set
	if s.next >= set.Len() {
		return fmt.Errorf("set %s: stream ends early", set.DirName)
	}
	in := set.Info(s.next)
	if s.v.raw {
		// Records that follow each other in the file are read at once.
		size, n := in.RawSize, 1
		for size < need && s.next+n < set.Len() && size < 1<<20 {
			nx := set.Info(s.next + n)
			if nx.File != in.File || nx.Offset != in.Offset+size {
				break
			}
			size += nx.RawSize
			n++
		}
		l := len(s.win)
		s.win = append(s.win, make([]byte, size)...)
		if k, err := in.File.ReadAt(s.win[l:], in.Offset); int64(k) != size {
			s.win = s.win[:l]
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("%s: line %d: %w", in.File.Path, in.File.LineAt(in.Offset), err)
		}
		s.next += n
		return nil
	}
	rec, err := s.readRecord(in)
	if err != nil {
		return err
	}
	l := len(s.win)
	s.win = render.AppendRecord(s.win, rec)
	line := s.win[l:]
	if int64(len(line)) != in.JSONSize {
		s.win = s.win[:l]
		return fmt.Errorf("%s: line %d: record changed since the backup was indexed", in.File.Path, in.File.LineAt(in.Offset))
	}
	for k := range line[:len(line)-1] {
		if line[k] == '\n' {
			line[k] = ' '
		}
	}
	s.next++
	return nil
}

// readRecord reads the record at in, going on with the current reader when
// the record follows (or lies a little after) the last one read.
func (s *stream) readRecord(in index.Info) (*asb.Record, error) {
	if s.rd != nil && s.rdFile == in.File && s.rd.Offset() <= in.Offset && in.Offset-s.rd.Offset() < 1<<20 {
		for s.rd.Offset() < in.Offset {
			if _, err := s.rd.Next(); err != nil {
				s.rd = nil
				break
			}
		}
	}
	if s.rd == nil || s.rdFile != in.File || s.rd.Offset() != in.Offset {
		f := in.File
		s.rd = asb.NewBodyReader(io.NewSectionReader(f, in.Offset, f.Size-in.Offset), f.Version(), in.Offset, 1,
			asb.ReaderOptions{FileName: f.Path, BufferSize: 256 << 10})
		s.rdFile = f
	}
	e, err := s.rd.Next()
	if err == nil && e.Kind != asb.EntryRecord {
		err = fmt.Errorf("%s: line %d: not a record", in.File.Path, in.File.LineAt(in.Offset))
	}
	if err != nil {
		s.rd = nil
		if _, ok := err.(*asb.SyntaxError); ok {
			// Again from the record's real line, for the message.
			if _, err2 := asb.ReadRecordAt(in.File, in.Offset, in.File.LineAt(in.Offset), in.File.Version(), asb.ReaderOptions{FileName: in.File.Path}); err2 != nil {
				err = err2
			}
		}
		return nil, err
	}
	return e.Record, nil
}
