package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// repoRoot returns the repository root (two levels above this package).
func repoRoot(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// builtBinary is one command built for the tests.
type builtBinary struct {
	once sync.Once
	path string
	err  error
}

var (
	binariesMu sync.Mutex
	binaries   = map[string]*builtBinary{}
)

// toolBinary builds cmd/<name> once per test process into a temporary
// directory and returns the path of the binary (named name).
func toolBinary(t testing.TB, name string) string {
	binariesMu.Lock()
	b := binaries[name]
	if b == nil {
		b = &builtBinary{}
		binaries[name] = b
	}
	binariesMu.Unlock()
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", name+"-e2e-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-o", b.path, "./cmd/"+name)
		cmd.Dir = repoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = &buildError{out: string(out), err: err}
		}
	})
	if b.err != nil {
		t.Fatalf("building %s: %v", name, b.err)
	}
	return b.path
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// backupBinary returns the path of the asbackup binary built for the tests.
func backupBinary(t testing.TB) string { return toolBinary(t, "asbackup") }

// restoreBinary returns the path of the asrestore binary built for the
// tests.
func restoreBinary(t testing.TB) string { return toolBinary(t, "asrestore") }

// procMem returns the peak resident set size (VmHWM) and the current
// anonymous resident memory (RssAnon) of a running process in bytes, or
// zeros when they cannot be read.
func procMem(pid int) (hwm, anon int64) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmHWM:":
			hwm = n * 1024
		case "RssAnon:":
			anon = n * 1024
		}
	}
	return hwm, anon
}

// pollMem samples procMem of process pid every 10 ms until stop is closed
// and returns the largest values seen (zeros if none could be read).
func pollMem(pid int, stop <-chan struct{}) (hwm, anon int64) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		h, a := procMem(pid)
		hwm, anon = max(hwm, h), max(anon, a)
		select {
		case <-stop:
			return hwm, anon
		case <-t.C:
		}
	}
}
