package asdsim

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// conn is the per-connection state.
type conn struct {
	n        *Node
	c        net.Conn
	authed   bool
	user     string
	compress bool // the current request accepts compressed responses
	out      []byte
	zbuf     bytes.Buffer
	zw       *zlib.Writer
}

func (n *Node) serve(c net.Conn) {
	defer n.srv.wg.Done()
	defer n.forget(c)
	cs := &conn{n: n, c: c, authed: len(n.srv.cfg.Users) == 0}
	br := bufio.NewReaderSize(c, 64<<10)
	var hdr [8]byte
	body := make([]byte, 0, 64<<10)
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return
		}
		size := uint64(hdr[2])<<40 | uint64(hdr[3])<<32 | uint64(binary.BigEndian.Uint32(hdr[4:]))
		if hdr[0] != protoVersion || size > maxProtoSize {
			n.srv.cfg.Logf("asdsim: %s: bad proto header % x", c.RemoteAddr(), hdr)
			return
		}
		if uint64(cap(body)) < size {
			body = make([]byte, size)
		}
		body = body[:size]
		if _, err := io.ReadFull(br, body); err != nil {
			return
		}
		if err := cs.handle(hdr[1], body); err != nil {
			if !errors.Is(err, errDrop) && !n.srv.closed.Load() {
				n.srv.cfg.Logf("asdsim: %s: %v", c.RemoteAddr(), err)
			}
			return
		}
		// Do not keep huge buffers around for the life of the connection.
		if cap(body) > 8<<20 {
			body = make([]byte, 0, 64<<10)
		}
		if cap(cs.out) > 8<<20 {
			cs.out = nil
		}
	}
}

// errDrop asks the connection loop to close the connection silently.
var errDrop = errors.New("connection dropped")

func (cs *conn) handle(typ byte, body []byte) error {
	cs.compress = false
	switch typ {
	case protoInfo:
		cs.n.stats.info.Add(1)
		return cs.handleInfo(body)
	case protoAdmin:
		cs.n.stats.admin.Add(1)
		return cs.handleAdmin(body)
	case protoMsg:
		return cs.handleMsg(body)
	case protoCompressed:
		inner, err := inflate(body)
		if err != nil {
			return err
		}
		if len(inner) < 8 || inner[1] != protoMsg {
			return fmt.Errorf("compressed proto does not hold an as_msg")
		}
		return cs.handleMsg(inner[8:])
	default:
		return fmt.Errorf("unsupported proto type %d", typ)
	}
}

// inflate decodes a type-4 body: u64 uncompressed size, then a zlib stream.
func inflate(body []byte) ([]byte, error) {
	if len(body) < 8 {
		return nil, fmt.Errorf("compressed proto too short")
	}
	want := binary.BigEndian.Uint64(body)
	if want > maxProtoSize+8 {
		return nil, fmt.Errorf("compressed proto too large (%d)", want)
	}
	zr, err := zlib.NewReader(bytes.NewReader(body[8:]))
	if err != nil {
		return nil, fmt.Errorf("compressed proto: %w", err)
	}
	out := make([]byte, want)
	if _, err := io.ReadFull(zr, out); err != nil {
		return nil, fmt.Errorf("compressed proto: %w", err)
	}
	return out, nil
}

// send writes one or more complete protos. When the request asked for
// compressed responses each proto is wrapped in its own type-4 message.
func (cs *conn) send(b []byte) error {
	if d := cs.delay(); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-cs.n.srv.done:
			t.Stop()
			return errDrop
		}
	}
	if cs.compress {
		return cs.sendCompressed(b)
	}
	_, err := cs.c.Write(b)
	return err
}

func (cs *conn) sendCompressed(b []byte) error {
	for len(b) >= 8 {
		n := 8 + int(uint64(b[2])<<40|uint64(b[3])<<32|uint64(binary.BigEndian.Uint32(b[4:])))
		if cs.zw == nil {
			cs.zw = zlib.NewWriter(&cs.zbuf)
		}
		cs.zbuf.Reset()
		cs.zbuf.Write(make([]byte, 16))
		cs.zw.Reset(&cs.zbuf)
		if _, err := cs.zw.Write(b[:n]); err != nil {
			return err
		}
		if err := cs.zw.Close(); err != nil {
			return err
		}
		out := cs.zbuf.Bytes()
		out[0], out[1] = protoVersion, protoCompressed
		plen := uint64(len(out) - 8)
		binary.BigEndian.PutUint16(out[2:], uint16(plen>>32))
		binary.BigEndian.PutUint32(out[4:], uint32(plen))
		binary.BigEndian.PutUint64(out[8:], uint64(n))
		if _, err := cs.c.Write(out); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// delay returns the configured reply delay for this node.
func (cs *conn) delay() time.Duration {
	d := cs.n.srv.faults.replyDelay()
	if d2 := cs.n.faults.replyDelay(); d2 > d {
		d = d2
	}
	return d
}
