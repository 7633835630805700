package index

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// failAfter serves data up to limit and fails every read past it.
type failAfter struct {
	data  string
	limit int64
	err   error
}

func (r failAfter) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > r.limit {
		n := 0
		if off < r.limit {
			n = copy(p, r.data[off:r.limit])
		}
		return n, r.err
	}
	return copy(p, r.data[off:]), nil
}

func TestNextRecordStartFindsRecord(t *testing.T) {
	text := "# namespace test\n+ k S 1 a\n+ n test\n+ d AAAA\n"
	f := &File{Path: "f.asb", Size: int64(len(text)), ra: strings.NewReader(text)}
	off, nl, ok, err := nextRecordStart(f, 1)
	if err != nil || !ok || off != int64(strings.Index(text, "+ k")) || nl != 1 {
		t.Fatalf("got %d %d %v %v", off, nl, ok, err)
	}
	// "+ n" after "+ k" belongs to that record: nothing after the key line.
	if off, _, ok, err := nextRecordStart(f, off+1); err != nil || ok {
		t.Fatalf("after the key line: got %d %v %v", off, ok, err)
	}
}

func TestNextRecordStartReportsReadErrors(t *testing.T) {
	text := strings.Repeat("x", 40<<10) + "\n+ k S 1 a\n+ n test\n"
	boom := errors.New("boom")
	for _, limit := range []int64{0, 100, 20 << 10, int64(len(text)) - 3} {
		f := &File{Path: "f.asb", Size: int64(len(text)), ra: failAfter{text, limit, boom}}
		_, _, ok, err := nextRecordStart(f, 1)
		if ok || !errors.Is(err, boom) {
			t.Errorf("read error at %d: got ok %v, err %v; want the read error", limit, ok, err)
		}
	}
	// A file shorter than its size is an error, not "no record".
	f := &File{Path: "f.asb", Size: int64(len(text)) + 100, ra: strings.NewReader(text[:10])}
	if _, _, ok, err := nextRecordStart(f, 1); ok || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short file: got ok %v, err %v", ok, err)
	}
}
