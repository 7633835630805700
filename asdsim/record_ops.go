package asdsim

import (
	"encoding/binary"
	"math"

	"asbtools/asdsim/internal/exp"
)

// result is the outcome of a single-record command.
type result struct {
	rc   ResultCode
	gen  uint16
	void uint32
	bins []Bin
}

// TTL special values in the record-ttl slot.
const (
	ttlNamespaceDefault = 0
	ttlNeverExpire      = 0xFFFFFFFF
	ttlDontUpdate       = 0xFFFFFFFE
	ttlMax              = 10 * 365 * 24 * 3600
)

func (cs *conn) handleMsg(body []byte) error {
	var m message
	if _, err := parseMessage(body, &m); err != nil {
		return cs.send(errorReply(ResultParameterError))
	}
	if !cs.authed {
		return cs.send(errorReply(ResultNotAuthenticated))
	}
	cs.compress = m.info1&info1CompressRes != 0
	s := cs.n.srv
	if m.info1&info1Batch != 0 {
		cs.n.stats.batches.Add(1)
		return cs.handleBatch(&m)
	}
	if !m.has(fieldNamespace) {
		return cs.send(errorReply(ResultInvalidNamespace))
	}
	ns := s.nsByKey[m.str(fieldNamespace)]
	if ns == nil {
		return cs.send(errorReply(ResultInvalidNamespace))
	}
	if !m.has(fieldDigest) {
		cs.n.stats.scans.Add(1)
		return cs.handleScan(&m, ns)
	}
	if len(m.get(fieldDigest)) != 20 {
		return cs.send(errorReply(ResultParameterError))
	}
	var d [20]byte
	copy(d[:], m.get(fieldDigest))
	filter, rc := compileFilter(m.get(fieldFilterExp), m.has(fieldFilterExp))
	if rc != 0 {
		return cs.send(errorReply(rc))
	}
	res := s.execute(cs.n, &m, ns, &d, filter)
	if res.rc != 0 {
		return cs.send(errorReply(res.rc))
	}
	cs.out = cs.out[:0]
	buf := appendProtoHeader(cs.out, protoMsg)
	buf = appendMsgHeader(buf, 0, 0, 0, uint32(res.gen), res.void, 0, 0, len(res.bins))
	for i := range res.bins {
		buf = appendBinOp(buf, &res.bins[i])
	}
	finishProto(buf, 0)
	cs.out = buf
	return cs.send(buf)
}

// compileFilter compiles a FILTER_EXP field; an invalid or unsupported
// expression yields PARAMETER_ERROR.
func compileFilter(b []byte, present bool) (*exp.Expr, ResultCode) {
	if !present {
		return nil, 0
	}
	e, err := exp.Compile(b)
	if err != nil {
		return nil, ResultParameterError
	}
	return e, 0
}

// execute runs one single-record command (also used for batch rows).
func (s *Server) execute(n *Node, m *message, ns *namespace, d *[20]byte, filter *exp.Expr) result {
	switch {
	case m.info2&info2Write != 0:
		if rc, fail := s.faults.takeWriteFailure(); fail {
			return result{rc: rc}
		}
		if rc, fail := n.faults.takeWriteFailure(); fail {
			return result{rc: rc}
		}
		if m.info2&info2Delete != 0 {
			n.stats.deletes.Add(1)
			return s.deleteRecord(m, ns, d, filter)
		}
		n.stats.writes.Add(1)
		if m.has(fieldUDFPackage) || m.has(fieldUDFFunction) {
			return result{rc: ResultUnsupportedFeature}
		}
		res := s.writeRecord(m, ns, d, filter)
		s.countRecords(n, 1)
		return res
	case m.info1&info1Read != 0:
		n.stats.reads.Add(1)
		return s.readRecord(m, ns, d, filter)
	}
	return result{rc: ResultParameterError}
}

// readRecord implements get, get-header and exists.
func (s *Server) readRecord(m *message, ns *namespace, d *[20]byte, filter *exp.Expr) result {
	now := s.now()
	r := ns.get(d, uint32(now.Unix()-CitrusleafEpoch))
	if r == nil {
		return result{rc: ResultKeyNotFound}
	}
	if filter != nil && !filter.Match(r, now) {
		return result{rc: ResultFilteredOut}
	}
	res := result{gen: r.gen, void: r.voidTime}
	if m.info1&info1NoBinData != 0 {
		return res
	}
	if m.info1&info1GetAll != 0 || len(m.ops) == 0 {
		res.bins = r.bins
		return res
	}
	respondAll := m.info2&info2RespondAllOps != 0
	for _, o := range m.ops {
		if o.code != opRead {
			return result{rc: ResultParameterError}
		}
		if len(o.name) == 0 {
			res.bins = append(res.bins, r.bins...)
			continue
		}
		if i := r.binIndex(string(o.name)); i >= 0 {
			res.bins = append(res.bins, r.bins[i])
		} else if respondAll {
			res.bins = append(res.bins, Bin{Name: string(o.name)})
		}
	}
	return res
}

// deleteRecord implements delete.
func (s *Server) deleteRecord(m *message, ns *namespace, d *[20]byte, filter *exp.Expr) result {
	now := s.now()
	p := &ns.parts[PartitionOf(*d)]
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.lookup(d)
	if !live(old, uint32(now.Unix()-CitrusleafEpoch)) {
		return result{rc: ResultKeyNotFound}
	}
	if rc := checkGeneration(m, old.gen); rc != 0 {
		return result{rc: rc}
	}
	if filter != nil && !filter.Match(old, now) {
		return result{rc: ResultFilteredOut}
	}
	p.remove(d)
	return result{}
}

func checkGeneration(m *message, gen uint16) ResultCode {
	switch {
	case m.info2&info2Generation != 0:
		if m.gen != uint32(gen) {
			return ResultGenerationError
		}
	case m.info2&info2GenerationGT != 0:
		if m.gen <= uint32(gen) {
			return ResultGenerationError
		}
	}
	return 0
}

// isModifyOp reports ops that need an existing bin value.
func isModifyOp(code byte) bool {
	switch code {
	case opAdd, opAppend, opPrepend, opCDTModify, opBitModify, opHLLModify, opExpModify:
		return true
	}
	return false
}

// writeRecord implements put, operate and touch with every write policy.
func (s *Server) writeRecord(m *message, ns *namespace, d *[20]byte, filter *exp.Expr) result {
	replace := m.info3&(info3CreateOrReplace|info3ReplaceOnly) != 0
	hasTouch, hasDelete := false, false
	for _, o := range m.ops {
		if len(o.name) > maxBinNameSz {
			return result{rc: ResultBinNameTooLong}
		}
		for _, c := range o.name {
			if c == 0 {
				return result{rc: ResultBinNameTooLong}
			}
		}
		switch o.code {
		case opRead, opWrite, opAdd, opAppend, opPrepend:
		case opTouch:
			hasTouch = true
		case opDelete:
			hasDelete = true
		default:
			// CDT, bit, HLL and expression operations are not implemented.
			return result{rc: ResultParameterError}
		}
		if replace && (isModifyOp(o.code) || o.code == opTouch || o.code == opDelete ||
			(o.code == opWrite && o.ptype == ParticleNull)) {
			return result{rc: ResultParameterError}
		}
	}
	if len(m.ops) > 32767 {
		return result{rc: ResultParameterError}
	}
	now := s.now()
	nowVoid := uint32(now.Unix() - CitrusleafEpoch)
	p := &ns.parts[PartitionOf(*d)]
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.lookup(d)
	if !live(old, nowVoid) {
		old = nil
	}
	mustExist := m.info3&(info3UpdateOnly|info3ReplaceOnly) != 0 || hasTouch
	if old == nil && mustExist {
		return result{rc: ResultKeyNotFound}
	}
	if old != nil && m.info2&info2CreateOnly != 0 {
		return result{rc: ResultKeyExists}
	}
	var oldGen uint16
	if old != nil {
		oldGen = old.gen
	}
	if rc := checkGeneration(m, oldGen); rc != 0 {
		return result{rc: rc}
	}
	if old != nil && filter != nil && !filter.Match(old, now) {
		return result{rc: ResultFilteredOut}
	}
	msgSet := m.str(fieldSet)
	if old != nil && old.set != msgSet {
		return result{rc: ResultParameterError}
	}
	var key []byte
	if old != nil {
		key = old.key
	}
	if m.has(fieldKey) {
		k := m.get(fieldKey)
		if len(k) == 0 {
			return result{rc: ResultParameterError}
		}
		if k[0] == byte(ParticleInteger) && len(k) != 9 {
			return result{rc: ResultUnsupportedFeature}
		}
		if key != nil {
			if string(key) != string(k) {
				return result{rc: ResultKeyMismatch}
			}
		} else {
			key = append([]byte(nil), k...)
		}
	}
	// TTL.
	var void uint32
	switch ttl := m.ttl; {
	case ttl == ttlNeverExpire:
		void = 0
	case ttl == ttlDontUpdate:
		if old != nil {
			void = old.voidTime
		} else if ns.cfg.DefaultTTL > 0 {
			void = nowVoid + ns.cfg.DefaultTTL
		}
	case ttl == ttlNamespaceDefault:
		if ns.cfg.DefaultTTL > 0 {
			void = nowVoid + ns.cfg.DefaultTTL
		}
	case ttl <= ttlMax:
		void = nowVoid + ttl
	default:
		return result{rc: ResultParameterError}
	}
	if void != 0 && ns.cfg.RejectTTL && !(m.ttl == ttlDontUpdate && old != nil && void == old.voidTime) {
		return result{rc: ResultFailForbidden}
	}
	// Apply the ops.
	var bins []Bin
	if old != nil && !replace {
		bins = make([]Bin, len(old.bins), len(old.bins)+len(m.ops))
		copy(bins, old.bins)
	} else {
		bins = make([]Bin, 0, len(m.ops))
	}
	respondAll := m.info2&info2RespondAllOps != 0
	var out []Bin
	deleteRecord := false
	find := func(name []byte) int {
		for i := range bins {
			if bins[i].Name == string(name) {
				return i
			}
		}
		return -1
	}
	for _, o := range m.ops {
		switch o.code {
		case opRead:
			if len(o.name) == 0 {
				out = append(out, bins...)
			} else if i := find(o.name); i >= 0 {
				out = append(out, bins[i])
			} else if respondAll {
				out = append(out, Bin{Name: string(o.name)})
			}
			continue
		case opWrite:
			i := find(o.name)
			if o.ptype == ParticleNull {
				if i >= 0 {
					bins = append(bins[:i:i], bins[i+1:]...)
				}
			} else {
				b := Bin{Name: string(o.name), Type: o.ptype, Data: append([]byte(nil), o.value...)}
				if i >= 0 {
					bins[i] = b
				} else {
					bins = append(bins, b)
				}
			}
		case opAdd:
			i := find(o.name)
			if o.ptype != ParticleInteger && o.ptype != ParticleFloat || len(o.value) != 8 {
				return result{rc: ResultParameterError}
			}
			if i < 0 {
				bins = append(bins, Bin{Name: string(o.name), Type: o.ptype, Data: append([]byte(nil), o.value...)})
				break
			}
			if bins[i].Type != o.ptype || len(bins[i].Data) != 8 {
				return result{rc: ResultBinTypeError}
			}
			nb := make([]byte, 8)
			if o.ptype == ParticleInteger {
				binary.BigEndian.PutUint64(nb, binary.BigEndian.Uint64(bins[i].Data)+binary.BigEndian.Uint64(o.value))
			} else {
				f := math.Float64frombits(binary.BigEndian.Uint64(bins[i].Data)) + math.Float64frombits(binary.BigEndian.Uint64(o.value))
				binary.BigEndian.PutUint64(nb, math.Float64bits(f))
			}
			bins[i] = Bin{Name: bins[i].Name, Type: o.ptype, Data: nb}
		case opAppend, opPrepend:
			if o.ptype != ParticleString && o.ptype != ParticleBlob {
				return result{rc: ResultParameterError}
			}
			i := find(o.name)
			if i < 0 {
				bins = append(bins, Bin{Name: string(o.name), Type: o.ptype, Data: append([]byte(nil), o.value...)})
				break
			}
			if bins[i].Type != o.ptype {
				return result{rc: ResultBinTypeError}
			}
			nb := make([]byte, 0, len(bins[i].Data)+len(o.value))
			if o.code == opAppend {
				nb = append(append(nb, bins[i].Data...), o.value...)
			} else {
				nb = append(append(nb, o.value...), bins[i].Data...)
			}
			bins[i] = Bin{Name: bins[i].Name, Type: o.ptype, Data: nb}
		case opTouch:
		case opDelete:
			deleteRecord = true
		}
		if respondAll {
			out = append(out, Bin{Name: string(o.name)})
		}
	}
	if len(bins) > 32767 {
		return result{rc: ResultParameterError}
	}
	if m.info1&info1GetAll != 0 && !deleteRecord {
		out = append(out[:0], bins...)
	}
	if deleteRecord || (len(bins) == 0 && !hasDelete) {
		if old != nil {
			p.remove(d)
		}
		return result{bins: out}
	}
	lut := now.UnixNano() / 1e6 * 1e6
	if old != nil && old.lutNanos > lut {
		lut = old.lutNanos
	}
	set := msgSet
	nr := &record{digest: *d, set: set, key: key, bins: bins, gen: nextGeneration(oldGen), voidTime: void, lutNanos: lut}
	if nr.size() > ns.cfg.MaxRecordSize {
		return result{rc: ResultRecordTooBig}
	}
	nr.seal()
	p.set(nr)
	if set != "" {
		ns.registerSet(set)
	}
	return result{gen: nr.gen, void: nr.voidTime, bins: out}
}
