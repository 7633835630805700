package e2e

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"asbtools/asdsim"
	"asbtools/internal/sandbox"
)

// hostileHostEnv names the directory TestHostileHost prepared; set, it makes
// TestMain stage the hostile host before the sandbox starts.
const hostileHostEnv = "ASBTOOLS_TEST_HOSTILE_HOST"

// hostileConf is an astools.conf that changes what both tools do: another
// port, another namespace, another parallelism.
const hostileConf = "[cluster]\nhost = \"127.0.0.1\"\nport = 3\n[asbackup]\nnamespace = \"hostile\"\nparallel = 3\n[asrestore]\nnamespace = \"hostile\"\n"

// hostileListener is the stand-in for an Aerospike server on the host.
var hostileListener net.Listener

// TestHostileHost runs the CLI transcript tests on a host that has a server
// on 127.0.0.1:3000 and an astools.conf in /etc/aerospike and in the home
// directory, all of which would change the transcripts: the test binary runs
// again in new namespaces where TestMain stages that host (see
// setUpHostileHost), and from there the sandbox starts as it does anywhere.
func TestHostileHost(t *testing.T) {
	if !sandbox.Private() {
		t.Skip("staging a hostile host needs private namespaces: the tests " + sandbox.Reason())
	}
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	writeFile(t, home, ".aerospike/astools.conf", hostileConf)

	// The configuration is hostile: read, it turns transcript case b101
	// (asbackup -n bar -e, which succeeds against the test server) into a
	// connection error.
	// (The test server is there so that only the configuration can fail
	// the run.)
	srv := startServer(t, asdsim.Config{})
	r := runTool(t, "asbackup", dir, []string{"HOME=" + home}, "-n", "bar", "-e", "-p", fmt.Sprint(srv.Port()))
	if r.code != 1 || !strings.Contains(r.stderr, "Estimate cannot be parallelized, don't set --parallel.") {
		t.Fatalf("asbackup did not read the hostile configuration file: exit %d\n%s", r.code, r.stderr)
	}

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run", "^Test(Backup|Restore)CLITranscripts$", "-test.count=1", "-test.v")
	// The go command's caches stay where they were (the tests build the
	// tools, without network access).
	cmd.Env = append(append(os.Environ(), sandbox.GoEnv()...), hostileHostEnv+"="+dir, "HOME="+home)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	text := out.String()
	if err != nil {
		t.Fatalf("transcript tests on the hostile host: %v\n%s", err, text)
	}
	for _, want := range []string{
		"hostile host: 127.0.0.1:3000 is taken; /etc/aerospike/astools.conf and " + home + "/.aerospike/astools.conf are in place",
		"--- PASS: TestBackupCLITranscripts",
		"--- PASS: TestRestoreCLITranscripts",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
}

// setUpHostileHost runs in the fresh network and mount namespaces that
// TestHostileHost created, before the sandbox: it listens on
// 127.0.0.1:3000 (answering every connection with garbage) and puts
// hostileConf at /etc/aerospike/astools.conf ($HOME/.aerospike/astools.conf
// is already there).
func setUpHostileHost() {
	dir := os.Getenv(hostileHostEnv)
	os.Unsetenv(hostileHostEnv)
	fail := func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, "hostile host: "+format+"\n", a...)
		os.Exit(1)
	}
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		fail("making / private: %v", err)
	}
	if err := sandbox.LoopbackUp(); err != nil {
		fail("%v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:3000")
	if err != nil {
		fail("%v", err)
	}
	hostileListener = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("not an aerospike server\n"))
			c.Close()
		}
	}()
	if st, err := os.Stat("/etc/aerospike"); err == nil && st.IsDir() {
		if err := syscall.Mount("hostile", "/etc/aerospike", "tmpfs", 0, "mode=0755"); err != nil {
			fail("mounting a tmpfs on /etc/aerospike: %v", err)
		}
		if err := os.WriteFile("/etc/aerospike/astools.conf", []byte(hostileConf), 0o644); err != nil {
			fail("%v", err)
		}
	} else {
		upper, work := filepath.Join(dir, "etc-upper"), filepath.Join(dir, "etc-work")
		for _, d := range []string{filepath.Join(upper, "aerospike"), work} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				fail("%v", err)
			}
		}
		if err := os.WriteFile(filepath.Join(upper, "aerospike", "astools.conf"), []byte(hostileConf), 0o644); err != nil {
			fail("%v", err)
		}
		if err := syscall.Mount("overlay", "/etc", "overlay", 0, "lowerdir=/etc,upperdir="+upper+",workdir="+work); err != nil {
			fail("mounting an overlay on /etc: %v", err)
		}
	}
	for _, f := range []string{"/etc/aerospike/astools.conf", filepath.Join(os.Getenv("HOME"), ".aerospike", "astools.conf")} {
		if b, err := os.ReadFile(f); err != nil || string(b) != hostileConf {
			fail("%s does not hold the hostile configuration (%v)", f, err)
		}
	}
	if c, err := net.Dial("tcp", "127.0.0.1:3000"); err != nil {
		fail("%v", err)
	} else {
		c.Close()
	}
	fmt.Printf("hostile host: 127.0.0.1:3000 is taken; /etc/aerospike/astools.conf and %s/.aerospike/astools.conf are in place\n", os.Getenv("HOME"))
}
