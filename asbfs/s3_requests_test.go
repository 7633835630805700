package asbfs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"asbtools/asb"
	"asbtools/stream"
)

// s3Counter is a proxy in front of the S3 test server that counts the
// object reads passing through it and the bytes they ask for.
type s3Counter struct {
	mu    sync.Mutex
	gets  int
	bytes int64
	whole int // GETs without a Range header
	heads int // HEAD requests (object sizes)
}

func (c *s3Counter) reset() (gets int, bytes int64, whole int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	gets, bytes, whole = c.gets, c.bytes, c.whole
	c.gets, c.bytes, c.whole, c.heads = 0, 0, 0, 0
	return
}

// headCount returns the HEAD requests since the last reset.
func (c *s3Counter) headCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.heads
}

// countingProxy starts the proxy; the client signs requests for the
// proxy's address, which the proxy passes on unchanged as the Host header.
func countingProxy(t *testing.T, target string) (*s3Counter, string) {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	c := &s3Counter{}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			c.mu.Lock()
			c.heads++
			c.mu.Unlock()
		}
		if r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "" && !r.URL.Query().Has("uploads") {
			c.mu.Lock()
			c.gets++
			var lo, hi int64
			if rg := r.Header.Get("Range"); rg == "" {
				c.whole++
			} else if _, err := fmt.Sscanf(strings.TrimPrefix(rg, "bytes="), "%d-%d", &lo, &hi); err == nil {
				c.bytes += hi - lo + 1
			}
			c.mu.Unlock()
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return c, srv.URL
}

// requestsBackup returns a backup file of n records of about 300 bytes in
// set "users", named by their user keys.
func requestsBackup(t *testing.T, n int) []byte { return requestsBackupFrom(t, 0, n) }

// requestsBackupFrom is requestsBackup for the records first to first+n-1.
func requestsBackupFrom(t *testing.T, first, n int) []byte {
	var text bytes.Buffer
	w := asb.NewWriter(&text)
	if err := w.WriteHeader(&asb.Header{Meta: []asb.Meta{asb.NamespaceMeta("test"), asb.FirstFileMeta()}}); err != nil {
		t.Fatal(err)
	}
	for i := first; i < first+n; i++ {
		d := sha256.Sum256([]byte(strconv.Itoa(i)))
		var dg [20]byte
		copy(dg[:], d[:])
		r := asb.Record{Key: asb.Key{Type: asb.KeyString, Bytes: []byte(fmt.Sprintf("user-%05d", i))}, Namespace: []byte("test"),
			Set: []byte("users"), HasSet: true, Generation: 1, Digest: dg,
			Bins: []asb.Bin{{Name: []byte("n"), Type: asb.BinString, Bytes: bytes.Repeat([]byte{'a' + byte(i%26)}, 250+i%50)}}}
		if err := w.WriteRecord(&r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return text.Bytes()
}

// TestS3RecordReads counts the S3 requests of a mounted S3 backup (plain
// and AES-encrypted): after indexing, `ls -l` of a set reads nothing,
// reading one record fetches a small range (not the object), reading it
// again or reading its neighbours reuses what was fetched, and reading
// every record of the set one file after the other (`cat set/*`) costs a
// few block reads, not one request per record.
func TestS3RecordReads(t *testing.T) {
	needFUSE(t)
	srv := s3Server(t)
	const bucket = "asbfs-requests"
	if err := srv.MakeBucket(bucket); err != nil {
		t.Fatal(err)
	}
	const records = 4000
	text := requestsBackup(t, records)
	keyPEM := filepath.Join(goldenDir, "05-kitchen-aes128-keyfile", "key.pem")
	pem, err := os.ReadFile(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		data []byte
		args []string
	}{
		{"plain", text, nil},
		{"aes128", encryptWithPEM(t, text, pem), []string{"-y", "aes128", "--encryption-key-file", keyPEM}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := srv.Client().PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket),
				Key: aws.String(c.name + ".asb"), Body: bytes.NewReader(c.data)})
			if err != nil {
				t.Fatal(err)
			}
			size := int64(len(c.data))
			counter, proxy := countingProxy(t, srv.Endpoint)
			args := append(append([]string{"--no-config-file", "--s3-endpoint-override", proxy}, c.args...), "s3://"+bucket+"/"+c.name+".asb")
			mnt := mount(t, srv.Env(), args...)
			gets, got, whole := counter.reset()
			t.Logf("indexing: %d GETs, %d bytes (object %d bytes), %d without range", gets, got, size, whole)
			if whole != 0 {
				t.Errorf("%d GETs of the whole object", whole)
			}
			setDir := filepath.Join(mnt, "test", "users")

			ents, err := os.ReadDir(setDir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ents {
				if _, err := e.Info(); err != nil {
					t.Fatal(err)
				}
			}
			if len(ents) != records {
				t.Fatalf("%d records listed, want %d", len(ents), records)
			}
			gets, got, _ = counter.reset()
			t.Logf("ls -l: %d GETs, %d bytes", gets, got)
			if gets != 0 {
				t.Errorf("ls -l of the set made %d GETs", gets)
			}

			one := filepath.Join(setDir, ents[records/2].Name())
			data, err := os.ReadFile(one)
			if err != nil || !bytes.Contains(data, []byte(`"n"`)) {
				t.Fatalf("reading %s: %v\n%s", one, err, data)
			}
			gets, got, _ = counter.reset()
			t.Logf("cat of one record: %d GETs, %d bytes", gets, got)
			if gets == 0 || gets > 2 || got > 512<<10 || got >= size/2 {
				t.Errorf("cat of one record: %d GETs of %d bytes in total, want at most two reads of at most 512 KiB", gets, got)
			}
			for range 3 {
				if _, err := os.ReadFile(one); err != nil {
					t.Fatal(err)
				}
				if _, err := os.ReadFile(filepath.Join(mnt, "%raw", "test", "users", ents[records/2].Name())); err != nil {
					t.Fatal(err)
				}
			}
			if gets, _, _ = counter.reset(); gets != 0 {
				t.Errorf("reading the same record again (JSON and raw views) made %d GETs", gets)
			}

			var all []byte
			for _, e := range ents {
				b, err := os.ReadFile(filepath.Join(setDir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, b...)
			}
			gets, got, _ = counter.reset()
			t.Logf("cat of every record (%d): %d GETs, %d bytes", records, gets, got)
			if limit := int(size/(256<<10)) + 8; gets > limit {
				t.Errorf("reading the %d records one by one made %d GETs, want at most %d", records, gets, limit)
			}
			if got > 3*size {
				t.Errorf("reading the %d records one by one fetched %d bytes of a %d-byte object", records, got, size)
			}
			if bytes.Count(all, []byte(`"n"`)) != records {
				t.Errorf("the records read do not all have their bin")
			}
		})
	}
}

// TestS3MountHeads counts the HEAD requests of mounting S3 backups: a
// directory of several objects is indexed with the sizes its listing gave
// (no HEAD per object, as asrestore -d), a single object costs one HEAD
// (its size), and both show every record.
func TestS3MountHeads(t *testing.T) {
	needFUSE(t)
	srv := s3Server(t)
	const bucket = "asbfs-heads"
	if err := srv.MakeBucket(bucket); err != nil {
		t.Fatal(err)
	}
	const files, perFile = 6, 300
	for i := range files {
		text := requestsBackupFrom(t, i*perFile, perFile)
		_, err := srv.Client().PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket),
			Key: aws.String(fmt.Sprintf("dir/part_%d.asb", i)), Body: bytes.NewReader(text)})
		if err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name, path string
		heads      int
		records    int
	}{
		{"directory", "s3://" + bucket + "/dir", 0, files * perFile},
		{"object", "s3://" + bucket + "/dir/part_0.asb", 1, perFile},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			counter, proxy := countingProxy(t, srv.Endpoint)
			mnt := mount(t, srv.Env(), "--no-config-file", "--s3-endpoint-override", proxy, c.path)
			if heads := counter.headCount(); heads != c.heads {
				t.Errorf("mounting %s sent %d HEAD requests, want %d", c.path, heads, c.heads)
			}
			ents, err := os.ReadDir(filepath.Join(mnt, "test", "users"))
			if err != nil {
				t.Fatal(err)
			}
			if len(ents) != c.records {
				t.Errorf("%d records listed, want %d", len(ents), c.records)
			}
		})
	}
}

// encryptWithPEM encrypts text as asbackup -y aes128 --encryption-key-file
// does.
func encryptWithPEM(t *testing.T, text, pemData []byte) []byte {
	t.Helper()
	material, err := stream.KeyMaterialFromPEM(pemData)
	if err != nil {
		t.Fatal(err)
	}
	key := stream.DeriveKey(material, stream.AES128)
	var out bytes.Buffer
	w, err := stream.NewWriter(&out, stream.Options{Cipher: stream.AES128, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(text); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
