package asdsim

import (
	"bytes"
	"fmt"
	"sort"
)

func (s *Server) namespace(name string) (*namespace, error) {
	ns := s.nsByKey[name]
	if ns == nil {
		return nil, fmt.Errorf("asdsim: unknown namespace %q", name)
	}
	return ns, nil
}

// Namespaces returns the configured namespace names in configuration order.
func (s *Server) Namespaces() []string {
	out := make([]string, len(s.nsList))
	for i, ns := range s.nsList {
		out[i] = ns.cfg.Name
	}
	return out
}

// Put stores a record as is, replacing any record with the same digest. The
// digest is computed from Set and Key when it is all zero; Generation 0
// becomes 1 and LastUpdate 0 becomes the current time. Bins keep their order.
func (s *Server) Put(namespace string, rec Record) error {
	ns, err := s.namespace(namespace)
	if err != nil {
		return err
	}
	r, err := s.makeRecord(rec)
	if err != nil {
		return err
	}
	ns.put(r)
	ns.registerSet(r.set)
	return nil
}

// PutMany stores many records (see Put).
func (s *Server) PutMany(namespace string, recs []Record) error {
	for i := range recs {
		if err := s.Put(namespace, recs[i]); err != nil {
			return fmt.Errorf("record %d: %w", i, err)
		}
	}
	return nil
}

func (s *Server) makeRecord(rec Record) (*record, error) {
	if len(rec.Set) > 63 {
		return nil, fmt.Errorf("asdsim: set name %q too long", rec.Set)
	}
	r := &record{set: rec.Set, digest: rec.Digest, gen: rec.Generation, voidTime: rec.VoidTime, lutNanos: rec.LastUpdate}
	if r.digest == ([20]byte{}) {
		if rec.Key == nil {
			return nil, fmt.Errorf("asdsim: record has neither digest nor key")
		}
		r.digest = ComputeDigest(rec.Set, rec.Key)
	}
	if rec.Key != nil {
		switch rec.Key.Type {
		case ParticleInteger:
			if len(rec.Key.Data) != 8 {
				return nil, fmt.Errorf("asdsim: integer key must be 8 bytes")
			}
		case ParticleString, ParticleBlob:
		default:
			return nil, fmt.Errorf("asdsim: unsupported key particle type %d", rec.Key.Type)
		}
		r.key = append([]byte{byte(rec.Key.Type)}, rec.Key.Data...)
	}
	if r.gen == 0 {
		r.gen = 1
	}
	if r.lutNanos == 0 {
		r.lutNanos = s.now().UnixNano() / 1e6 * 1e6
	}
	seen := map[string]bool{}
	for _, b := range rec.Bins {
		if b.Name == "" || len(b.Name) > maxBinNameSz {
			return nil, fmt.Errorf("asdsim: invalid bin name %q", b.Name)
		}
		if seen[b.Name] {
			return nil, fmt.Errorf("asdsim: duplicate bin %q", b.Name)
		}
		seen[b.Name] = true
		r.bins = append(r.bins, Bin{Name: b.Name, Type: b.Type, Data: b.Data})
	}
	r.seal()
	return r, nil
}

// Get returns the live record with the given digest.
func (s *Server) Get(namespace string, digest [20]byte) (Record, bool) {
	ns := s.nsByKey[namespace]
	if ns == nil {
		return Record{}, false
	}
	r := ns.get(&digest, s.nowVoid())
	if r == nil {
		return Record{}, false
	}
	return r.export(namespace), true
}

// GetByKey returns the live record of a user key in a set.
func (s *Server) GetByKey(namespace, set string, key *UserKey) (Record, bool) {
	return s.Get(namespace, ComputeDigest(set, key))
}

// Delete removes a record; it reports whether it existed.
func (s *Server) Delete(namespace string, digest [20]byte) bool {
	ns := s.nsByKey[namespace]
	if ns == nil {
		return false
	}
	return ns.del(&digest)
}

// Records returns every live record of a namespace, sorted by ascending
// digest, with all metadata and bins in their stored order.
func (s *Server) Records(namespace string) []Record {
	ns := s.nsByKey[namespace]
	if ns == nil {
		return nil
	}
	var out []Record
	s.Each(namespace, func(r Record) bool {
		out = append(out, r)
		return true
	})
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].Digest[:], out[j].Digest[:]) < 0 })
	return out
}

// Each calls fn for every live record of a namespace, partition by partition
// (in scan order within a partition) until fn returns false.
func (s *Server) Each(namespace string, fn func(Record) bool) {
	ns := s.nsByKey[namespace]
	if ns == nil {
		return
	}
	nowVoid := s.nowVoid()
	for pid := 0; pid < Partitions; pid++ {
		for _, r := range ns.snapshot(pid, nowVoid) {
			if !fn(r.export(namespace)) {
				return
			}
		}
	}
}

// Count returns the number of live records in a namespace (all sets when
// set is empty).
func (s *Server) Count(namespace, set string) int {
	ns := s.nsByKey[namespace]
	if ns == nil {
		return 0
	}
	nowVoid := s.nowVoid()
	n := 0
	for pid := range ns.parts {
		p := &ns.parts[pid]
		p.mu.RLock()
		for _, r := range p.recs {
			if live(r, nowVoid) && (set == "" || r.set == set) {
				n++
			}
		}
		p.mu.RUnlock()
	}
	return n
}

// Truncate removes every record of a namespace (or of one set when set is
// not empty), like the truncate info commands without a lut.
func (s *Server) Truncate(namespace, set string) error {
	ns, err := s.namespace(namespace)
	if err != nil {
		return err
	}
	s.truncate(ns, set, set == "", s.now().UnixNano()+1)
	return nil
}

// Clear removes every record, secondary index and UDF and resets truncate
// markers, leaving the server as freshly started.
func (s *Server) Clear() {
	for _, ns := range s.nsList {
		for pid := range ns.parts {
			p := &ns.parts[pid]
			p.mu.Lock()
			p.recs = nil
			p.mu.Unlock()
		}
		ns.mu.Lock()
		ns.truncateLUT = 0
		ns.setTruncate = map[string]int64{}
		ns.setIDs = map[string]int{}
		ns.setOrder = nil
		ns.mu.Unlock()
	}
	s.meta.mu.Lock()
	s.meta.sindexes = nil
	s.meta.udfs = nil
	s.meta.mu.Unlock()
}

// SeedSynthetic stores n synthetic records in a namespace and set: integer
// user keys 0..n-1 (stored), a string bin "s" padded so that the record is
// about recordSize bytes, and an integer bin "i" equal to the key.
func (s *Server) SeedSynthetic(namespace, set string, n, recordSize int) error {
	ns, err := s.namespace(namespace)
	if err != nil {
		return err
	}
	pad := recordSize - 60 - len(set)
	if pad < 1 {
		pad = 1
	}
	filler := make([]byte, pad)
	for i := range filler {
		filler[i] = 'a' + byte(i%26)
	}
	lut := s.now().UnixNano() / 1e6 * 1e6
	groups := make([][]*record, Partitions)
	for i := 0; i < n; i++ {
		k := IntKey(int64(i))
		r := &record{
			digest:   ComputeDigest(set, k),
			set:      set,
			key:      append([]byte{byte(ParticleInteger)}, k.Data...),
			bins:     []Bin{{Name: "s", Type: ParticleString, Data: filler}, IntBin("i", int64(i))},
			gen:      1,
			lutNanos: lut,
		}
		r.seal()
		pid := PartitionOf(r.digest)
		groups[pid] = append(groups[pid], r)
	}
	for pid, g := range groups {
		if len(g) > 0 {
			ns.parts[pid].putMany(g)
		}
	}
	ns.registerSet(set)
	return nil
}
