package asdsim

import (
	"encoding/binary"
	"time"
)

// scanChunkBytes is the proto size at which a scan response is flushed.
const scanChunkBytes = 1 << 20

// scanFrom appends to dst the live records of the partition in scan order,
// starting strictly after digest `after` when it is not nil.
func (p *partition) scanFrom(dst []*record, after *[20]byte, nowVoid uint32) []*record {
	p.mu.RLock()
	start := 0
	if after != nil {
		start = p.after(after)
	}
	out := dst[:0]
	for _, r := range p.recs[start:] {
		if live(r, nowVoid) {
			out = append(out, r)
		}
	}
	p.mu.RUnlock()
	return out
}

// scanPart is one requested partition.
type scanPart struct {
	pid    int
	resume *[20]byte
}

// handleScan answers a partition scan or primary-index query.
func (cs *conn) handleScan(m *message, ns *namespace) error {
	s := cs.n.srv
	if m.info2&info2Write != 0 || m.has(fieldUDFOp) || m.has(fieldIndexRange) {
		// Background queries, aggregations and secondary-index queries are
		// not implemented.
		return cs.send(errorReply(ResultUnsupportedFeature))
	}
	if m.info3&info3PartitionDone == 0 {
		return cs.send(errorReply(ResultUnsupportedFeature))
	}
	if !m.has(fieldPIDArray) && !m.has(fieldDigestArray) {
		return cs.send(errorReply(ResultUnsupportedFeature))
	}
	var parts []scanPart
	seen := make(map[int]bool)
	pa := m.get(fieldPIDArray)
	if len(pa)%2 != 0 {
		return cs.send(errorReply(ResultParameterError))
	}
	for i := 0; i < len(pa); i += 2 {
		pid := int(binary.LittleEndian.Uint16(pa[i:]))
		if pid >= Partitions || seen[pid] {
			return cs.send(errorReply(ResultParameterError))
		}
		seen[pid] = true
		parts = append(parts, scanPart{pid: pid})
	}
	da := m.get(fieldDigestArray)
	if len(da)%20 != 0 {
		return cs.send(errorReply(ResultParameterError))
	}
	for i := 0; i < len(da); i += 20 {
		d := new([20]byte)
		copy(d[:], da[i:i+20])
		pid := PartitionOf(*d)
		if seen[pid] {
			return cs.send(errorReply(ResultParameterError))
		}
		seen[pid] = true
		parts = append(parts, scanPart{pid: pid, resume: d})
	}
	filter, rc := compileFilter(m.get(fieldFilterExp), m.has(fieldFilterExp))
	if rc != 0 {
		return cs.send(errorReply(rc))
	}
	var maxRecords uint64
	if mr := m.get(fieldMaxRecords); len(mr) == 8 {
		maxRecords = binary.BigEndian.Uint64(mr)
	}
	var rps uint32
	if r := m.get(fieldRPS); len(r) == 4 {
		rps = binary.BigEndian.Uint32(r)
	}
	var binNames []string
	for _, o := range m.ops {
		if o.code == opRead && len(o.name) > 0 {
			binNames = append(binNames, string(o.name))
		}
	}
	if bl := m.get(fieldQueryBinList); len(bl) > 0 {
		n := int(bl[0])
		pos := 1
		for i := 0; i < n && pos < len(bl); i++ {
			l := int(bl[pos])
			if pos+1+l > len(bl) {
				return cs.send(errorReply(ResultParameterError))
			}
			binNames = append(binNames, string(bl[pos+1:pos+1+l]))
			pos += 1 + l
		}
	}
	noBins := m.info1&info1NoBinData != 0
	setName := m.str(fieldSet)

	// Concurrency limit (fault injection).
	if rc, ok := s.faults.beginScan(); !ok {
		return cs.send(errorReply(rc))
	}
	defer s.faults.endScan()
	if rc, ok := cs.n.faults.beginScan(); !ok {
		return cs.send(errorReply(rc))
	}
	defer cs.n.faults.endScan()
	dropAfter := s.faults.takeDropAfter()
	if d := cs.n.faults.takeDropAfter(); d >= 0 && (dropAfter < 0 || d < dropAfter) {
		dropAfter = d
	}
	checkUnavailable := s.faults.hasUnavailable() || cs.n.faults.hasUnavailable()

	now := s.now()
	nowVoid := uint32(now.Unix() - CitrusleafEpoch)
	nsName := ns.cfg.Name
	buf := appendProtoHeader(cs.out[:0], protoMsg)
	start := 0
	flush := func() error {
		finishProto(buf, start)
		err := cs.send(buf)
		buf = appendProtoHeader(buf[:0], protoMsg)
		start = 0
		return err
	}
	var sent uint64
	var snap []*record
	began := time.Now()
	for _, sp := range parts {
		if !s.owns(cs.n.index, sp.pid) || (checkUnavailable &&
			(s.faults.partitionUnavailable(sp.pid) || cs.n.faults.partitionUnavailable(sp.pid))) {
			buf = appendMsgHeader(buf, 0, info3PartitionDone, ResultPartitionUnavailable, uint32(sp.pid), 0, 0, 0, 0)
			continue
		}
		snap = ns.parts[sp.pid].scanFrom(snap, sp.resume, nowVoid)
		recs := snap
		for _, r := range recs {
			if setName != "" && r.set != setName {
				continue
			}
			if filter != nil && !filter.Match(r, now) {
				continue
			}
			if maxRecords > 0 && sent >= maxRecords {
				break
			}
			if dropAfter >= 0 && sent >= uint64(dropAfter) {
				if len(buf)-start > 8 {
					if err := flush(); err != nil {
						return err
					}
				}
				return errDrop
			}
			var ok bool
			buf, ok = appendScanRecord(buf, nsName, r, noBins, binNames)
			if !ok {
				continue
			}
			sent++
			s.countRecords(cs.n, 1)
			if rps > 0 {
				due := began.Add(time.Duration(float64(sent) / float64(rps) * float64(time.Second)))
				if wait := time.Until(due); wait > 0 {
					if err := flush(); err != nil {
						return err
					}
					select {
					case <-time.After(wait):
					case <-s.done:
						return errDrop
					}
				}
			}
			if len(buf)-start >= scanChunkBytes {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if maxRecords > 0 && sent >= maxRecords {
			break
		}
	}
	if dropAfter >= 0 && sent >= uint64(dropAfter) {
		if len(buf)-start > 8 {
			if err := flush(); err != nil {
				return err
			}
		}
		return errDrop
	}
	buf = appendMsgHeader(buf, 0, info3Last, 0, 0, 0, 0, 0, 0)
	finishProto(buf, start)
	cs.out = buf
	return cs.send(buf)
}

// appendScanRecord appends one record of a scan stream. It reports false
// (and appends nothing) when a bin list is given and the record has none of
// those bins, like the real server.
func appendScanRecord(buf []byte, ns string, r *record, noBins bool, binNames []string) ([]byte, bool) {
	nf := r.nFields + 1
	if !noBins && binNames == nil {
		// Fast path: the whole pre-encoded record.
		buf = appendMsgHeader(buf, 0, 0, 0, uint32(r.gen), r.voidTime, 0, nf, len(r.bins))
		buf = appendFieldStr(buf, fieldNamespace, ns)
		return append(buf, r.wire...), true
	}
	info1 := byte(0)
	nops := 0
	if noBins {
		info1 = info1NoBinData
	} else {
		for i := range r.bins {
			if wanted(r.bins[i].Name, binNames) {
				nops++
			}
		}
		if nops == 0 {
			return buf, false
		}
	}
	buf = appendMsgHeader(buf, info1, 0, 0, uint32(r.gen), r.voidTime, 0, nf, nops)
	buf = appendFieldStr(buf, fieldNamespace, ns)
	buf = append(buf, r.wire[:r.fieldsLen]...)
	if noBins {
		return buf, true
	}
	for i := range r.bins {
		if wanted(r.bins[i].Name, binNames) {
			buf = appendBinOp(buf, &r.bins[i])
		}
	}
	return buf, true
}

func wanted(name string, names []string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}
