package storage

import (
	"bytes"
	"io"
	"sync"
	"testing"
)

// TestS3BufferBounds checks the documented memory bounds of S3 transfers:
// an upload holds at most one part being filled per open object plus
// --s3-max-async-uploads parts in flight; a reader holds at most
// maxReadAhead chunks, and --s3-max-async-downloads shared among the
// objects being read. Buffers are recycled: the bytes moved are many
// times the buffers allocated.
func TestS3BufferBounds(t *testing.T) {
	b := newBucket(t)
	s := newStore(t, func(o *S3Options) { o.MaxAsyncUploads = 2; o.MaxAsyncDownloads = 32 })
	data := randomBytes(31<<20+777, 9) // 7 parts of 5 MiB
	paths := []string{"s3://" + b + "/dir/a.asb", "s3://" + b + "/dir/b.asb"}
	var wg sync.WaitGroup
	for _, p := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, err := s.Create(p)
			if err != nil {
				t.Error(err)
				return
			}
			writeIn(t, w, data)
			if err := w.Close(); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if _, peak := s.parts.stats(); peak > 2+len(paths) {
		t.Errorf("uploads used %d part buffers at once, bound %d", peak, 2+len(paths))
	}
	if live, _ := s.parts.stats(); live > 2+len(paths) {
		t.Errorf("%d part buffers kept after the uploads", live)
	}

	// One reader: at most maxReadAhead chunks, whatever the download limit.
	files, _, err := s.ListInput("s3://" + b + "/dir")
	if err != nil || len(files) != 2 {
		t.Fatalf("listing: %v %v", files, err)
	}
	o, err := s.OpenListed(files[0])
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(o)
	o.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes (%v), want the %d written", len(got), err, len(data))
	}
	if _, peak := s.chunks.stats(); peak > maxReadAhead {
		t.Errorf("one reader used %d chunk buffers, bound %d", peak, maxReadAhead)
	}

	// Readers sharing the downloads: N / readers chunks each, at least one.
	for _, c := range []struct{ downloads, readers, bound int }{{2, 3, 3}, {4, 2, 4}} {
		s2 := newStore(t, func(o *S3Options) { o.MaxAsyncDownloads = c.downloads })
		objs := make([]Object, c.readers)
		for i := range objs {
			if objs[i], err = s2.OpenListed(files[i%len(files)]); err != nil {
				t.Fatal(err)
			}
			// Every reader counts before the first one fills its read-ahead.
			objs[i].(*s3Object).reading = true
			s2.readers.Add(1)
		}
		for _, o := range objs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer o.Close()
				got, err := io.ReadAll(o)
				if err != nil || !bytes.Equal(got, data) {
					t.Errorf("read %d bytes (%v), want the %d written", len(got), err, len(data))
				}
			}()
		}
		wg.Wait()
		if _, peak := s2.chunks.stats(); peak > c.bound {
			t.Errorf("%d readers with %d downloads used %d chunk buffers, bound %d", c.readers, c.downloads, peak, c.bound)
		}
		if h := s2.held.Load(); h != 0 {
			t.Errorf("%d chunks still held after Close", h)
		}
	}
}
