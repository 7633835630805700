package backup

import (
	"encoding/binary"
	"testing"
	"time"
)

func TestBuildScan(t *testing.T) {
	sp := &scanSpec{namespace: "test", set: "s", bins: []string{"a", "bc"}, rps: 7, socketTO: 10 * time.Second,
		filterExp: []byte{0x93, 1, 2}}
	parts := []*partState{{id: 5}, {id: 4095}, {id: 9, hasDig: true, digest: [20]byte{9}}}
	b := buildScan(nil, sp, parts, 42)
	h := binary.BigEndian.Uint64(b[:8])
	if b[0] != 2 || b[1] != 3 || int(h&0xFFFFFFFFFFFF) != len(b)-8 {
		t.Fatalf("proto header % x", b[:8])
	}
	m := b[8:]
	if m[0] != 22 || m[1] != info1Read || m[3] != info3PartDone {
		t.Fatalf("msg header % x", m[:22])
	}
	nf, nops := int(binary.BigEndian.Uint16(m[18:])), int(binary.BigEndian.Uint16(m[20:]))
	if nops != 2 {
		t.Fatalf("%d ops", nops)
	}
	fields := map[byte][]byte{}
	p := 22
	for i := 0; i < nf; i++ {
		sz := int(binary.BigEndian.Uint32(m[p:]))
		fields[m[p+4]] = m[p+5 : p+4+sz]
		p += 4 + sz
	}
	if string(fields[fieldNamespace]) != "test" || string(fields[fieldSet]) != "s" {
		t.Error("namespace/set")
	}
	pids := fields[fieldPIDArray]
	if len(pids) != 4 || binary.LittleEndian.Uint16(pids) != 5 || binary.LittleEndian.Uint16(pids[2:]) != 4095 {
		t.Errorf("PID_ARRAY % x", pids)
	}
	if d := fields[fieldDigestArr]; len(d) != 20 || d[0] != 9 {
		t.Errorf("DIGEST_ARRAY % x", d)
	}
	if binary.BigEndian.Uint64(fields[fieldMaxRecords]) != 42 || binary.BigEndian.Uint32(fields[fieldRPS]) != 7 ||
		binary.BigEndian.Uint32(fields[fieldSocketTO]) != 10000 || len(fields[fieldTranID]) != 8 ||
		string(fields[fieldFilterExp]) != "\x93\x01\x02" {
		t.Error("scalar fields")
	}
	// ops: READ a, READ bc
	if m[p+4] != opRead || m[p+7] != 1 || m[p+8] != 'a' {
		t.Errorf("first op % x", m[p:p+9])
	}
	// No bins: NOBINDATA and no ops.
	sp.noBins = true
	b = buildScan(b, sp, parts[:1], 0)
	if b[9]&info1NoBinData == 0 || binary.BigEndian.Uint16(b[8+20:]) != 0 {
		t.Error("no-bins request")
	}
}
