package asdsim

import (
	"bytes"
	"sort"
	"sync"
)

// partition holds the records of one partition sorted by DESCENDING digest,
// the order in which a real server walks a partition during scans.
type partition struct {
	mu   sync.RWMutex
	recs []*record
}

// search returns the index of the first record whose digest is <= d, and
// whether that record's digest equals d.
func (p *partition) search(d *[20]byte) (int, bool) {
	i := sort.Search(len(p.recs), func(i int) bool {
		return bytes.Compare(p.recs[i].digest[:], d[:]) <= 0
	})
	return i, i < len(p.recs) && p.recs[i].digest == *d
}

// after returns the index of the first record whose digest is strictly less
// than d (the resume point for a scan that already returned d).
func (p *partition) after(d *[20]byte) int {
	return sort.Search(len(p.recs), func(i int) bool {
		return bytes.Compare(p.recs[i].digest[:], d[:]) < 0
	})
}

// lookup returns the record with digest d (live or not) under the caller's lock.
func (p *partition) lookup(d *[20]byte) *record {
	if i, ok := p.search(d); ok {
		return p.recs[i]
	}
	return nil
}

// set stores r (replacing any record with the same digest) under the
// caller's write lock.
func (p *partition) set(r *record) {
	i, ok := p.search(&r.digest)
	if ok {
		p.recs[i] = r
		return
	}
	p.recs = append(p.recs, nil)
	copy(p.recs[i+1:], p.recs[i:])
	p.recs[i] = r
}

// putMany stores many records of this partition at once (later records
// win over earlier ones and over stored records with the same digest).
func (p *partition) putMany(rs []*record) {
	p.mu.Lock()
	defer p.mu.Unlock()
	all := make([]*record, 0, len(p.recs)+len(rs))
	all = append(all, p.recs...)
	all = append(all, rs...)
	sort.SliceStable(all, func(i, j int) bool {
		return bytes.Compare(all[i].digest[:], all[j].digest[:]) > 0
	})
	out := all[:0]
	for i, r := range all {
		if i+1 < len(all) && all[i+1].digest == r.digest {
			continue // a later duplicate replaces this one
		}
		out = append(out, r)
	}
	p.recs = out
}

// remove deletes the record with digest d under the caller's write lock.
func (p *partition) remove(d *[20]byte) bool {
	i, ok := p.search(d)
	if !ok {
		return false
	}
	copy(p.recs[i:], p.recs[i+1:])
	p.recs[len(p.recs)-1] = nil
	p.recs = p.recs[:len(p.recs)-1]
	return true
}

// namespace is one namespace's data and metadata.
type namespace struct {
	cfg   NamespaceConfig
	parts [Partitions]partition

	mu          sync.RWMutex
	truncateLUT int64            // ms since the Aerospike epoch, 0 = never
	setTruncate map[string]int64 // per set, ms since the Aerospike epoch
	setIDs      map[string]int   // set name -> position in setOrder
	setOrder    []string         // sets in order of creation
}

func newNamespace(cfg NamespaceConfig) *namespace {
	return &namespace{cfg: cfg, setTruncate: map[string]int64{}, setIDs: map[string]int{}}
}

// registerSet records that a set exists (sets are never forgotten, like on a
// real server).
func (ns *namespace) registerSet(name string) {
	if name == "" {
		return
	}
	ns.mu.RLock()
	_, ok := ns.setIDs[name]
	ns.mu.RUnlock()
	if ok {
		return
	}
	ns.mu.Lock()
	if _, ok := ns.setIDs[name]; !ok {
		ns.setIDs[name] = len(ns.setOrder)
		ns.setOrder = append(ns.setOrder, name)
	}
	ns.mu.Unlock()
}

// live reports whether r exists at the given Aerospike-epoch second.
func live(r *record, nowVoid uint32) bool {
	return r != nil && (r.voidTime == 0 || r.voidTime > nowVoid)
}

// get returns the live record with digest d, or nil.
func (ns *namespace) get(d *[20]byte, nowVoid uint32) *record {
	p := &ns.parts[PartitionOf(*d)]
	p.mu.RLock()
	r := p.lookup(d)
	p.mu.RUnlock()
	if !live(r, nowVoid) {
		return nil
	}
	return r
}

// put stores r unconditionally.
func (ns *namespace) put(r *record) {
	p := &ns.parts[PartitionOf(r.digest)]
	p.mu.Lock()
	p.set(r)
	p.mu.Unlock()
}

// del removes the record with digest d; it reports whether a record (live or
// expired) was there.
func (ns *namespace) del(d *[20]byte) bool {
	p := &ns.parts[PartitionOf(*d)]
	p.mu.Lock()
	ok := p.remove(d)
	p.mu.Unlock()
	return ok
}

// snapshot returns the live records of partition pid in scan order.
func (ns *namespace) snapshot(pid int, nowVoid uint32) []*record {
	p := &ns.parts[pid]
	p.mu.RLock()
	out := make([]*record, 0, len(p.recs))
	for _, r := range p.recs {
		if live(r, nowVoid) {
			out = append(out, r)
		}
	}
	p.mu.RUnlock()
	return out
}

// truncate removes records of set (all sets when set is empty) whose
// last-update time is before cutoffNanos. It returns the number removed.
func (ns *namespace) truncate(set string, allSets bool, cutoffNanos int64) int {
	n := 0
	for pid := range ns.parts {
		p := &ns.parts[pid]
		p.mu.Lock()
		keep := p.recs[:0]
		for _, r := range p.recs {
			if (allSets || r.set == set) && r.lutNanos < cutoffNanos {
				n++
				continue
			}
			keep = append(keep, r)
		}
		for i := len(keep); i < len(p.recs); i++ {
			p.recs[i] = nil
		}
		p.recs = keep
		p.mu.Unlock()
	}
	return n
}

// setStats describes one set of a namespace.
type setStats struct {
	name    string
	objects int
	bytes   int
}

// stats returns the live object count, bytes, and per-set statistics in
// order of set creation.
func (ns *namespace) stats(nowVoid uint32) (objects, used int, sets []setStats) {
	ns.mu.RLock()
	idx := make(map[string]int, len(ns.setIDs))
	for k, v := range ns.setIDs {
		idx[k] = v
	}
	sets = make([]setStats, len(ns.setOrder))
	for i, n := range ns.setOrder {
		sets[i].name = n
	}
	ns.mu.RUnlock()
	for pid := range ns.parts {
		p := &ns.parts[pid]
		p.mu.RLock()
		for _, r := range p.recs {
			if !live(r, nowVoid) {
				continue
			}
			objects++
			sz := r.size()
			used += sz
			if r.set == "" {
				continue
			}
			if i, ok := idx[r.set]; ok {
				sets[i].objects++
				sets[i].bytes += sz
			}
		}
		p.mu.RUnlock()
	}
	return objects, used, sets
}
