// Package miniotest runs a real S3-compatible server (MinIO) for tests.
//
// The server is built from its Go module at a pinned version with `go
// install` into a per-user cache directory (os.UserCacheDir()/asbtools) the
// first time it is needed, under a file lock so that concurrent test
// processes build it once; later runs reuse the binary. ASBTOOLS_MINIO names
// a prebuilt binary instead. Start runs it on 127.0.0.1 on a free port with a
// temporary data directory and fixed credentials.
package miniotest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"
)

// Module and Version pin the server that is built.
const (
	Module  = "github.com/minio/minio"
	Version = "v0.0.0-20260212201848-7aac2a2c5b7c"
)

// The fixed credentials of every server started here.
const (
	AccessKey = "asbtools-test"
	SecretKey = "asbtools-test-secret"
	Region    = "us-east-1"
)

// CacheDir returns the directory that holds the built server:
// $XDG_CACHE_HOME/asbtools, else ~/.cache/asbtools of the user running the
// tests (from the password database, so a test that changes HOME still
// finds the binary).
func CacheDir() (string, error) {
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		if u, err := user.Current(); err == nil && u.HomeDir != "" {
			base = filepath.Join(u.HomeDir, ".cache")
		} else if d, err := os.UserCacheDir(); err == nil {
			base = d
		} else {
			base = filepath.Join(os.TempDir(), "asbtools-cache")
		}
	}
	return filepath.Join(base, "asbtools", "minio-"+Version), nil
}

// goTool returns the go command to build with: $GOROOT/bin/go of the go
// command running the tests (it sets GOROOT for them), else go from PATH.
func goTool() string {
	if r := os.Getenv("GOROOT"); r != "" {
		if p := filepath.Join(r, "bin", "go"); fileExists(p) {
			return p
		}
	}
	return "go"
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// Binary returns the path of the server binary, building it first if it is
// not in the cache yet. The build takes a few minutes on a fresh machine.
func Binary() (string, error) {
	if p := os.Getenv("ASBTOOLS_MINIO"); p != "" {
		return p, nil
	}
	dir, err := CacheDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "minio")
	if st, err := os.Stat(bin); err == nil && st.Mode().IsRegular() {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if st, err := os.Stat(bin); err == nil && st.Mode().IsRegular() {
		return bin, nil // built by another process while we waited
	}
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command(goTool(), "install", Module+"@"+Version)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOFLAGS=-buildvcs=false", "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building %s@%s: %w\n%s", Module, Version, err, out.Bytes())
	}
	if err := os.Rename(filepath.Join(tmp, "minio"), bin); err != nil {
		return "", err
	}
	return bin, nil
}

// Server is a running MinIO server.
type Server struct {
	// Endpoint is the server's URL (http://127.0.0.1:PORT).
	Endpoint string
	// Addr is its host:port.
	Addr string
	// Dir is the data directory (removed by Stop).
	Dir string

	bin string
	cmd *exec.Cmd
	log *bytes.Buffer
}

// Start builds (if needed) and starts a server with a fresh data directory.
func Start() (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "asbtools-minio-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, bin: bin}
	var last error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		s.Endpoint = "http://" + s.Addr
		if last = s.start(); last == nil {
			return s, nil
		}
	}
	os.RemoveAll(dir)
	return nil, last
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs the server on s.Addr and waits until it is ready.
func (s *Server) start() error {
	console, err := freePort()
	if err != nil {
		return err
	}
	s.log = &bytes.Buffer{}
	cmd := exec.Command(s.bin, "server", "--quiet", "--address", s.Addr,
		"--console-address", "127.0.0.1:"+strconv.Itoa(console), s.Dir)
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+AccessKey, "MINIO_ROOT_PASSWORD="+SecretKey,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_CI_CD=1")
	cmd.Stdout, cmd.Stderr = s.log, s.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("minio exited: %s", s.log.String())
		default:
		}
		resp, err := http.Get(s.Endpoint + "/minio/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.cmd = cmd
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	<-exited
	return errors.New("minio did not become ready: " + s.log.String())
}

// Stop ends the server and removes its data.
func (s *Server) Stop() {
	s.kill()
	os.RemoveAll(s.Dir)
}

func (s *Server) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		for range 200 {
			if err := s.cmd.Process.Signal(syscall.Signal(0)); err != nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	s.cmd = nil
}

// Restart kills the server after down has passed (0: at once), waits down
// and starts it again on the same address with the same data.
func (s *Server) Restart(down time.Duration) error {
	s.kill()
	time.Sleep(down)
	return s.Relaunch()
}

// Kill ends the server and keeps its data: the store is unreachable until
// Relaunch.
func (s *Server) Kill() { s.kill() }

// Relaunch starts a killed server again on the same address with the same
// data.
func (s *Server) Relaunch() error {
	var err error
	for range 50 {
		if err = s.start(); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// Env returns the environment variables that give a tool the server's
// credentials (and no other AWS configuration).
func (s *Server) Env() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + SecretKey,
		"AWS_REGION=",
		"AWS_PROFILE=",
		"AWS_CONFIG_FILE=/nonexistent",
		"AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// Client returns an SDK client for the server (path-style addressing).
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),

		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// MakeBucket creates a bucket. A server that reports itself ready may still
// answer "Server not initialized yet" (503) for a moment on a loaded
// machine: that is waited out.
func (s *Server) MakeBucket(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		_, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
		if err == nil || !strings.Contains(err.Error(), "XMinioServerNotInitialized") || ctx.Err() != nil {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// PutObjects uploads n objects into bucket, 16 at a time; object(i),
// called from several goroutines, gives the key and body of object i. The
// first failure is returned.
func (s *Server) PutObjects(bucket string, n int, object func(i int) (key string, body []byte)) error {
	c := s.Client()
	var g errgroup.Group
	g.SetLimit(16)
	for i := range n {
		g.Go(func() error {
			key, body := object(i)
			_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
			if err != nil {
				return fmt.Errorf("put %s: %w", key, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// Pid returns the server's process id (0 if it is not running).
func (s *Server) Pid() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// CPUTime returns the CPU time (user and system) the server process has
// used so far, from /proc (Linux); ok is false where it cannot be read.
func (s *Server) CPUTime() (d time.Duration, ok bool) {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0, false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0, false
	}
	// The command name (field 2) may hold spaces: count from its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	// Clock ticks of 10 ms (USER_HZ is 100 on every Linux architecture Go
	// supports).
	return time.Duration(ut+st) * 10 * time.Millisecond, true
}
