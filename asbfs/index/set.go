package index

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"io"
	"runtime"
	"slices"
	"sort"

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
	// Stats is the set summary (JSON), computed while indexing.
	Stats []byte

	b      *Backup
	blocks []*block
	n      int
	// jsonTotal and rawTotal are the sizes of all records' JSON and raw
	// views.
	jsonTotal, rawTotal int64
	table               []uint32 // open addressing: entry index + 1, 0 = empty
	tags                []uint8  // top hash byte of each table slot, to skip most name compares
}

// Info describes one record of a set without reading it.
type Info struct {
	Digest  [20]byte
	KeyType asb.KeyType
	// Expires is true when the record has a void time.
	Expires  bool
	JSONSize int64
	RawSize  int64
	File     *File
	Offset   int64
}

// Len returns the number of records.
func (s *Set) Len() int { return s.n }

// number sets the start and stream offsets of every block, the record
// count and the total sizes.
func (s *Set) number() {
	n := 0
	var js, rs int64
	for _, bl := range s.blocks {
		bl.start, bl.jsonStart, bl.rawStart = n, js, rs
		n += len(bl.ents)
		for k := range bl.ents {
			js += int64(bl.ents[k].jsonSize)
			rs += int64(bl.ents[k].rawSize)
		}
	}
	s.n, s.jsonTotal, s.rawTotal = n, js, rs
}

// JSONTotal returns the total size of the records' JSON views (the size of
// the set's stream of JSON lines).
func (s *Set) JSONTotal() int64 { return s.jsonTotal }

// RawTotal returns the total size of the records' raw .asb text.
func (s *Set) RawTotal() int64 { return s.rawTotal }

// Locate returns the record whose JSON view (or raw text, when raw is true)
// holds byte off of the set's stream of all records' views, and the offset
// at which that record starts. off must be in [0, total).
func (s *Set) Locate(off int64, raw bool) (int, int64) {
	start := func(bl *block) int64 {
		if raw {
			return bl.rawStart
		}
		return bl.jsonStart
	}
	k := sort.Search(len(s.blocks), func(k int) bool { return start(s.blocks[k]) > off }) - 1
	bl := s.blocks[k]
	pos := start(bl)
	for j := range bl.ents {
		sz := int64(bl.ents[j].jsonSize)
		if raw {
			sz = int64(bl.ents[j].rawSize)
		}
		if off < pos+sz {
			return bl.start + j, pos
		}
		pos += sz
	}
	// Only reached for off >= total: the end.
	return s.n, pos
}

// ent returns entry i and its block.
func (s *Set) ent(i int) (*entry, *block) {
	k := sort.Search(len(s.blocks), func(k int) bool { return s.blocks[k].start > i }) - 1
	bl := s.blocks[k]
	return &bl.ents[i-bl.start], bl
}

func appendName(dst []byte, e *entry, bl *block) []byte {
	if e.nameLen == 0 {
		return render.AppendDigestName(dst, &e.digest)
	}
	return append(dst, bl.names[e.nameOff():e.nameOff()+uint32(e.nameLen)]...)
}

// AppendName appends the file name of record i.
func (s *Set) AppendName(dst []byte, i int) []byte {
	e, bl := s.ent(i)
	return appendName(dst, e, bl)
}

// FileName returns the file name of record i.
func (s *Set) FileName(i int) string { return string(s.AppendName(nil, i)) }

// Info returns what the index knows about record i.
func (s *Set) Info(i int) Info {
	e, _ := s.ent(i)
	return Info{Digest: e.digest, KeyType: e.kt(), Expires: e.keyType&expiresFlag != 0, JSONSize: int64(e.jsonSize),
		RawSize: int64(e.rawSize), File: s.b.Files[e.file], Offset: e.off()}
}

// Walk calls fn for the records from record from on, in order, with the
// record's file name (valid only during the call) and what the index knows
// about it, until fn returns false. It costs one block search in all.
func (s *Set) Walk(from int, fn func(i int, name []byte, in *Info) bool) {
	if from >= s.n || from < 0 {
		return
	}
	k := sort.Search(len(s.blocks), func(k int) bool { return s.blocks[k].start > from }) - 1
	var buf []byte
	var in Info
	for ; k < len(s.blocks); k++ {
		bl := s.blocks[k]
		for j := from - bl.start; j < len(bl.ents); j++ {
			e := &bl.ents[j]
			buf = appendName(buf[:0], e, bl)
			in = Info{Digest: e.digest, KeyType: e.kt(), Expires: e.keyType&expiresFlag != 0, JSONSize: int64(e.jsonSize),
				RawSize: int64(e.rawSize), File: s.b.Files[e.file], Offset: e.off()}
			if !fn(bl.start+j, buf, &in) {
				return
			}
		}
		from = bl.start + len(bl.ents)
	}
}

// Size returns the size of record i's JSON view, or of its raw view when
// raw is true.
func (s *Set) Size(i int, raw bool) int64 {
	e, _ := s.ent(i)
	if raw {
		return int64(e.rawSize)
	}
	return int64(e.jsonSize)
}

// Lookup returns the record named name.
func (s *Set) Lookup(name string) (int, bool) {
	if len(s.table) == 0 {
		return 0, false
	}
	var buf [256]byte
	h := maphash.String(hashSeed, name)
	tag := uint8(h >> 56)
	base, p, mask := s.slot(h)
	for ; ; p = (p + 1) & mask {
		v := s.table[base+p]
		if v == 0 {
			return 0, false
		}
		if s.tags[base+p] == tag && string(s.AppendName(buf[:0], int(v-1))) == name {
			return int(v - 1), true
		}
	}
}

// Record reads record i from its file.
func (s *Set) Record(i int) (*asb.Record, error) {
	e, _ := s.ent(i)
	f := s.b.Files[e.file]
	bs := int(e.rawSize) + 1
	if bs > 1<<20 {
		bs = 1 << 20
	}
	ro := asb.ReaderOptions{FileName: f.Path, BufferSize: bs}
	r, err := asb.ReadRecordAt(f.ra, e.off(), 1, f.version, ro)
	if err != nil {
		// Again from the record's real line, for the message.
		if _, err2 := asb.ReadRecordAt(f.ra, e.off(), f.LineAt(e.off()), f.version, ro); err2 != nil {
			err = err2
		}
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
	e, _ := s.ent(i)
	out := render.AppendRecord(make([]byte, 0, e.jsonSize), r)
	if len(out) != int(e.jsonSize) {
		return nil, fmt.Errorf("%s: line %d: record changed since the backup was indexed", s.b.Files[e.file].Path, s.b.Files[e.file].LineAt(e.off()))
	}
	return out, nil
}

// Raw returns the .asb text of record i.
func (s *Set) Raw(i int) ([]byte, error) {
	e, _ := s.ent(i)
	f := s.b.Files[e.file]
	buf := make([]byte, e.rawSize)
	n, err := f.ra.ReadAt(buf, e.off())
	if n == len(buf) {
		return buf, nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return nil, fmt.Errorf("%s: line %d: %w", f.Path, f.LineAt(e.off()), err)
}

// indexBytes returns the memory held by the set's index.
func (s *Set) indexBytes() int64 {
	const blockOverhead = 8 + 8 + 24 + 24 // pointer, start, two slice headers
	n := int64(cap(s.table))*4 + int64(cap(s.tags)) + int64(cap(s.blocks))*8
	for _, bl := range s.blocks {
		n += int64(cap(bl.ents))*entrySize + int64(cap(bl.names)) + blockOverhead
	}
	return n
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
			e, _ := s.ent(i)
			if j, ok := seen[e.digest]; ok {
				drop[keep[j]] = true
				keep[j] = i
				continue
			}
			seen[e.digest] = len(keep)
			keep = append(keep, i)
		}
		if len(keep) < 2 {
			continue
		}
		types := map[uint8]bool{}
		distinct := true
		for _, i := range keep {
			e, _ := s.ent(i)
			if types[uint8(e.kt())] {
				distinct = false
			}
			types[uint8(e.kt())] = true
		}
		for _, i := range keep {
			e, bl := s.ent(i)
			off := len(bl.names)
			bl.names = append(bl.names, name...)
			if distinct {
				bl.names = append(bl.names, render.KeySuffix(e.kt())...)
			} else {
				bl.names = render.AppendDigestSuffix(bl.names, &e.digest)
			}
			e.setNameOff(off)
			e.nameLen = uint8(min(255, len(bl.names)-off))
		}
	}
	if len(drop) > 0 {
		// Rare: copy the kept entries (and their names) into new blocks.
		var g group
		i := 0
		for _, bl := range s.blocks {
			for k := range bl.ents {
				if !drop[i] {
					e := &bl.ents[k]
					ne, nbl := g.add()
					*ne = *e
					if e.nameLen > 0 {
						ne.setNameOff(len(nbl.names))
						nbl.names = append(nbl.names, bl.names[e.nameOff():e.nameOff()+uint32(e.nameLen)]...)
					}
				}
				i++
			}
		}
		if n := len(g.blocks); n > 0 {
			g.blocks[n-1].trim()
		}
		s.blocks = g.blocks
		s.number()
	}
	s.fillTable()
}

// The hash table is cut into regions of at most regionSlots slots, chosen
// by the top bits of the hash; a name is probed for only within its region.
// Building the table one region at a time keeps each region in the CPU
// cache, and the regions are filled in parallel.
const regionSlots = 1 << 15 // at most 1<<24 (see fillTable)

// tableSize returns the number of slots of a hash table for n items: a
// power of two up to regionSlots, a multiple of regionSlots above, for a
// load of at most 0.8 (plus extra regions when a region overflowed).
func tableSize(n, extra int) int {
	want := n + n/4 + 1
	if want <= regionSlots/2 {
		size := 8
		for size < want {
			size <<= 1
		}
		return size << extra
	}
	return ((want+regionSlots-1)/regionSlots + extra) * regionSlots
}

// overfull reports whether a region would hold too many items for linear
// probing to stay short (and to always find a free slot).
func overfull(per [][]uint64, region uint64) bool {
	for _, p := range per {
		if uint64(len(p)) > region-region/8 {
			return true
		}
	}
	return false
}

// slot returns the first slot to probe for hash h and the region's bounds
// as a base and a mask.
func (s *Set) slot(h uint64) (base, p, mask uint64) {
	region := uint64(len(s.table))
	if region > regionSlots {
		region = regionSlots
	}
	nreg := uint64(len(s.table)) / region
	base = (h >> 32) % nreg * region
	return base, h & (region - 1), region - 1
}

// fillTable builds the hash table and returns the entries whose name is
// already taken by another entry (both of them), in index order.
func (s *Set) fillTable() []int {
	var per [][]uint64
	var region uint64
	nreg := 0
	for extra := 0; ; extra++ {
		size := tableSize(s.n, extra)
		if cap(s.table) >= size {
			s.table, s.tags = s.table[:size], s.tags[:size]
			clear(s.table)
		} else {
			s.table, s.tags = make([]uint32, size), make([]uint8, size)
		}
		// Hash every name and sort the entries by region. An item packs
		// the entry index (high 32 bits), the top byte of the hash (the
		// tag) and its low 24 bits, which hold the slot within the region.
		nreg = max(1, size/regionSlots)
		region = uint64(min(size, regionSlots))
		per = make([][]uint64, nreg)
		for r := range per {
			per[r] = make([]uint64, 0, s.n/nreg+s.n/nreg/8+16)
		}
		var buf [256]byte
		for _, bl := range s.blocks {
			for k := range bl.ents {
				h := maphash.Bytes(hashSeed, appendName(buf[:0], &bl.ents[k], bl))
				base, _, _ := s.slot(h)
				r := base / region
				per[r] = append(per[r], uint64(bl.start+k)<<32|h>>56<<24|h&0xffffff)
			}
		}
		if !overfull(per, region) {
			break
		}
	}
	colls := make([][]int, nreg)
	parallel(runtime.GOMAXPROCS(0), nreg, func(r int) {
		var buf, buf2 [256]byte
		base, mask := uint64(r)*region, region-1
		for _, it := range per[r] {
			i := int(it >> 32)
			tag := uint8(it >> 24)
			for p := it & mask; ; p = (p + 1) & mask {
				v := s.table[base+p]
				if v == 0 {
					s.table[base+p], s.tags[base+p] = uint32(i+1), tag
					break
				}
				if s.tags[base+p] == tag && bytes.Equal(s.AppendName(buf2[:0], int(v-1)), s.AppendName(buf[:0], i)) {
					colls[r] = append(colls[r], int(v-1), i)
					break
				}
			}
		}
		per[r] = nil
	})
	var collided []int
	for _, c := range colls {
		collided = append(collided, c...)
	}
	sort.Ints(collided)
	return slices.Compact(collided)
}
