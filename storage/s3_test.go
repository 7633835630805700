package storage

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"asbtools/internal/miniotest"
	"asbtools/state"
)

var minio *miniotest.Server

func TestMain(m *testing.M) {
	srv, err := miniotest.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the S3 test server:", err)
		os.Exit(1)
	}
	minio = srv
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_REGION", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_EC2_METADATA_DISABLED"} {
		os.Unsetenv(k)
	}
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		if v != "" {
			os.Setenv(k, v)
		}
	}
	code := m.Run()
	srv.Stop()
	os.Exit(code)
}

var bucketSeq struct {
	sync.Mutex
	n int
}

// newBucket creates a fresh bucket.
func newBucket(t *testing.T) string {
	t.Helper()
	bucketSeq.Lock()
	bucketSeq.n++
	name := fmt.Sprintf("st-%d-%d", os.Getpid()%100000, bucketSeq.n)
	bucketSeq.Unlock()
	if err := minio.MakeBucket(name); err != nil {
		t.Fatal(err)
	}
	return name
}

func newStore(t *testing.T, mod func(*S3Options)) *S3Store {
	t.Helper()
	o := S3Options{Endpoint: minio.Endpoint, MaxAsyncUploads: 4, MaxAsyncDownloads: 4}
	if mod != nil {
		mod(&o)
	}
	s, err := NewS3Store(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// writeIn writes data in irregular pieces.
// createWith creates the object path in s and writes data into it (not
// closed).
func createWith(t *testing.T, s *S3Store, path string, data []byte) Sink {
	t.Helper()
	w, err := s.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	writeIn(t, w, data)
	return w
}

func writeIn(t *testing.T, w io.Writer, data []byte) {
	t.Helper()
	for i, step := 0, 1; i < len(data); step = step*7%100003 + 1 {
		n := min(step, len(data)-i)
		if _, err := w.Write(data[i : i+n]); err != nil {
			t.Fatal(err)
		}
		i += n
	}
}

func readObject(t *testing.T, s Store, path string) []byte {
	t.Helper()
	o, err := s.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	b, err := io.ReadAll(o)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) != o.Size() {
		t.Fatalf("read %d bytes of %d", len(b), o.Size())
	}
	return b
}

func TestS3MultipartRoundTrip(t *testing.T) {
	s := newStore(t, nil)
	b := newBucket(t)
	data := randomBytes(13<<20+12345, 1) // 3 parts, the last one short
	path := "s3://" + b + "/dir/test_00000.asb"
	w := createWith(t, s, path, data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readObject(t, s, path); !bytes.Equal(got, data) {
		t.Fatal("sequential read differs")
	}
	o, err := s.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	r := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		off := r.Int64N(int64(len(data)))
		buf := make([]byte, r.IntN(100000)+1)
		n, err := o.ReadAt(buf, off)
		want := data[off:min(off+int64(len(buf)), int64(len(data)))]
		if n != len(want) || !bytes.Equal(buf[:n], want) {
			t.Fatalf("ReadAt(%d, %d): %d bytes, %v", len(buf), off, n, err)
		}
		if n < len(buf) && err != io.EOF {
			t.Fatalf("short ReadAt without EOF: %v", err)
		}
	}
	// A small object written in one part.
	small := "s3://" + b + "/one.asb"
	w, err = s.Create(small)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("Version 3.1\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readObject(t, s, small); string(got) != "Version 3.1\n" {
		t.Fatalf("got %q", got)
	}
}

func TestS3ListInputPaginated(t *testing.T) {
	s := newStore(t, nil)
	b := newBucket(t)
	c := minio.Client()
	const n = 1203
	err := minio.PutObjects(b, n, func(i int) (string, []byte) {
		return fmt.Sprintf("bk/sub%d/f_%05d.asb", i%3, i), []byte("xy")
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"bk/notes.txt", "bk2/x.asb", "bk/.asb", "other.asb"} {
		if _, err := c.PutObject(bg, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(k), Body: strings.NewReader("z")}); err != nil {
			t.Fatal(err)
		}
	}
	files, total, err := s.ListInput("s3://" + b + "/bk")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != n || total != 2*n {
		t.Fatalf("%d files, %d bytes", len(files), total)
	}
	seen := map[string]bool{}
	for _, f := range files {
		if !strings.HasPrefix(f.Path, "s3://"+b+"/bk/sub") || seen[f.Path] {
			t.Fatalf("unexpected %s", f.Path)
		}
		seen[f.Path] = true
	}
	// The same through the router, with a trailing slash.
	r := New(S3Options{Endpoint: minio.Endpoint})
	files2, _, err := r.ListInput("s3://" + b + "/bk/")
	if err != nil || len(files2) != n {
		t.Fatalf("router: %d files, %v", len(files2), err)
	}
}

// checkpoint simulates an in-run checkpoint: Sync, then the state entry.
func checkpoint(t *testing.T, w Sink, path string, pos uint64) *state.FileEntry {
	t.Helper()
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	up := w.Upload()
	if up == nil {
		t.Fatal("no upload state")
	}
	return &state.FileEntry{Path: path, FilePos: pos, FileFlags: state.FileS3, S3: up}
}

func TestS3ResumeAfterCrash(t *testing.T) {
	s := newStore(t, nil)
	b := newBucket(t)
	path := "s3://" + b + "/d/test_00001.asb"
	data := randomBytes(23<<20, 2)
	saved := 11<<20 + 777
	w := createWith(t, s, path, data[:saved])
	ent := checkpoint(t, w, path, uint64(saved))
	if ent.S3.PartNumber != 3 || len(ent.S3.Parts) != 2 || len(ent.S3.Pending) != saved-10<<20 {
		t.Fatalf("upload state: part %d, %d parts, %d pending", ent.S3.PartNumber, len(ent.S3.Parts), len(ent.S3.Pending))
	}
	// Round trip through the state codec, as after a real crash.
	ent = roundTripEntry(t, *ent)
	// The crashed run went on: two more parts uploaded, never recorded.
	writeIn(t, w, randomBytes(12<<20, 9))
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	// Resume and write the rest.
	// A position that does not match is refused.
	bad := *ent
	bad.FilePos++
	if _, err := s.Reopen(&bad); err == nil || !strings.Contains(err.Error(), "did not match file pos") {
		t.Errorf("Reopen with a wrong position: %v", err)
	}
	finishResumed(t, s, ent, data)
}

func TestS3ResumeAfterCompletedUpload(t *testing.T) {
	s := newStore(t, nil)
	b := newBucket(t)
	path := "s3://" + b + "/d/test_00002.asb"
	data := randomBytes(17<<20, 3)
	saved := 6<<20 + 5
	w := createWith(t, s, path, data[:saved])
	ent := checkpoint(t, w, path, uint64(saved))
	// The crashed run rotated the file: more bytes, upload completed.
	writeIn(t, w, randomBytes(3<<20, 4))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	finishResumed(t, s, ent, data)
	// Nothing is left pending in the bucket.
	ups, err := s.listUploads(b, "")
	if err != nil || len(ups) != 0 {
		t.Fatalf("uploads left: %v %v", ups, err)
	}
}

func TestS3AbortLeavesNothing(t *testing.T) {
	s := newStore(t, nil)
	b := newBucket(t)
	path := "s3://" + b + "/d/test_00000.asb"
	w := createWith(t, s, path, randomBytes(6<<20, 5))
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	names, err := s.BackupEntries("s3://" + b + "/d")
	if err != nil || len(names) != 0 {
		t.Fatalf("entries after abort: %v %v", names, err)
	}
}

func TestS3DirectoryChecks(t *testing.T) {
	s := newStore(t, nil)
	b := newBucket(t)
	c := minio.Client()
	put := func(k string) {
		if _, err := c.PutObject(bg, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(k), Body: strings.NewReader("v")}); err != nil {
			t.Fatal(err)
		}
	}
	dir := "s3://" + b + "/bk"
	put("bk/keep.txt")
	put("bk/test.asb.state")
	put("bk2/other_00000.asb")
	if err := s.ClearDirectory(dir, false); err != nil {
		t.Fatalf("other objects must be ignored: %v", err)
	}
	put("bk/old_00000.asb")
	w, err := s.Create(dir + "/old_00001.asb") // an incomplete upload
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("x"))
	want := "S3 directory bk in bucket " + b + " seems to contain an existing backup; use -r to clear the directory"
	if err := s.ClearDirectory(dir, false); err == nil || err.Error() != want {
		t.Fatalf("got %v", err)
	}
	names, err := s.BackupEntries(dir)
	sort.Strings(names)
	if err != nil || strings.Join(names, ",") != "old_00000.asb,old_00001.asb" {
		t.Fatalf("entries %v %v", names, err)
	}
	if err := s.ClearDirectory(dir, true); err != nil {
		t.Fatal(err)
	}
	if names, _ := s.BackupEntries(dir); len(names) != 0 {
		t.Fatalf("left: %v", names)
	}
	var keys []string
	s.listKeys(b, "", func(k string, _ int64) error { keys = append(keys, k); return nil })
	sort.Strings(keys)
	if strings.Join(keys, ",") != "bk/keep.txt,bk/test.asb.state,bk2/other_00000.asb" {
		t.Fatalf("-r touched other objects: %v", keys)
	}
	// -o: an existing object is refused without -r, replaced with it.
	obj := "s3://" + b + "/bk/keep.txt"
	if err := s.PrepareOutputFile(obj, false); err == nil || err.Error() != "S3 object s3:"+b+"/bk/keep.txt exists, pass --remove-files to replace it" {
		t.Fatalf("got %v", err)
	}
	if err := s.PrepareOutputFile("s3://"+b+"/bk/none.asb", false); err != nil {
		t.Fatal(err)
	}
	if err := s.PrepareOutputFile(obj, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(obj); err == nil {
		t.Fatal("-r kept the object")
	}
}

func TestS3BadInput(t *testing.T) {
	if _, err := ParseS3Path("s3://bucket"); err == nil || err.Error() != `Failed to parse S3 path "s3://bucket", bucket name not followed by '/'.` {
		t.Errorf("got %v", err)
	}
	if p, err := ParseS3Path("s3://b//x//y.asb"); err != nil || p.Bucket != "b" || p.Key != "x/y.asb" {
		t.Errorf("got %+v %v", p, err)
	}
	if _, err := NewS3Store(S3Options{}); err != ErrS3NotEnabled {
		t.Errorf("got %v", err)
	}
	s := newStore(t, nil)
	_, _, err := s.ListInput("s3://no-such-bucket/x")
	if err == nil || !strings.Contains(err.Error(), "bucket does not exist") {
		t.Errorf("missing bucket: %v", err)
	}
	if _, err := s.Create("s3://no-such-bucket/x.asb"); err == nil || !strings.Contains(err.Error(), "bucket does not exist") {
		t.Errorf("missing bucket: %v", err)
	}
	b := newBucket(t)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
	bad := newStore(t, nil)
	if err := bad.PrepareOutputFile("s3://"+b+"/x.asb", false); err == nil {
		t.Error("wrong credentials accepted")
	}
	if _, _, err := bad.ListInput("s3://" + b + "/x"); err == nil || !strings.Contains(err.Error(), "signature") {
		t.Errorf("wrong credentials: %v", err)
	}
	down := newStore(t, func(o *S3Options) { o.Endpoint = "127.0.0.1:1" })
	start := time.Now()
	if _, _, err := down.ListInput("s3://" + b + "/x"); err == nil || !strings.Contains(err.Error(), "connect") {
		t.Errorf("unreachable endpoint: %v", err)
	}
	t.Logf("unreachable endpoint reported after %v", time.Since(start))
}

func TestS3ReadSurvivesServerRestart(t *testing.T) {
	s := newStore(t, nil)
	b := newBucket(t)
	path := "s3://" + b + "/r.asb"
	data := randomBytes(40<<20, 6)
	w := createWith(t, s, path, data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	o, err := s.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	head := make([]byte, 1<<20)
	if _, err := io.ReadFull(o, head); err != nil {
		t.Fatal(err)
	}
	if err := minio.Restart(500 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(o)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(head, rest...), data) {
		t.Fatal("data differs after the restart")
	}
}

// roundTripEntry saves a file entry in a state and loads it back through
// the state codec, as a run that crashed and resumes would.
func roundTripEntry(t *testing.T, ent state.FileEntry) *state.FileEntry {
	t.Helper()
	var st state.State
	st.Files = []state.FileEntry{ent}
	var buf bytes.Buffer
	if _, err := st.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	loaded, err := state.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return &loaded.Files[0]
}

// finishResumed reopens the saved file of ent, writes the rest of data
// from its position, closes it and checks that the object is data.
func finishResumed(t *testing.T, s *S3Store, ent *state.FileEntry, data []byte) {
	t.Helper()
	w, err := s.Reopen(ent)
	if err != nil {
		t.Fatal(err)
	}
	writeIn(t, w, data[ent.FilePos:])
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readObject(t, s, ent.Path); !bytes.Equal(got, data) {
		t.Fatalf("resumed object differs (%d bytes, want %d)", len(got), len(data))
	}
}
