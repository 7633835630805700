package e2e

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"asbtools/asdsim"
)

// s3Request is one request a tool sent to the S3 server.
type s3Request struct {
	method, path, query string
	header              http.Header
}

// has reports whether the query string has the parameter.
func (r s3Request) has(param string) bool {
	q, _ := url.ParseQuery(r.query)
	_, ok := q[param]
	return ok
}

// s3Recorder is a reverse proxy in front of the S3 test server that
// records every request. The tools sign for the proxy's host, which the
// proxy passes on, so the server accepts the signatures.
type s3Recorder struct {
	addr string
	mu   sync.Mutex
	reqs []s3Request
}

func newS3Recorder(t testing.TB) *s3Recorder {
	t.Helper()
	rec := &s3Recorder{}
	rec.addr = s3Proxy(t, func(r *http.Request) {
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, s3Request{method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, header: r.Header.Clone()})
		rec.mu.Unlock()
	})
	return rec
}

// s3Proxy starts a reverse proxy to the S3 test server that calls see
// with each request before passing it on (see may replace its body), and
// returns the proxy's host:port.
func s3Proxy(t testing.TB, see func(r *http.Request)) string {
	t.Helper()
	target, err := url.Parse(s3Server(t).Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		see(r)
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	if _, _, err := net.SplitHostPort(addr); err != nil {
		t.Fatal(err)
	}
	return addr
}

// flags are the --s3-* options that send a tool through the recorder.
func (r *s3Recorder) flags() []string { return []string{"--s3-endpoint-override", r.addr} }

// take returns the requests recorded so far and forgets them.
func (r *s3Recorder) take() []s3Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reqs
	r.reqs = nil
	return out
}

// TestS3Requests checks what the tools send to the store where it costs
// time: part uploads are not hashed for the signature (UNSIGNED-PAYLOAD:
// the store would hash every part again to check it) and wait for no
// "100 Continue"; a directory restore reads the objects with ranged GETs
// only, taking their sizes from the listing (no HEAD per object), while a
// single-object restore (-i) asks for the object's size once.
func TestS3Requests(t *testing.T) {
	src := resumeServer(t)
	bucket := s3Bucket(t)
	rec := newS3Recorder(t)
	work := t.TempDir()

	res := runTool(t, "asbackup", work, s3Env(t), append(append(hostArgs(src), "-n", "test", "-d", "s3://"+bucket+"/dir", "--parallel", "2"), rec.flags()...)...)
	if res.code != 0 {
		t.Fatalf("backup: exit %d\n%s", res.code, res.stderr)
	}
	parts := 0
	for _, r := range rec.take() {
		if r.method != http.MethodPut || !r.has("partNumber") {
			continue
		}
		parts++
		if got := r.header.Get("X-Amz-Content-Sha256"); got != "UNSIGNED-PAYLOAD" {
			t.Errorf("part upload %s?%s: X-Amz-Content-Sha256 %q, want UNSIGNED-PAYLOAD", r.path, r.query, got)
		}
		if got := r.header.Get("Expect"); got != "" {
			t.Errorf("part upload %s?%s: Expect: %s", r.path, r.query, got)
		}
	}
	objects := s3Keys(t, bucket, "dir/")
	if len(objects) < 2 || parts <= len(objects) {
		t.Fatalf("%d objects in %d parts: want several objects of several parts", len(objects), parts)
	}

	dst := startServer(t, asdsim.Config{})
	res = runTool(t, "asrestore", work, s3Env(t), append(append(hostArgs(dst), "-d", "s3://"+bucket+"/dir"), rec.flags()...)...)
	if res.code != 0 {
		t.Fatalf("restore -d: exit %d\n%s", res.code, res.stderr)
	}
	if got := dst.Count("test", "rs"); got != resumeRecords {
		t.Fatalf("restore -d: %d records, want %d", got, resumeRecords)
	}
	read := map[string]bool{}
	for _, r := range rec.take() {
		switch {
		case r.method == http.MethodHead:
			t.Errorf("restore -d sent HEAD %s", r.path)
		case r.method == http.MethodGet && r.has("list-type"):
		case r.method == http.MethodGet && r.header.Get("Range") != "":
			read["s3://"+strings.TrimPrefix(r.path, "/")] = true
		default:
			t.Errorf("restore -d sent %s %s?%s", r.method, r.path, r.query)
		}
	}
	for _, k := range objects {
		if !read["s3://"+bucket+"/"+k] {
			t.Errorf("restore -d read no range of %s", k)
		}
	}

	res = runTool(t, "asbackup", work, s3Env(t), append(append(hostArgs(src), "-n", "test", "-o", "s3://"+bucket+"/one.asb"), s3Flags(t)...)...)
	if res.code != 0 {
		t.Fatalf("backup -o: exit %d\n%s", res.code, res.stderr)
	}
	dst = startServer(t, asdsim.Config{})
	res = runTool(t, "asrestore", work, s3Env(t), append(append(hostArgs(dst), "-i", "s3://"+bucket+"/one.asb"), rec.flags()...)...)
	if res.code != 0 {
		t.Fatalf("restore -i: exit %d\n%s", res.code, res.stderr)
	}
	if got := dst.Count("test", "rs"); got != resumeRecords {
		t.Fatalf("restore -i: %d records, want %d", got, resumeRecords)
	}
	heads := 0
	for _, r := range rec.take() {
		if r.method == http.MethodHead {
			heads++
		}
	}
	if heads != 1 {
		t.Errorf("restore -i sent %d HEAD requests, want 1", heads)
	}
}
