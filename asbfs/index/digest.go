package index

import (
	"encoding/binary"
	"runtime"
	"sort"
)

// digestIndex finds the records of a namespace by digest. Records are
// numbered across the namespace's sets (set k's record i is number
// setStart[k]+i); the table holds number+1 in open addressing, slotted by
// the digest's own bits (a digest is already a uniform hash), regions as in
// the name tables.
type digestIndex struct {
	setStart []int
	table    []uint32
}

// LookupDigest returns the set (its position in Sets) and the record of
// the namespace with digest d.
func (ns *Namespace) LookupDigest(d *[20]byte) (set, rec int, ok bool) {
	t := ns.digests.table
	if len(t) == 0 {
		return 0, 0, false
	}
	h := binary.LittleEndian.Uint64(d[:8])
	base, p, mask := slotOf(len(t), h)
	for ; ; p = (p + 1) & mask {
		v := t[base+p]
		if v == 0 {
			return 0, 0, false
		}
		k, i := ns.digests.locate(int(v - 1))
		if e, _ := ns.Sets[k].ent(i); e.digest == *d {
			return k, i, true
		}
	}
}

// locate turns a namespace record number into a set position and a record.
func (x *digestIndex) locate(n int) (int, int) {
	k := sort.Search(len(x.setStart), func(k int) bool { return x.setStart[k] > n }) - 1
	return k, n - x.setStart[k]
}

// slotOf returns the first slot to probe for hash h in a table of size
// slots, and its region's base and mask (see Set.slot).
func slotOf(size int, h uint64) (base, p, mask uint64) {
	region := uint64(min(size, regionSlots))
	nreg := uint64(size) / region
	base = (h >> 32) % nreg * region
	return base, h & (region - 1), region - 1
}

// buildDigests builds the namespace's digest table, once its sets are in
// their final order.
func (ns *Namespace) buildDigests() {
	x := &ns.digests
	x.setStart = make([]int, len(ns.Sets))
	n := 0
	for k, s := range ns.Sets {
		x.setStart[k] = n
		n += s.n
	}
	if n == 0 {
		return
	}
	var per [][]uint64
	var region uint64
	for extra := 0; ; extra++ {
		size := tableSize(n, extra)
		x.table = make([]uint32, size)
		nreg := max(1, size/regionSlots)
		region = uint64(min(size, regionSlots))
		per = make([][]uint64, nreg)
		for r := range per {
			per[r] = make([]uint64, 0, n/nreg+n/nreg/8+16)
		}
		for k, s := range ns.Sets {
			for _, bl := range s.blocks {
				for j := range bl.ents {
					h := binary.LittleEndian.Uint64(bl.ents[j].digest[:8])
					base, p, _ := slotOf(size, h)
					num := uint64(x.setStart[k] + bl.start + j)
					per[base/region] = append(per[base/region], num<<32|p)
				}
			}
		}
		if !overfull(per, region) {
			break
		}
	}
	parallel(runtime.GOMAXPROCS(0), len(per), func(r int) {
		base, mask := uint64(r)*region, region-1
		for _, it := range per[r] {
			for p := it & mask; ; p = (p + 1) & mask {
				if x.table[base+p] == 0 {
					x.table[base+p] = uint32(it>>32) + 1
					break
				}
			}
		}
		per[r] = nil
	})
}

func (x *digestIndex) bytes() int64 {
	return int64(cap(x.table))*4 + int64(cap(x.setStart))*8
}
