package storage

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"testing"

	"asbtools/state"
)

// gate is a TCP proxy to the test server that can be shut: connections
// are then refused (and those open are cut), as when the store goes away.
type gate struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	shut   bool
	conns  []net.Conn
}

func newGate(t *testing.T, target string) *gate {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); g.close(true) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			g.mu.Lock()
			if g.shut {
				g.mu.Unlock()
				c.Close()
				continue
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				g.mu.Unlock()
				c.Close()
				continue
			}
			g.conns = append(g.conns, c, up)
			g.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	return g
}

// close shuts the gate (shut) or opens it again.
func (g *gate) close(shut bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.shut = shut
	if shut {
		for _, c := range g.conns {
			c.Close()
		}
		g.conns = nil
	}
}

// TestS3FailedPartsResumable makes the store unreachable while parts are
// uploaded, longer than the retries: the failed parts are reported to the
// hook, their bytes kept in the upload state (the writer goes on), Close
// fails with ErrUploadIncomplete and leaves the upload open. Reopened from
// that state once the store is back, the failed parts are uploaded again
// and the object holds every byte once: a failed middle part, and a failed
// last part (a file closed during the outage) to which more bytes are
// appended.
func TestS3FailedPartsResumable(t *testing.T) {
	direct := newStore(t, nil)
	g := newGate(t, minio.Addr)
	s := newStore(t, func(o *S3Options) { o.Endpoint = "http://" + g.ln.Addr().String() })
	var mu sync.Mutex
	var failures []error
	s.SetUploadHooks(&UploadHooks{Failed: func(err error) {
		mu.Lock()
		failures = append(failures, err)
		mu.Unlock()
	}})
	b := newBucket(t)

	// A middle part fails; the writer goes on.
	path := "s3://" + b + "/mid.asb"
	data := randomBytes(18<<20, 11)
	w := createWith(t, s, path, data[:6<<20])
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	g.close(true)
	writeIn(t, w, data[6<<20:12<<20])
	if err := w.Sync(); err != nil {
		t.Fatalf("Sync after a failed part: %v", err)
	}
	mu.Lock()
	if len(failures) != 1 || S3ErrorText(failures[0]) == "" {
		t.Fatalf("failures reported: %v", failures)
	}
	mu.Unlock()
	up := w.Upload()
	if up.PartNumber != 3 || len(up.Parts) != 1 || len(up.Failed) != 1 || up.Failed[0].PartNumber != 2 ||
		!bytes.Equal(up.Failed[0].Data, data[5<<20:10<<20]) || !bytes.Equal(up.Pending, data[10<<20:12<<20]) {
		t.Fatalf("upload state: next part %d, parts %v, %d failed, %d pending", up.PartNumber, up.Parts, len(up.Failed), len(up.Pending))
	}
	ent := roundTripEntry(t, state.FileEntry{Path: path, FilePos: 12 << 20, FileFlags: state.FileS3, S3: up})
	if err := w.Detach(); err != nil {
		t.Fatal(err)
	}
	g.close(false)
	finishResumed(t, direct, ent, data)

	// The last part fails when the file is closed: the upload stays open,
	// Close can be called again, more bytes can follow the failed part.
	path = "s3://" + b + "/last.asb"
	data = randomBytes(14<<20, 12)
	w = createWith(t, s, path, data[:7<<20])
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	g.close(true)
	err := w.Close()
	if !errors.Is(err, ErrUploadIncomplete) {
		t.Fatalf("Close with a failed part: %v, want ErrUploadIncomplete", err)
	}
	if err := w.Close(); !errors.Is(err, ErrUploadIncomplete) {
		t.Fatalf("second Close: %v", err)
	}
	up = w.Upload()
	if up.PartNumber != 3 || len(up.Failed) != 1 || up.Failed[0].PartNumber != 2 || len(up.Pending) != 0 ||
		!bytes.Equal(up.Failed[0].Data, data[5<<20:7<<20]) {
		t.Fatalf("upload state: next part %d, %d failed, %d pending", up.PartNumber, len(up.Failed), len(up.Pending))
	}
	ent = roundTripEntry(t, state.FileEntry{Path: path, FilePos: 7 << 20, FileFlags: state.FileS3, S3: up})
	if err := w.Detach(); err != nil {
		t.Fatal(err)
	}
	g.close(false)
	if has, err := direct.HasEntry(path); err != nil || !has {
		t.Fatalf("HasEntry of the open upload: %v %v", has, err)
	}
	finishResumed(t, direct, ent, data)
	for _, k := range []string{"mid.asb", "last.asb"} {
		if ups, err := direct.listUploadsWith(b, k); err != nil || len(ups) != 0 {
			t.Errorf("%s: uploads left: %v %v", k, ups, err)
		}
	}
	if has, err := direct.HasEntry("s3://" + b + "/none.asb"); err != nil || has {
		t.Errorf("HasEntry of a missing key: %v %v", has, err)
	}
}
