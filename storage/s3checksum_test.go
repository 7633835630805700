package storage

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// flipReader passes a body on with one byte changed.
type flipReader struct {
	r   io.ReadCloser
	at  int64
	pos int64
}

func (f *flipReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if f.at >= f.pos && f.at < f.pos+int64(n) {
		p[f.at-f.pos] ^= 0x20
	}
	f.pos += int64(n)
	return n, err
}

func (f *flipReader) Close() error { return f.r.Close() }

// partProxy is a proxy in front of the S3 test server that records the
// headers of the part uploads and, when corrupt is set, changes one byte of
// every part on its way, as a faulty link or middlebox would over plain
// HTTP (the signature does not cover an UNSIGNED-PAYLOAD body).
type partProxy struct {
	corrupt atomic.Bool
	mu      sync.Mutex
	headers []http.Header
}

func newPartProxy(t *testing.T) (*partProxy, string) {
	u, err := url.Parse(minio.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	p := &partProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && r.URL.Query().Has("partNumber") {
			p.mu.Lock()
			p.headers = append(p.headers, r.Header.Clone())
			p.mu.Unlock()
			if p.corrupt.Load() {
				r.Body = &flipReader{r: r.Body, at: r.ContentLength / 2}
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return p, srv.URL
}

// TestS3PartChecksums uploads parts through a proxy that corrupts them in
// transit: with PartChecksums the store refuses every corrupted part and
// the upload fails, leaving no object; without, the corrupted object is
// stored (what the checksum guards against). Parts carry the checksum as
// a plain x-amz-checksum-crc32c header, not in an aws-chunked trailer.
func TestS3PartChecksums(t *testing.T) {
	b := newBucket(t)
	data := randomBytes(2*S3MinPartSize+12345, 9)
	for _, c := range []struct {
		name, mode        string
		checksums, faulty bool
	}{
		{"checksums", "", true, false},
		{"checksums-corrupted", "", true, true},
		{"forced-corrupted", "crc32c", true, true},
		{"none-corrupted", "none", false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			proxy, endpoint := newPartProxy(t)
			proxy.corrupt.Store(c.faulty)
			s := newStore(t, func(o *S3Options) {
				o.Endpoint = endpoint
				o.PartChecksums = c.mode
			})
			key := c.name + ".asb"
			sk, err := s.Create("s3://" + b + "/" + key)
			if err != nil {
				t.Fatal(err)
			}
			writeIn(t, sk, data)
			err = sk.Close()
			for _, h := range proxy.headers {
				if ce := h.Get("Content-Encoding"); ce != "" {
					t.Errorf("part sent with Content-Encoding %q", ce)
				}
				if h.Get("X-Amz-Content-Sha256") != "UNSIGNED-PAYLOAD" {
					t.Errorf("part sent with x-amz-content-sha256 %q", h.Get("X-Amz-Content-Sha256"))
				}
				if got := h.Get("X-Amz-Checksum-Crc32c") != ""; got != c.checksums {
					t.Errorf("x-amz-checksum-crc32c sent: %v, want %v", got, c.checksums)
				}
			}
			if len(proxy.headers) < 3 {
				t.Fatalf("%d part uploads seen, want at least 3", len(proxy.headers))
			}
			obj, gerr := s.Client().GetObject(bg, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
			var stored []byte
			if gerr == nil {
				stored, gerr = io.ReadAll(obj.Body)
				_ = obj.Body.Close()
			}
			switch {
			case c.checksums && c.faulty:
				if err == nil || gerr == nil {
					t.Fatalf("corrupted parts with checksums: close %v, object read %v; want the upload to fail and no object", err, gerr)
				}
				t.Logf("refused: %v", err)
			case c.faulty:
				if err != nil || gerr != nil || bytes.Equal(stored, data) || len(stored) != len(data) {
					t.Fatalf("corrupted parts without checksums: close %v, read %v, %d bytes, equal %v; want a corrupted object stored",
						err, gerr, len(stored), bytes.Equal(stored, data))
				}
			default:
				if err != nil || gerr != nil || !bytes.Equal(stored, data) {
					t.Fatalf("parts with checksums: close %v, read %v, equal %v", err, gerr, bytes.Equal(stored, data))
				}
			}
		})
	}
}

// TestS3PartChecksumModes checks when parts carry their CRC-32C: by
// default only to plain http:// endpoints (a bare host:port is one), where
// nothing else checks a part signed with UNSIGNED-PAYLOAD; "crc32c" always,
// "none" never; another value is refused.
func TestS3PartChecksumModes(t *testing.T) {
	for _, c := range []struct {
		endpoint, mode string
		want           bool
	}{
		{"http://127.0.0.1:9000", "", true},
		{"127.0.0.1:9000", "", true},
		{"HTTP://minio:9000", "", true},
		{"https://minio:9000", "", false},
		{"https://minio:9000", "crc32c", true},
		{"http://minio:9000", "none", false},
	} {
		s, err := NewS3Store(S3Options{Endpoint: c.endpoint, PartChecksums: c.mode})
		if err != nil {
			t.Fatal(err)
		}
		if s.partCRC != c.want {
			t.Errorf("endpoint %s, mode %q: part checksums %v, want %v", c.endpoint, c.mode, s.partCRC, c.want)
		}
	}
	s, err := NewS3Store(S3Options{Region: "eu-west-1", PartChecksums: ""})
	if err != nil || s.partCRC {
		t.Errorf("AWS (https) by default: part checksums %v, err %v", s != nil && s.partCRC, err)
	}
	if _, err := NewS3Store(S3Options{Endpoint: "http://minio:9000", PartChecksums: "md5"}); err == nil ||
		err.Error() != "ASBACKUP_S3_CHECKSUM=md5: unknown value, must be crc32c or none" {
		t.Errorf("mode md5: %v", err)
	}
}

// BenchmarkPartCRC32C measures the checksum of a 5 MiB part (what
// PartChecksums costs the tool per part, and about what the store spends
// checking it).
func BenchmarkPartCRC32C(b *testing.B) {
	data := randomBytes(S3MinPartSize, 3)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		_ = partCRC32C(data)
	}
}
