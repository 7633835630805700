// Package sandbox keeps a package's tests away from the machine they run on:
// from an Aerospike server listening on the default ports and from the
// configuration files the tools read by default (/etc/aerospike/astools.conf
// and ~/.aerospike/astools.conf).
//
// A package opts in from its TestMain:
//
//	func TestMain(m *testing.M) { sandbox.Main(m) }
//
// (m may be anything with a Run() int method that ends in m.Run, for
// packages that prepare something around their tests.)
//
// Main runs the test binary again in private namespaces: a network
// namespace with its own loopback interface (so 127.0.0.1:3000 is free for a
// test server whatever runs on the host) and a mount namespace in which
// /etc/aerospike and $HOME/.aerospike are hidden under empty file systems.
// As root it uses the namespaces directly; otherwise it tries a user
// namespace in which the tests run as its root. When neither is possible the
// tests run in place with HOME set to an empty temporary directory, and
// Reason says why the network and /etc are not private.
package sandbox

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"unsafe"
)

// envMarker is set in the environment of the test binary run inside the
// namespaces.
const envMarker = "ASBTOOLS_TEST_SANDBOX"

var (
	private bool
	reason  = "sandbox.Main was not called"
)

// Private reports whether the tests run in private network and mount
// namespaces: 127.0.0.1:3000 belongs to them and the host's configuration
// files are hidden.
func Private() bool { return private }

// Reason says why Private is false.
func Reason() string { return reason }

// Runner runs a package's tests and returns the exit code (*testing.M).
type Runner interface{ Run() int }

// Options tune MainWith.
type Options struct {
	// NoUserNamespace keeps a run by a user other than root out of a user
	// namespace: the tests then run in place (see Reason). For tests that
	// need setuid helpers such as fusermount3, which do not work there.
	NoUserNamespace bool
}

// Main runs the tests of a package in the sandbox and exits with their
// status. Only the process inside the sandbox calls m.Run.
func Main(m Runner) { MainWith(m, Options{}) }

// MainWith is Main with options.
func MainWith(m Runner, o Options) {
	if os.Getenv(envMarker) != "" {
		if err := setUp(); err != nil {
			fmt.Fprintf(os.Stderr, "sandbox: setting up the private namespaces: %v\n", err)
			os.Exit(1)
		}
		os.Unsetenv(envMarker)
		private, reason = true, ""
		os.Exit(m.Run())
	}
	code, err := reExec(o)
	if err == nil {
		os.Exit(code)
	}
	reason = "cannot run the tests in private network and mount namespaces (" + err.Error() + ")"
	home, err := privateHome()
	if err != nil {
		fmt.Fprintf(os.Stderr, "sandbox: %v\n", err)
		os.Exit(1)
	}
	if _, err := os.Stat("/etc/aerospike/astools.conf"); err == nil {
		fmt.Fprintf(os.Stderr, "sandbox: warning: /etc/aerospike/astools.conf exists and the tests %s; the tools under test read it\n", reason)
	}
	code = m.Run()
	os.RemoveAll(home)
	os.Exit(code)
}

// reExec runs the test binary again, with the same arguments, in new
// network and mount namespaces (and a user namespace when not root) and
// returns its exit code. An error means the namespaces could not be
// created.
func reExec(o Options) (int, error) {
	if os.Geteuid() != 0 && o.NoUserNamespace {
		return 0, fmt.Errorf("not root, and a user namespace was not wanted")
	}
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	attr := &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWNS,
		Pdeathsig:  syscall.SIGKILL,
	}
	if os.Geteuid() != 0 {
		attr.Cloneflags |= syscall.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
		attr.GidMappingsEnableSetgroups = false
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), envMarker+"=1")
	cmd.SysProcAttr = attr
	// Pdeathsig follows the thread that started the child.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT)
	go func() {
		for s := range sigs {
			cmd.Process.Signal(s)
		}
	}()
	err = cmd.Wait()
	signal.Stop(sigs)
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			fmt.Fprintf(os.Stderr, "sandbox: test binary killed by %v\n", ws.Signal())
			return 2, nil
		}
		return ee.ExitCode(), nil
	} else if err != nil {
		fmt.Fprintf(os.Stderr, "sandbox: %v\n", err)
		return 1, nil
	}
	return 0, nil
}

// setUp runs inside the new namespaces: it keeps mounts from propagating
// to the host, hides the configuration directories and brings the loopback
// interface up.
func setUp() error {
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making / private: %w", err)
	}
	dirs := []string{"/etc/aerospike"}
	if home := os.Getenv("HOME"); home != "" {
		dirs = append(dirs, filepath.Join(home, ".aerospike"))
	}
	for _, d := range dirs {
		if err := hide(d); err != nil {
			return err
		}
	}
	return LoopbackUp()
}

// hide mounts an empty tmpfs on dir when it exists (a missing directory
// has nothing to hide, and creating one would change the host).
func hide(dir string) error {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		if err == nil {
			return fmt.Errorf("%s is not a directory; cannot hide it", dir)
		}
		return nil
	}
	if err := syscall.Mount("sandbox", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "mode=0755,size=16m"); err != nil {
		return fmt.Errorf("hiding %s: %w", dir, err)
	}
	return nil
}

// LoopbackUp sets the IFF_UP flag of interface lo, which gives a new
// network namespace 127.0.0.1 and ::1.
func LoopbackUp() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	var req struct {
		name  [syscall.IFNAMSIZ]byte
		flags uint16
		_     [22]byte
	}
	copy(req.name[:], "lo")
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCGIFFLAGS, uintptr(unsafe.Pointer(&req))); e != 0 {
		return fmt.Errorf("reading the flags of lo: %w", e)
	}
	req.flags |= syscall.IFF_UP
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCSIFFLAGS, uintptr(unsafe.Pointer(&req))); e != 0 {
		return fmt.Errorf("bringing lo up: %w", e)
	}
	return nil
}

// privateHome points HOME at a new empty directory (so no
// ~/.aerospike/astools.conf is read), keeping the go command's caches
// where they were.
func privateHome() (string, error) {
	for _, kv := range GoEnv() {
		k, v, _ := strings.Cut(kv, "=")
		if os.Getenv(k) == "" {
			os.Setenv(k, v)
		}
	}
	home, err := os.MkdirTemp("", "asbtools-test-home-")
	if err != nil {
		return "", err
	}
	return home, os.Setenv("HOME", home)
}

// GoEnv returns the go command's cache, module and configuration locations
// as environment entries (GOCACHE=...), so that a process given another
// HOME builds with the same caches; nil when go env fails.
func GoEnv() []string {
	keys := []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOENV"}
	out, err := exec.Command("go", append([]string{"env"}, keys...)...).Output()
	if err != nil {
		return nil
	}
	vals := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(vals) != len(keys) {
		return nil
	}
	var env []string
	for i, k := range keys {
		env = append(env, k+"="+vals[i])
	}
	return env
}
