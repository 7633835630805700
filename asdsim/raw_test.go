package asdsim

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// rawRequest sends one proto and returns the reader for the reply.
func rawDial(addr string) (net.Conn, *bufio.Reader, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, nil, err
	}
	return c, bufio.NewReaderSize(c, 1<<20), nil
}

// rawScanRequest builds a whole-namespace partition scan request.
func rawScanRequest(ns, set string) []byte {
	buf := appendProtoHeader(nil, protoMsg)
	buf = appendMsgHeader(buf, info1Read, info3PartitionDone, 0, 0, 0, 0, 3, 0)
	buf = appendFieldStr(buf, fieldNamespace, ns)
	buf = appendFieldStr(buf, fieldSet, set)
	pids := make([]byte, 0, 2*Partitions)
	for p := 0; p < Partitions; p++ {
		pids = binary.LittleEndian.AppendUint16(pids, uint16(p))
	}
	buf = appendField(buf, fieldPIDArray, pids)
	finishProto(buf, 0)
	return buf
}

// readProto reads one proto message.
func readProto(r *bufio.Reader) (byte, []byte, error) {
	return readProtoInto(r, nil)
}

// readProtoInto reads one proto message reusing buf.
func readProtoInto(r *bufio.Reader, buf []byte) (byte, []byte, error) {
	var h [8]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint64(h[:]) & 0xFFFFFFFFFFFF
	if uint64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	body := buf[:n]
	_, err := io.ReadFull(r, body)
	return h[1], body, err
}

// rawScanCount scans a namespace/set over a raw connection and counts the
// records, checking the framing: every sub-message is well formed and the
// LAST header is the final 22 bytes of the final proto.
func rawScanCount(addr, ns, set string) (int, error) {
	c, r, err := rawDial(addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if _, err := c.Write(rawScanRequest(ns, set)); err != nil {
		return 0, err
	}
	n := 0
	var buf []byte
	for {
		typ, body, err := readProtoInto(r, buf)
		buf = body
		if err != nil {
			return n, err
		}
		if typ != protoMsg {
			return n, fmt.Errorf("proto type %d", typ)
		}
		pos := 0
		for pos < len(body) {
			if len(body)-pos < msgHeaderSize || body[pos] != msgHeaderSize {
				return n, fmt.Errorf("bad sub-message header at %d", pos)
			}
			h := body[pos : pos+msgHeaderSize]
			nf := int(binary.BigEndian.Uint16(h[18:]))
			no := int(binary.BigEndian.Uint16(h[20:]))
			pos += msgHeaderSize
			digest := false
			for i := 0; i < nf+no; i++ {
				if len(body)-pos < 5 {
					return n, fmt.Errorf("truncated field/op")
				}
				sz := int(binary.BigEndian.Uint32(body[pos:]))
				if i < nf && body[pos+4] == fieldDigest && sz == 21 {
					digest = true
				}
				pos += 4 + sz
				if pos > len(body) {
					return n, fmt.Errorf("field/op overruns the proto")
				}
			}
			if h[3]&info3Last != 0 {
				if pos != len(body) {
					return n, fmt.Errorf("%d bytes after LAST", len(body)-pos)
				}
				if h[5] != 0 {
					return n, fmt.Errorf("scan result %d", h[5])
				}
				return n, nil
			}
			if h[3]&info3PartitionDone != 0 {
				continue
			}
			if !digest {
				return n, fmt.Errorf("record without digest")
			}
			n++
		}
	}
}

func TestRawFraming(t *testing.T) {
	s := startServer(t, Config{})
	seedSynthetic(t, s, 5000, 200)
	n, err := rawScanCount(s.Addr(), "test", "bench")
	if err != nil || n != 5000 {
		t.Fatalf("raw scan: %d %v", n, err)
	}
	c, r, err := rawDial(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Info: trailing fragment without newline is ignored; echo is exact.
	req := appendProtoHeader(nil, protoInfo)
	req = append(req, "build\nsindex-list:ns=test;b64=true\nnamespaces"...)
	finishProto(req, 0)
	c.Write(req)
	typ, body, err := readProto(r)
	if err != nil || typ != protoInfo || string(body) != "build\t8.1.2.0\nsindex-list:ns=test;b64=true\t\n" {
		t.Fatalf("info: %d %q %v", typ, body, err)
	}
	// A write with an unknown namespace gets a bare 22-byte error.
	w := appendProtoHeader(nil, protoMsg)
	w = appendMsgHeader(w, 0, 0, 0, 0, 0, 0, 2, 0)
	w = appendFieldStr(w, fieldNamespace, "nope")
	w = appendField(w, fieldDigest, make([]byte, 20))
	finishProto(w, 0)
	c.Write(w)
	typ, body, err = readProto(r)
	if err != nil || typ != protoMsg || len(body) != 22 || body[5] != byte(ResultInvalidNamespace) {
		t.Fatalf("error reply: %d % x %v", typ, body, err)
	}
	// A scan without the partition-done bit is refused.
	sc := rawScanRequest("test", "")
	sc[8+3] = 0
	c.Write(sc)
	_, body, err = readProto(r)
	if err != nil || len(body) != 22 || body[5] != byte(ResultUnsupportedFeature) {
		t.Fatalf("scan without partition-done: % x %v", body, err)
	}
	// A scan with duplicate partitions is a parameter error.
	dup := appendProtoHeader(nil, protoMsg)
	dup = appendMsgHeader(dup, info1Read, info3PartitionDone, 0, 0, 0, 0, 3, 0)
	dup = appendFieldStr(dup, fieldNamespace, "test")
	dup = appendFieldStr(dup, fieldSet, "")
	dup = appendField(dup, fieldPIDArray, []byte{1, 0, 1, 0})
	finishProto(dup, 0)
	c.Write(dup)
	_, body, err = readProto(r)
	if err != nil || len(body) != 22 || body[5] != byte(ResultParameterError) {
		t.Fatalf("duplicate partitions: % x %v", body, err)
	}
}
