package backup

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"

	"asbtools/asb"
	"asbtools/clusterconn"
)

// Wire constants (wire-protocol.md §6).
const (
	protoVersion   = 2
	protoTypeMsg   = 3
	protoTypeCmpr  = 4
	msgHeaderSize  = 22
	info1Read      = 0x01
	info1NoBinData = 0x20
	info3Last      = 0x01
	info3PartDone  = 0x04

	fieldNamespace  = 0
	fieldSet        = 1
	fieldKey        = 2
	fieldDigest     = 4
	fieldTranID     = 7
	fieldSocketTO   = 9
	fieldRPS        = 10
	fieldPIDArray   = 11
	fieldDigestArr  = 12
	fieldMaxRecords = 13
	fieldFilterExp  = 43

	opRead = 1

	rcPartitionUnavailable = 11
	rcKeyNotFound          = 2
	rcFilteredOut          = 27
)

// ScanError is a failed scan with the C client's status code, the message
// and the source position the legacy tool prints with it.
type ScanError struct {
	Code int
	Msg  string
	At   string
}

func (e *ScanError) Error() string { return e.Msg }

// scanSpec is what every scan request of a backup has in common.
type scanSpec struct {
	namespace string
	set       string
	bins      []string
	noBins    bool
	filterExp []byte
	rps       uint32
	socketTO  time.Duration
}

// partState tracks one partition of a job (like the client's partition
// tracker): the last digest received, whether it is done, records seen.
type partState struct {
	id      int
	digest  [20]byte
	hasDig  bool
	done    bool
	records uint64
	// retry marks a partition reported unavailable in the current round.
	retry bool
}

// buildScan appends a scan request for the given partitions to buf.
func buildScan(buf []byte, sp *scanSpec, parts []*partState, maxRecords uint64) []byte {
	var pids, digs int
	for _, p := range parts {
		if p.hasDig {
			digs++
		} else {
			pids++
		}
	}
	buf = append(buf[:0], make([]byte, 8+msgHeaderSize)...)
	nf := 0
	field := func(t byte, data []byte) {
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(data)+1))
		buf = append(buf, t)
		buf = append(buf, data...)
		nf++
	}
	fieldHdr := func(t byte, n int) {
		buf = binary.BigEndian.AppendUint32(buf, uint32(n+1))
		buf = append(buf, t)
		nf++
	}
	field(fieldNamespace, []byte(sp.namespace))
	field(fieldSet, []byte(sp.set))
	if pids > 0 {
		fieldHdr(fieldPIDArray, 2*pids)
		for _, p := range parts {
			if !p.hasDig {
				buf = binary.LittleEndian.AppendUint16(buf, uint16(p.id))
			}
		}
	}
	if digs > 0 {
		fieldHdr(fieldDigestArr, 20*digs)
		for _, p := range parts {
			if p.hasDig {
				buf = append(buf, p.digest[:]...)
			}
		}
	}
	if len(sp.filterExp) > 0 {
		field(fieldFilterExp, sp.filterExp)
	}
	if maxRecords > 0 {
		fieldHdr(fieldMaxRecords, 8)
		buf = binary.BigEndian.AppendUint64(buf, maxRecords)
	}
	if sp.rps > 0 {
		fieldHdr(fieldRPS, 4)
		buf = binary.BigEndian.AppendUint32(buf, sp.rps)
	}
	fieldHdr(fieldSocketTO, 4)
	buf = binary.BigEndian.AppendUint32(buf, uint32(sp.socketTO/time.Millisecond))
	var tid [8]byte
	_, _ = rand.Read(tid[:])
	field(fieldTranID, tid[:])
	nops := 0
	if !sp.noBins {
		for _, b := range sp.bins {
			buf = binary.BigEndian.AppendUint32(buf, uint32(4+len(b)))
			buf = append(buf, opRead, 0, 0, byte(len(b)))
			buf = append(buf, b...)
			nops++
		}
	}
	h := buf[8 : 8+msgHeaderSize]
	h[0] = msgHeaderSize
	h[1] = info1Read
	if sp.noBins {
		h[1] |= info1NoBinData
	}
	h[3] = info3PartDone
	binary.BigEndian.PutUint16(h[18:], uint16(nf))
	binary.BigEndian.PutUint16(h[20:], uint16(nops))
	n := uint64(len(buf) - 8)
	binary.BigEndian.PutUint64(buf[0:8], n|uint64(protoVersion)<<56|uint64(protoTypeMsg)<<48)
	return buf
}

// connReader adapts a pooled client connection to io.Reader, never asking
// the connection for more bytes than the current proto message holds (its
// Read blocks until the requested length has arrived).
type connReader struct {
	conn   *as.Connection
	remain int // bytes left in the current proto body
	buf    []byte
	r, w   int
}

func (c *connReader) fill() error {
	if c.remain == 0 {
		return io.EOF
	}
	if c.r == c.w {
		c.r, c.w = 0, 0
	}
	n := min(len(c.buf)-c.w, c.remain)
	if n == 0 {
		return nil
	}
	if _, err := c.conn.Read(c.buf[c.w:c.w+n], n); err != nil {
		return err
	}
	c.w += n
	c.remain -= n
	return nil
}

// readFull reads exactly len(p) bytes of the current proto body.
func (c *connReader) readFull(p []byte) error {
	for len(p) > 0 {
		if c.r == c.w {
			if len(p) >= len(c.buf) && c.remain >= len(p) {
				// Large value: read directly.
				if _, err := c.conn.Read(p, len(p)); err != nil {
					return err
				}
				c.remain -= len(p)
				return nil
			}
			if err := c.fill(); err != nil {
				if err == io.EOF {
					return errors.New("truncated message in scan response")
				}
				return err
			}
		}
		n := copy(p, c.buf[c.r:c.w])
		c.r += n
		p = p[n:]
	}
	return nil
}

// available reports whether the current proto body has unread bytes.
func (c *connReader) available() bool { return c.r < c.w || c.remain > 0 }

// nextProto reads the next proto header (8 bytes) directly from the
// connection.
func (c *connReader) nextProto() error {
	var h [8]byte
	if _, err := c.conn.Read(h[:], 8); err != nil {
		return err
	}
	v := binary.BigEndian.Uint64(h[:])
	if h[0] != protoVersion {
		return fmt.Errorf("invalid proto version %d in scan response", h[0])
	}
	if h[1] != protoTypeMsg {
		return fmt.Errorf("unexpected proto type %d in scan response", h[1])
	}
	c.remain = int(v & 0xFFFFFFFFFFFF)
	c.r, c.w = 0, 0
	return nil
}

// recordSink receives the records of a scan. The record and its byte slices
// are only valid during the call.
type recordSink interface {
	record(r *asb.Record, p *partState) error
}

// recParser decodes scan response records into a reusable asb.Record.
type recParser struct {
	arena   []byte
	rec     asb.Record
	compact bool
	rbuf    []byte
	ops     []opSpan
	// hdr and sizeBuf receive message headers and field/operation
	// headers (kept here so that reading them allocates nothing).
	hdr     [msgHeaderSize]byte
	sizeBuf [8]byte
	// binOrder, when set (--bin-list), is the order bins are written in:
	// the order a real server returns them for a scan with bin names.
	binOrder []string
}

// orderBins sorts the record's bins into the --bin-list order (stable;
// names not in the list keep their place after the listed ones).
func (rp *recParser) orderBins() {
	bins := rp.rec.Bins
	rank := func(b *asb.Bin) int {
		for i, n := range rp.binOrder {
			if string(b.Name) == n {
				return i
			}
		}
		return len(rp.binOrder)
	}
	for i := 1; i < len(bins); i++ {
		for j := i; j > 0 && rank(&bins[j]) < rank(&bins[j-1]); j-- {
			bins[j], bins[j-1] = bins[j-1], bins[j]
		}
	}
}

// readStream reads one node's answer to a scan request, handing records to
// sink and updating the partition states. It returns when the LAST message
// arrives. stop is polled between records.
// partTable maps partition ids to the job's partition states.
type partTable [4096]*partState

func (rp *recParser) readStream(cr *connReader, byPID *partTable, sink recordSink, stop func() bool) error {
	hdr := rp.hdr[:]
	for {
		if !cr.available() {
			if err := cr.nextProto(); err != nil {
				return err
			}
			continue
		}
		if err := cr.readFull(hdr); err != nil {
			return err
		}
		rc := int(hdr[5])
		info3 := hdr[3]
		nFields := int(binary.BigEndian.Uint16(hdr[18:]))
		nOps := int(binary.BigEndian.Uint16(hdr[20:]))
		if info3&info3Last != 0 {
			if rc != 0 && rc != rcKeyNotFound && rc != rcFilteredOut {
				return &ScanError{Code: rc, Msg: clusterconn.StatusName(rc), At: "src/main/aerospike/aerospike_scan.c:346"}
			}
			return nil
		}
		if info3&info3PartDone != 0 {
			pid := int(binary.BigEndian.Uint32(hdr[6:10]))
			if pid >= len(byPID) {
				continue
			}
			if p := byPID[pid]; p != nil && rc != 0 {
				p.retry = true
			}
			continue
		}
		if rc != 0 {
			if rc == rcKeyNotFound || rc == rcFilteredOut {
				return nil
			}
			return &ScanError{Code: rc, Msg: clusterconn.StatusName(rc), At: "src/main/aerospike/aerospike_scan.c:370"}
		}
		if err := rp.parseRecord(cr, hdr, nFields, nOps); err != nil {
			return err
		}
		pid := int(binary.LittleEndian.Uint16(rp.rec.Digest[:2]) & 0x0FFF)
		p := byPID[pid]
		if p == nil {
			return fmt.Errorf("scan response holds a record of partition %d, which was not requested", pid)
		}
		if err := sink.record(&rp.rec, p); err != nil {
			return err
		}
		if stop() {
			return errStopped
		}
	}
}

var errStopped = errors.New("backup stopped")

// span locates bytes in the record arena.
type span struct{ off, n int }

// opSpan locates one bin of the record being parsed.
type opSpan struct {
	name, val span
	ptype     byte
}

// take extends the arena by n bytes and returns them.
func (rp *recParser) take(n int) []byte {
	a := rp.arena
	if cap(a)-len(a) < n {
		na := make([]byte, len(a), 2*cap(a)+n)
		copy(na, a)
		a = na
	}
	s := len(a)
	rp.arena = a[:s+n]
	return rp.arena[s : s+n]
}

func (rp *recParser) parseRecord(cr *connReader, hdr []byte, nFields, nOps int) error {
	r := &rp.rec
	bins := r.Bins[:0]
	*r = asb.Record{Bins: bins}
	r.Generation = uint16(binary.BigEndian.Uint32(hdr[6:10]))
	r.VoidTime = binary.BigEndian.Uint32(hdr[10:14])
	rp.arena = rp.arena[:0]
	sizeBuf := rp.sizeBuf[:]
	// Offsets first: the arena may move while it grows.
	var ns, set, key, dig span
	var keyType byte
	hasSet, hasKey, hasDig := false, false, false
	for i := 0; i < nFields; i++ {
		if err := cr.readFull(sizeBuf[:5]); err != nil {
			return err
		}
		sz := int(binary.BigEndian.Uint32(sizeBuf[:4])) - 1
		if sz < 0 {
			return fmt.Errorf("invalid field size in scan response")
		}
		t := sizeBuf[4]
		off := len(rp.arena)
		if err := cr.readFull(rp.take(sz)); err != nil {
			return err
		}
		switch t {
		case fieldNamespace:
			ns = span{off, sz}
		case fieldSet:
			set, hasSet = span{off, sz}, true
		case fieldKey:
			if sz >= 1 {
				keyType = rp.arena[off]
				key, hasKey = span{off + 1, sz - 1}, true
			}
		case fieldDigest:
			dig, hasDig = span{off, sz}, true
		}
	}
	ops := rp.ops[:0]
	for i := 0; i < nOps; i++ {
		if err := cr.readFull(sizeBuf[:8]); err != nil {
			return err
		}
		sz := int(binary.BigEndian.Uint32(sizeBuf[:4]))
		ptype := sizeBuf[5]
		nameLen := int(sizeBuf[7])
		vlen := sz - 4 - nameLen
		if vlen < 0 {
			return fmt.Errorf("invalid operation size in scan response")
		}
		off := len(rp.arena)
		if err := cr.readFull(rp.take(nameLen + vlen)); err != nil {
			return err
		}
		ops = append(ops, opSpan{name: span{off, nameLen}, val: span{off + nameLen, vlen}, ptype: ptype})
	}
	rp.ops = ops
	arena := rp.arena
	if !hasDig || dig.n != 20 {
		return fmt.Errorf("scan response record without digest")
	}
	copy(r.Digest[:], arena[dig.off:dig.off+20])
	r.Namespace = arena[ns.off : ns.off+ns.n]
	if hasSet && set.n > 0 {
		r.Set, r.HasSet = arena[set.off:set.off+set.n], true
	}
	if hasKey {
		kb := arena[key.off : key.off+key.n]
		switch keyType {
		case 1:
			var u uint64
			for _, c := range kb {
				u = u<<8 | uint64(c)
			}
			r.Key = asb.Key{Type: asb.KeyInt, Int: int64(u)}
		case 2:
			if len(kb) == 8 {
				r.Key = asb.Key{Type: asb.KeyFloat, Float: math.Float64frombits(binary.BigEndian.Uint64(kb))}
			}
		case 3:
			r.Key = asb.Key{Type: asb.KeyString, Bytes: kb}
		case 4:
			r.Key = asb.Key{Type: asb.KeyBytes, Bytes: kb, Compact: rp.compact}
		}
	}
	for _, o := range ops {
		r.Bins = append(r.Bins, asb.Bin{})
		b := &r.Bins[len(r.Bins)-1]
		if err := b.SetWire(arena[o.name.off:o.name.off+o.name.n], asb.ParticleType(o.ptype),
			arena[o.val.off:o.val.off+o.val.n], rp.compact); err != nil {
			return err
		}
	}
	if len(rp.binOrder) > 1 {
		rp.orderBins()
	}
	return nil
}
