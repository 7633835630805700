package index

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"io"

	"asbtools/asb"
	"asbtools/asbfs/render"
)

// Set is the index of the records of one set of one namespace.
//
// Records are named by their user key when the key was stored, by their
// digest (40 hex digits) otherwise. When several records would share a
// name, each of them gets the suffix of its key type (render.KeySuffix:
// "%int", "%str", "%bytes", "%float", "%nokey"); when that does not
// separate them either, each gets "%d" and its digest. Records that appear
// more than once with the same digest are shown once: the copy found last
// (by file name, then position) wins.
type Set struct {
	// Name is the set name as written in the backup ("" for no set).
	Name string
	// DirName is the escaped directory name.
	DirName string

	b     *Backup
	ents  []entry
	names []byte
	table []uint32 // open addressing: entry index + 1, 0 = empty
}

// Info describes one record of a set without reading it.
type Info struct {
	Digest   [20]byte
	KeyType  asb.KeyType
	JSONSize int64
	RawSize  int64
	File     *File
	Offset   int64
	Line     int
}

// Len returns the number of records.
func (s *Set) Len() int { return len(s.ents) }

// AppendName appends the file name of record i.
func (s *Set) AppendName(dst []byte, i int) []byte {
	e := &s.ents[i]
	if e.nameLen == 0 {
		return render.AppendDigestName(dst, &e.digest)
	}
	return append(dst, s.names[e.nameOff:e.nameOff+uint32(e.nameLen)]...)
}

// FileName returns the file name of record i.
func (s *Set) FileName(i int) string { return string(s.AppendName(nil, i)) }

// Info returns what the index knows about record i.
func (s *Set) Info(i int) Info {
	e := &s.ents[i]
	return Info{Digest: e.digest, KeyType: asb.KeyType(e.keyType), JSONSize: int64(e.jsonSize),
		RawSize: int64(e.rawSize), File: s.b.Files[e.file], Offset: e.off, Line: int(e.line)}
}

// Lookup returns the record named name.
func (s *Set) Lookup(name string) (int, bool) {
	if len(s.table) == 0 {
		return 0, false
	}
	mask := uint64(len(s.table) - 1)
	var buf [256]byte
	h := maphash.String(hashSeed, name)
	for p := h & mask; ; p = (p + 1) & mask {
		v := s.table[p]
		if v == 0 {
			return 0, false
		}
		if string(s.AppendName(buf[:0], int(v-1))) == name {
			return int(v - 1), true
		}
	}
}

// Record reads record i from its file.
func (s *Set) Record(i int) (*asb.Record, error) {
	e := &s.ents[i]
	f := s.b.Files[e.file]
	bs := int(e.rawSize) + 1
	if bs > 1<<20 {
		bs = 1 << 20
	}
	r, err := asb.ReadRecordAt(f.ra, e.off, int(e.line), f.version, asb.ReaderOptions{FileName: f.Path, BufferSize: bs})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// JSON returns the JSON view of record i.
func (s *Set) JSON(i int) ([]byte, error) {
	r, err := s.Record(i)
	if err != nil {
		return nil, err
	}
	out := render.AppendRecord(make([]byte, 0, s.ents[i].jsonSize), r)
	if len(out) != int(s.ents[i].jsonSize) {
		return nil, fmt.Errorf("%s: line %d: record changed since the backup was indexed", s.b.Files[s.ents[i].file].Path, s.ents[i].line)
	}
	return out, nil
}

// Raw returns the .asb text of record i.
func (s *Set) Raw(i int) ([]byte, error) {
	e := &s.ents[i]
	f := s.b.Files[e.file]
	buf := make([]byte, e.rawSize)
	n, err := f.ra.ReadAt(buf, e.off)
	if n == len(buf) {
		return buf, nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return nil, fmt.Errorf("%s: line %d: %w", f.Path, e.line, err)
}

// build removes duplicate digests, resolves name collisions and builds the
// lookup table.
func (s *Set) build() {
	collided := s.fillTable()
	if len(collided) == 0 {
		return
	}
	byName := map[string][]int{}
	for _, i := range collided {
		n := s.FileName(i)
		byName[n] = append(byName[n], i)
	}
	drop := map[int]bool{}
	for name, idx := range byName {
		// Same digest: keep the last copy.
		seen := map[[20]byte]int{}
		var keep []int
		for _, i := range idx {
			if j, ok := seen[s.ents[i].digest]; ok {
				drop[keep[j]] = true
				keep[j] = i
				continue
			}
			seen[s.ents[i].digest] = len(keep)
			keep = append(keep, i)
		}
		if len(keep) < 2 {
			continue
		}
		types := map[uint8]bool{}
		distinct := true
		for _, i := range keep {
			if types[s.ents[i].keyType] {
				distinct = false
			}
			types[s.ents[i].keyType] = true
		}
		for _, i := range keep {
			e := &s.ents[i]
			off := len(s.names)
			s.names = append(s.names, name...)
			if distinct {
				s.names = append(s.names, render.KeySuffix(asb.KeyType(e.keyType))...)
			} else {
				s.names = render.AppendDigestSuffix(s.names, &e.digest)
			}
			e.nameOff, e.nameLen = uint32(off), uint8(min(255, len(s.names)-off))
		}
	}
	if len(drop) > 0 {
		out := s.ents[:0]
		for i, e := range s.ents {
			if !drop[i] {
				out = append(out, e)
			}
		}
		s.ents = out
	}
	s.fillTable()
}

// fillTable builds the hash table and returns the entries whose name is
// already taken by another entry (both of them).
func (s *Set) fillTable() []int {
	size := 1
	for size < 2*len(s.ents) {
		size <<= 1
	}
	if cap(s.table) >= size {
		s.table = s.table[:size]
		clear(s.table)
	} else {
		s.table = make([]uint32, size)
	}
	mask := uint64(size - 1)
	var collided []int
	inColl := map[int]bool{}
	var buf, buf2 [256]byte
	for i := range s.ents {
		name := s.AppendName(buf[:0], i)
		h := maphash.Bytes(hashSeed, name)
		for p := h & mask; ; p = (p + 1) & mask {
			v := s.table[p]
			if v == 0 {
				s.table[p] = uint32(i + 1)
				break
			}
			if bytes.Equal(s.AppendName(buf2[:0], int(v-1)), name) {
				j := int(v - 1)
				if !inColl[j] {
					inColl[j] = true
					collided = append(collided, j)
				}
				inColl[i] = true
				collided = append(collided, i)
				break
			}
		}
	}
	return collided
}
