package asdsim

import (
	"encoding/binary"

	"asbtools/asdsim/internal/exp"
)

// Batch row flags.
const (
	batchRepeat       = 0x01
	batchExtraInfo    = 0x02
	batchHasGen       = 0x04
	batchHasTTL       = 0x08
	batchHasInfo4     = 0x10
	batchRespondAll   = 0x04 // parent flag: respond-all-keys
	batchFlushAtBytes = 1 << 20
)

// batchRow is one parsed batch row.
type batchRow struct {
	index  uint32
	digest [20]byte
	msg    *message
}

// parseBatch parses the payload of field 41 or 42.
func parseBatch(b []byte, anyFormat bool) (rows []batchRow, parentFlags byte, err error) {
	if len(b) < 5 {
		return nil, 0, errShort
	}
	n := int(binary.BigEndian.Uint32(b))
	parentFlags = b[4]
	pos := 5
	if n > len(b) {
		return nil, 0, errShort
	}
	rows = make([]batchRow, 0, n)
	var prev *message
	for i := 0; i < n; i++ {
		if len(b)-pos < 25 {
			return nil, 0, errShort
		}
		var r batchRow
		r.index = binary.BigEndian.Uint32(b[pos:])
		copy(r.digest[:], b[pos+4:pos+24])
		flags := b[pos+24]
		pos += 25
		if flags&batchRepeat != 0 {
			if prev == nil {
				return nil, 0, errShort
			}
			r.msg = prev
			rows = append(rows, r)
			continue
		}
		m := &message{}
		need := func(k int) bool { return len(b)-pos >= k }
		if !need(1) {
			return nil, 0, errShort
		}
		m.info1 = b[pos]
		pos++
		if anyFormat {
			if flags&batchExtraInfo != 0 {
				if !need(2) {
					return nil, 0, errShort
				}
				m.info2, m.info3 = b[pos], b[pos+1]
				pos += 2
			}
			if flags&batchHasInfo4 != 0 {
				if !need(1) {
					return nil, 0, errShort
				}
				m.info4 = b[pos]
				pos++
			}
			if flags&batchHasGen != 0 {
				if !need(2) {
					return nil, 0, errShort
				}
				m.gen = uint32(binary.BigEndian.Uint16(b[pos:]))
				pos += 2
			}
			if flags&batchHasTTL != 0 {
				if !need(4) {
					return nil, 0, errShort
				}
				m.ttl = binary.BigEndian.Uint32(b[pos:])
				pos += 4
			}
		}
		if !need(4) {
			return nil, 0, errShort
		}
		nf := int(binary.BigEndian.Uint16(b[pos:]))
		no := int(binary.BigEndian.Uint16(b[pos+2:]))
		pos += 4
		used, err := parseFieldsOps(b[pos:], nf, no, m)
		if err != nil {
			return nil, 0, err
		}
		pos += used
		r.msg = m
		prev = m
		rows = append(rows, r)
	}
	return rows, parentFlags, nil
}

// handleBatch answers a batch (field 41 "batch-any" or field 42 old reads).
func (cs *conn) handleBatch(m *message) error {
	s := cs.n.srv
	var payload []byte
	anyFormat := false
	switch {
	case m.has(fieldBatchIndex):
		payload, anyFormat = m.get(fieldBatchIndex), true
	case m.has(fieldBatchWithSet):
		payload = m.get(fieldBatchWithSet)
	default:
		return cs.send(batchError(ResultParameterError))
	}
	rows, pflags, err := parseBatch(payload, anyFormat)
	if err != nil {
		return cs.send(batchError(ResultParameterError))
	}
	parentFilter, rc := compileFilter(m.get(fieldFilterExp), m.has(fieldFilterExp))
	if rc != 0 {
		return cs.send(batchError(rc))
	}
	// Resolve namespaces and row filters before executing anything.
	nss := make([]*namespace, len(rows))
	filters := make([]*exp.Expr, len(rows))
	var lastMsg *message
	for i := range rows {
		rm := rows[i].msg
		if rm == lastMsg && i > 0 {
			nss[i], filters[i] = nss[i-1], filters[i-1]
			continue
		}
		lastMsg = rm
		ns := s.nsByKey[rm.str(fieldNamespace)]
		if ns == nil {
			return cs.send(batchError(ResultInvalidNamespace))
		}
		nss[i] = ns
		filters[i] = parentFilter
		if rm.has(fieldFilterExp) {
			f, rc := compileFilter(rm.get(fieldFilterExp), true)
			if rc != 0 {
				return cs.send(batchError(rc))
			}
			filters[i] = f
		}
		if !anyFormat {
			// Old-format rows are always reads.
			rm.info1 |= info1Read
		}
	}
	respondAllKeys := !anyFormat || pflags&batchRespondAll != 0
	buf := appendProtoHeader(cs.out[:0], protoMsg)
	start := 0
	var stopRC ResultCode
	for i := range rows {
		res := s.execute(cs.n, rows[i].msg, nss[i], &rows[i].digest, filters[i])
		if res.rc != 0 {
			if !respondAllKeys && res.rc != ResultKeyNotFound && res.rc != ResultFilteredOut {
				stopRC = res.rc
				break
			}
			buf = appendMsgHeader(buf, 0, 0, res.rc, 0, 0, rows[i].index, 0, 0)
		} else {
			buf = appendMsgHeader(buf, 0, 0, 0, uint32(res.gen), res.void, rows[i].index, 0, len(res.bins))
			for j := range res.bins {
				buf = appendBinOp(buf, &res.bins[j])
			}
		}
		if len(buf)-start > batchFlushAtBytes {
			finishProto(buf, start)
			if err := cs.send(buf); err != nil {
				return err
			}
			buf = appendProtoHeader(buf[:0], protoMsg)
			start = 0
		}
	}
	if len(buf)-start > 8 {
		finishProto(buf, start)
		start = len(buf)
		buf = appendProtoHeader(buf, protoMsg)
	}
	buf = appendMsgHeader(buf, 0, info3Last, stopRC, 0, 0, 0, 0, 0)
	finishProto(buf, start)
	cs.out = buf
	return cs.send(buf)
}

// batchError is a whole-batch failure: one LAST message with the code.
func batchError(rc ResultCode) []byte {
	buf := appendProtoHeader(nil, protoMsg)
	buf = appendMsgHeader(buf, 0, info3Last, rc, 0, 0, 0, 0, 0)
	finishProto(buf, 0)
	return buf
}
