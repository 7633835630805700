package storage

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"

	"asbtools/state"
)

// valve is a TCP proxy to the test server whose upstream direction can be
// held: while held, requests (and part bodies) stop on the way to the
// server, as on a slow store, until it is opened again.
type valve struct {
	ln   net.Listener
	hold sync.RWMutex
}

func newValve(t *testing.T, target string) *valve {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	v := &valve{ln: ln}
	var conns []net.Conn
	var mu sync.Mutex
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, up)
			mu.Unlock()
			go func() {
				buf := make([]byte, 32<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						v.hold.RLock()
						_, werr := up.Write(buf[:n])
						v.hold.RUnlock()
						if werr != nil {
							break
						}
					}
					if err != nil {
						break
					}
				}
				up.Close()
			}()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	return v
}

// TestS3MarkWhileUploading takes a checkpoint mark while the part handed
// out before it cannot reach the store: Mark returns at once (a
// checkpoint pauses the writers only for it), the writer goes on and
// hands out another part, and once the store answers the mark's wait
// returns the upload state as of the mark (the first part, the bytes
// pending then), not what was written after it. A run that crashed then
// resumes from that state with every byte once: the part the crashed
// writer uploaded after the mark is replaced.
func TestS3MarkWhileUploading(t *testing.T) {
	v := newValve(t, minio.Addr)
	s := newStore(t, func(o *S3Options) { o.Endpoint = "http://" + v.ln.Addr().String() })
	b := newBucket(t)
	path := "s3://" + b + "/mark.asb"
	data := randomBytes(17<<20+123, 11)
	marked := 5<<20 + 777

	w, err := s.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	v.hold.Lock() // part 1 stays in flight
	writeIn(t, w, data[:marked])
	wait := w.Mark() // would never return if it waited for part 1
	writeIn(t, w, data[marked:11<<20])
	v.hold.Unlock()
	up, err := wait()
	if err != nil {
		t.Fatal(err)
	}
	if up.PartNumber != 2 || len(up.Parts) != 1 || up.Parts[0].PartNumber != 1 || len(up.Failed) != 0 ||
		!bytes.Equal(up.Pending, data[5<<20:marked]) {
		t.Fatalf("upload state: next part %d, parts %v, %d failed, %d pending bytes; want part 1 done and 777 pending",
			up.PartNumber, up.Parts, len(up.Failed), len(up.Pending))
	}
	// The crashed writer's part 2 (bytes after the mark) reaches the store.
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}

	var st state.State
	st.Files = []state.FileEntry{{Path: path, FilePos: uint64(marked), FileFlags: state.FileS3, S3: up}}
	var buf bytes.Buffer
	if _, err := st.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	loaded, err := state.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	w2, err := s.Reopen(&loaded.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	writeIn(t, w2, data[marked:])
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readObject(t, s, path); !bytes.Equal(got, data) {
		t.Fatalf("resumed object differs (%d bytes, want %d)", len(got), len(data))
	}
}
