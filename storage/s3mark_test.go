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
	wait, release := w.Mark() // wait would never return if it waited for part 1
	defer release()
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

	ent := roundTripEntry(t, state.FileEntry{Path: path, FilePos: uint64(marked), FileFlags: state.FileS3, S3: up})
	finishResumed(t, s, ent, data)
}

// TestS3UploadLast uploads the last part of files ahead of Close: the
// object is complete after Close; bytes written after the early upload
// void it (the part is uploaded again, with them); the upload state still
// holds the bytes as pending until Close; an early upload that fails
// (store unreachable) is not reported, and Close uploads the part again
// once the store is back.
func TestS3UploadLast(t *testing.T) {
	s := newStore(t, nil)
	b := newBucket(t)
	data := randomBytes(7<<20+99, 12)

	path := "s3://" + b + "/early.asb"
	w := createWith(t, s, path, data).(*s3Writer)
	w.UploadLast()
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if up := w.Upload(); up.PartNumber != 2 || len(up.Parts) != 1 || !bytes.Equal(up.Pending, data[5<<20:]) {
		t.Fatalf("upload state after the early upload: next part %d, %d parts, %d pending bytes", up.PartNumber, len(up.Parts), len(up.Pending))
	}
	// Every upload slot taken: a Close that uploaded the part again would
	// wait for a slot for ever; it only completes the upload.
	for range cap(s.uploads) {
		s.uploads <- struct{}{}
	}
	err := w.Close()
	for range cap(s.uploads) {
		<-s.uploads
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := readObject(t, s, path); !bytes.Equal(got, data) {
		t.Fatalf("object differs (%d bytes, want %d)", len(got), len(data))
	}

	path = "s3://" + b + "/voided.asb"
	w = createWith(t, s, path, data[:6<<20]).(*s3Writer)
	w.UploadLast()
	writeIn(t, w, data[6<<20:])
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readObject(t, s, path); !bytes.Equal(got, data) {
		t.Fatalf("object written on after the early upload differs (%d bytes, want %d)", len(got), len(data))
	}

	g := newGate(t, minio.Addr)
	gs := newStore(t, func(o *S3Options) { o.Endpoint = "http://" + g.ln.Addr().String() })
	var failures int
	gs.SetUploadHooks(&UploadHooks{Failed: func(error) { failures++ }})
	path = "s3://" + b + "/outage.asb"
	w = createWith(t, gs, path, data).(*s3Writer)
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	g.close(true)
	w.UploadLast()
	<-w.early.done
	if w.early.err == nil {
		t.Fatal("the early upload went through a shut gate")
	}
	g.close(false)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if failures != 0 {
		t.Errorf("%d part failures reported for an early upload", failures)
	}
	if got := readObject(t, s, path); !bytes.Equal(got, data) {
		t.Fatalf("object closed after a failed early upload differs (%d bytes, want %d)", len(got), len(data))
	}
}

// TestS3MarkPinsPending: the pending bytes of a mark are the writer's part
// buffer, not a copy; the buffer is not reused while the mark is held,
// even once its part is full and uploaded, and is reused after release.
func TestS3MarkPinsPending(t *testing.T) {
	s := newStore(t, nil)
	b := newBucket(t)
	path := "s3://" + b + "/pin.asb"
	data := randomBytes(15<<20, 12)
	part := 5 << 20

	w, err := s.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	writeIn(t, w, data[:1<<20])
	wait, release := w.Mark()
	up, err := wait()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(up.Pending, data[:1<<20]) {
		t.Fatalf("pending: %d bytes, want the first MiB", len(up.Pending))
	}
	if &up.Pending[0] != &w.(*s3Writer).buf[0] {
		t.Error("pending bytes copied from the part buffer")
	}
	// Part 1 (the pinned buffer) fills and is uploaded; part 2 needs a
	// buffer while part 1's is still pinned.
	writeIn(t, w, data[1<<20:part])
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	writeIn(t, w, data[part:2*part])
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(up.Pending, data[:1<<20]) {
		t.Fatal("pending bytes of the mark overwritten while it was held")
	}
	if live, _ := s.parts.stats(); live != 2 {
		t.Errorf("%d part buffers allocated, want 2 (the pinned one and part 2's)", live)
	}
	release()
	release() // a second release changes nothing
	// Part 3 reuses a released buffer: nothing more is allocated.
	writeIn(t, w, data[2*part:])
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, peak := s.parts.stats(); peak != 2 {
		t.Errorf("%d part buffers at most, want 2", peak)
	}
	got := readObject(t, s, path)
	if !bytes.Equal(got, data) {
		t.Fatalf("object: %d bytes, want the %d written", len(got), len(data))
	}
}
