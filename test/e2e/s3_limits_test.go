package e2e

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"asbtools/asdsim"
)

// s3Watch is a proxy in front of the S3 test server that records, per kind
// of request, the most requests in flight at once, and the request
// checksum headers the client sent.
type s3Watch struct {
	mu        sync.Mutex
	inFlight  map[string]int
	most      map[string]int
	count     map[string]int
	checksums []string
}

func (w *s3Watch) kind(r *http.Request) string {
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodPut && q.Has("partNumber"):
		return "UploadPart"
	case r.Method == http.MethodPut:
		return "PutObject"
	case r.Method == http.MethodGet && !q.Has("list-type") && !q.Has("uploads") && !q.Has("uploadId") && strings.Count(strings.Trim(r.URL.Path, "/"), "/") > 0:
		return "GetObject"
	}
	return "other"
}

func (w *s3Watch) peak(k string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.most[k]
}

// watchS3 starts the proxy; each watched request is held for delay so that
// requests that may overlap do.
func watchS3(t *testing.T, delay time.Duration) (*s3Watch, string) {
	u, err := url.Parse(s3Server(t).Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	w := &s3Watch{inFlight: map[string]int{}, most: map[string]int{}, count: map[string]int{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		k := w.kind(r)
		w.mu.Lock()
		w.inFlight[k]++
		w.count[k]++
		w.most[k] = max(w.most[k], w.inFlight[k])
		for h := range r.Header {
			if l := strings.ToLower(h); strings.HasPrefix(l, "x-amz-checksum-") || l == "x-amz-sdk-checksum-algorithm" {
				w.checksums = append(w.checksums, k+" "+h)
			}
		}
		w.mu.Unlock()
		if k != "other" {
			time.Sleep(delay)
		}
		rp.ServeHTTP(rw, r)
		w.mu.Lock()
		w.inFlight[k]--
		w.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return w, srv.URL
}

// TestS3RequestLimits backs up with 4 jobs and restores with 4 threads
// through a proxy that holds every request a little: no more than
// --s3-max-async-uploads parts are uploaded at once and no more than
// --s3-max-async-downloads ranges downloaded at once, and no request
// carries the SDK's default checksum headers (which some S3-compatible
// stores refuse): only each part its precomputed CRC-32C.
func TestS3RequestLimits(t *testing.T) {
	srv := resumeServer(t)
	bucket := s3Bucket(t)
	work := t.TempDir()
	w, proxy := watchS3(t, 30*time.Millisecond)
	target := "s3://" + bucket + "/limits"
	res := runTool(t, "asbackup", work, s3Env(t), append(hostArgs(srv), "-n", "test", "-d", target, "--parallel", "4", "-F", "1",
		"--s3-max-async-uploads", "2", "--s3-endpoint-override", proxy)...)
	if res.code != 0 {
		t.Fatalf("backup: exit %d\n%s", res.code, lastLines(res.stderr, 5))
	}
	if w.count["UploadPart"] < 20 {
		t.Fatalf("%d parts uploaded", w.count["UploadPart"])
	}
	if m := w.peak("UploadPart"); m > 2 || m < 2 {
		t.Errorf("at most %d parts uploaded at once with --s3-max-async-uploads 2 and 4 jobs, want 2", m)
	}

	dst := startServer(t, asdsim.Config{})
	res = runTool(t, "asrestore", work, s3Env(t), append(hostArgs(dst), "-d", target, "--parallel", "4",
		"--s3-max-async-downloads", "3", "--s3-endpoint-override", proxy)...)
	if res.code != 0 {
		t.Fatalf("restore: exit %d\n%s", res.code, lastLines(res.stderr, 5))
	}
	if got := dst.Count("test", "rs"); got != resumeRecords {
		t.Fatalf("restored %d records, want %d", got, resumeRecords)
	}
	if m := w.peak("GetObject"); m > 3 || m < 2 {
		t.Errorf("at most %d ranges downloaded at once with --s3-max-async-downloads 3 and 4 threads, want 2 or 3", m)
	}
	// Only the parts' own CRC-32C (a plain header, over plain HTTP), one
	// per part upload.
	crcs := 0
	for _, c := range w.checksums {
		if c != "UploadPart X-Amz-Checksum-Crc32c" {
			t.Errorf("checksum header sent: %s", c)
		}
		crcs++
	}
	if crcs != w.count["UploadPart"] {
		t.Errorf("%d part CRC-32C headers for %d part uploads", crcs, w.count["UploadPart"])
	}
}
