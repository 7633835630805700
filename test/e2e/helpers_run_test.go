package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// toolRun is the outcome of one run of asbackup or asrestore.
type toolRun struct {
	code           int
	stdout, stderr string
	cpu            time.Duration // user + system time
	maxRSS         int64         // peak resident memory, bytes
	maxAnon        int64         // peak private (anonymous) resident memory
	wall           time.Duration
}

// output returns stdout and stderr together (for searches).
func (r toolRun) output() string { return r.stdout + "\n" + r.stderr }

// The tools run with only stdin, stdout and stderr open, as the legacy
// transcripts were taken: descriptors this test process inherited (e.g. the
// lock file of `flock ... make test`) are marked close-on-exec so that the
// tools do not inherit them in turn (the legacy secret-agent client reports
// the number of the lowest free descriptor).
func init() {
	for fd := 3; fd < 1024; fd++ {
		flags, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
		if e == 0 && flags&syscall.FD_CLOEXEC == 0 {
			syscall.CloseOnExec(fd)
		}
	}
}

// toolCmd prepares a run of tool ("asbackup" or "asrestore", also its argv0)
// in dir with an empty stdin and TZ=UTC. HOME is dir (so no personal
// configuration file is read) unless env sets it; env entries override the
// process environment.
func toolCmd(t testing.TB, tool, dir string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	bin := backupBinary(t)
	if tool == "asrestore" {
		bin = restoreBinary(t)
	}
	cmd := exec.Command(bin, args...)
	cmd.Args[0] = tool
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "TZ=UTC", "HOME="+dir), env...)
	cmd.Stdin = strings.NewReader("")
	return cmd
}

// runTool runs tool (see toolCmd) to completion and measures it.
func runTool(t testing.TB, tool, dir string, env []string, args ...string) toolRun {
	t.Helper()
	return runCmd(t, toolCmd(t, tool, dir, env, args...))
}

// runCmd runs a prepared tool command to completion, with its exit code,
// output, CPU time, wall time and peak memory.
func runCmd(t testing.TB, cmd *exec.Cmd) toolRun {
	t.Helper()
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", cmd.Args[0], err)
	}
	// Peak memory: poll the process. (The rusage of a child started by
	// os/exec also counts the parent's memory it shared before exec.)
	done := make(chan struct{})
	polled := make(chan [2]int64, 1)
	go func() {
		peak, anon := pollMem(cmd.Process.Pid, done)
		polled <- [2]int64{peak, anon}
	}()
	err := cmd.Wait()
	close(done)
	pk := <-polled
	r := toolRun{stdout: so.String(), stderr: se.String(), wall: time.Since(start), maxRSS: pk[0], maxAnon: pk[1]}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s: %v", cmd.Args[0], err)
	}
	if ps := cmd.ProcessState; ps != nil {
		r.cpu = ps.UserTime() + ps.SystemTime()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok && r.maxRSS == 0 {
			r.maxRSS = int64(ru.Maxrss) * 1024
		}
	}
	return r
}
