package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"asbtools/asdsim"
	"asbtools/secretagent/satest"
)

// precedenceServers are three test servers with distinct record counts per
// namespace and set, so the count a backup reports tells which server,
// namespace and sets it used.
type precedenceServers struct {
	a, b, c *asdsim.Server
}

func newPrecedenceServers(t *testing.T) *precedenceServers {
	t.Helper()
	p := &precedenceServers{a: startServer(t, asdsim.Config{}), b: startServer(t, asdsim.Config{}), c: startServer(t, asdsim.Config{})}
	seed := func(srv *asdsim.Server, ns, set string, n int) {
		for i := 0; i < n; i++ {
			rec := asdsim.Record{Set: set, Key: asdsim.StringKey(fmt.Sprintf("%s-%d", set, i)),
				Bins: []asdsim.Bin{asdsim.IntBin("i", int64(i)), asdsim.StringBin("s", set)}}
			if err := srv.Put(ns, rec); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Server a: test s1=3 s2=4 s3=5, bar s1=6. Server b: ten times more.
	for _, x := range []struct {
		srv *asdsim.Server
		k   int
	}{{p.a, 1}, {p.b, 10}} {
		seed(x.srv, "test", "s1", 3*x.k)
		seed(x.srv, "test", "s2", 4*x.k)
		seed(x.srv, "test", "s3", 5*x.k)
		seed(x.srv, "bar", "s1", 6*x.k)
	}
	return p
}

var (
	startRE  = regexp.MustCompile(`Starting backup of (\S+) \(namespace: ([^,]*), set: \[([^\]]*)\]`)
	backedRE = regexp.MustCompile(`Backed up (\d+) record\(s\)`)
	rstartRE = regexp.MustCompile(`Starting restore to (\S+) \(bins: [^,]*, sets: ([^)]*)\) from (\S+)`)
)

// backupOutcome is what a backup run shows of the settings it used.
type backupOutcome struct {
	host, namespace, sets string
	records               int
}

func (o backupOutcome) String() string {
	return fmt.Sprintf("host %s namespace %s sets [%s] records %d", o.host, o.namespace, o.sets, o.records)
}

// backupWith runs asbackup to an output file and returns what it used.
func backupWith(t *testing.T, dir string, env []string, args ...string) backupOutcome {
	t.Helper()
	out := filepath.Join(dir, "out.asb")
	os.Remove(out)
	r := runTool(t, "asbackup", dir, env, append(args, "-o", out)...)
	r.mustSucceed(t, "asbackup "+strings.Join(args, " "))
	return parseBackupOutcome(t, r.stderr)
}

func parseBackupOutcome(t *testing.T, stderr string) backupOutcome {
	t.Helper()
	m := startRE.FindStringSubmatch(stderr)
	n := backedRE.FindStringSubmatch(stderr)
	if m == nil || n == nil {
		t.Fatalf("no start or summary line in:\n%s", stderr)
	}
	c, _ := strconv.Atoi(n[1])
	return backupOutcome{host: m[1], namespace: m[2], sets: m[3], records: c}
}

func expectOutcome(t *testing.T, what string, got, want backupOutcome) {
	t.Helper()
	if got != want {
		t.Errorf("%s:\n got %v\nwant %v", what, got, want)
	}
}

// TestConfigPrecedenceBackup checks through asbackup: per-user file <
// --config-file < command line, --only-config-file, --no-config-file, set
// lists accumulating across files and -s, instance sections with and
// without fallback, [include] after the file's own sections, and the
// [secret-agent] section used for configuration secrets only.
func TestConfigPrecedenceBackup(t *testing.T) {
	ps := newPrecedenceServers(t)
	dir := t.TempDir()
	pa, pb := strconv.Itoa(ps.a.Port()), strconv.Itoa(ps.b.Port())

	writeFile(t, dir, ".aerospike/astools.conf", `
[cluster]
host = "127.0.0.1"
port = `+pa+`
[asbackup]
namespace = "test"
set = "s1"
`)
	writeFile(t, dir, "later.conf", `
[cluster]
port = `+pb+`
[asbackup]
set = "s2"
`)
	home := backupOutcome{"127.0.0.1", "test", "s1", 3}
	expectOutcome(t, "per-user file", backupWith(t, dir, nil), home)
	expectOutcome(t, "per-user file < --config-file", backupWith(t, dir, nil, "--config-file", "later.conf"),
		backupOutcome{"127.0.0.1", "test", "s1,s2", 70})
	expectOutcome(t, "files < command line", backupWith(t, dir, nil, "--config-file", "later.conf", "-s", "s3", "-p", pa),
		backupOutcome{"127.0.0.1", "test", "s1,s2,s3", 12})
	expectOutcome(t, "command-line namespace", backupWith(t, dir, nil, "--config-file", "later.conf", "-n", "bar"),
		backupOutcome{"127.0.0.1", "bar", "s1,s2", 60})
	expectOutcome(t, "--only-config-file skips the per-user file",
		backupWith(t, dir, nil, "--only-config-file", "later.conf", "-n", "test"), backupOutcome{"127.0.0.1", "test", "s2", 40})
	expectOutcome(t, "--no-config-file", backupWith(t, dir, nil, "--no-config-file", "-p", pb, "-n", "test"),
		backupOutcome{"127.0.0.1", "test", "all", 120})
	expectOutcome(t, "a missing --config-file is skipped", backupWith(t, dir, nil, "--config-file", "missing.conf"), home)
	expectOutcome(t, "the last --config-file wins",
		backupWith(t, dir, nil, "--config-file", "missing.conf", "--config-file", "later.conf"), backupOutcome{"127.0.0.1", "test", "s1,s2", 70})

	// Instances: [cluster_x] replaces [cluster] without fallback; the tool
	// section falls back to the plain one.
	writeFile(t, dir, "inst.conf", `
[cluster]
host = "127.0.0.1:`+pa+`"
[cluster_x]
host = "127.0.0.1:`+pb+`"
[asbackup]
namespace = "test"
set = "s1"
[asbackup_x]
namespace = "bar"
`)
	expectOutcome(t, "no instance", backupWith(t, dir, nil, "--only-config-file", "inst.conf"),
		backupOutcome{"127.0.0.1:" + pa, "test", "s1", 3})
	expectOutcome(t, "instance x", backupWith(t, dir, nil, "--only-config-file", "inst.conf", "--instance", "x"),
		backupOutcome{"127.0.0.1:" + pb, "bar", "all", 60})
	expectOutcome(t, "instance y: no [cluster], plain [asbackup]",
		backupWith(t, dir, nil, "--only-config-file", "inst.conf", "--instance", "y", "-p", pb),
		backupOutcome{"127.0.0.1", "test", "s1", 30})
	expectOutcome(t, "the last --instance wins",
		backupWith(t, dir, nil, "--only-config-file", "inst.conf", "--instance", "x", "--instance", "y", "-p", pa),
		backupOutcome{"127.0.0.1", "test", "s1", 3})

	// Includes are applied after the including file's own sections; a
	// directory include reads every file below it.
	writeFile(t, dir, "main.conf", `
[include]
file = "inc/extra.conf"
directory = "inc.d"
[asbackup]
namespace = "test"
set = "s1"
[cluster]
host = "127.0.0.1:`+pa+`"
`)
	writeFile(t, dir, "inc/extra.conf", `
[cluster]
host = "127.0.0.1:`+pb+`"
[asbackup]
namespace = "bar"
set = "s2"
`)
	writeFile(t, dir, "inc.d/sub/more.conf", `
[asbackup]
namespace = "test"
set = "s3"
`)
	expectOutcome(t, "includes", backupWith(t, dir, nil, "--only-config-file", "main.conf"),
		backupOutcome{"127.0.0.1:" + pb, "test", "s1,s2,s3", 120})
	expectOutcome(t, "includes < command line", backupWith(t, dir, nil, "--only-config-file", "main.conf", "-h", "127.0.0.1:"+pa),
		backupOutcome{"127.0.0.1:" + pa, "test", "s1,s2,s3", 12})
	// A broken file found through a directory include is reported and
	// skipped.
	writeFile(t, dir, "inc.d/broken.conf", "[asbackup\n")
	r := runTool(t, "asbackup", dir, nil, "--only-config-file", "main.conf", "-o", "skip.asb")
	r.mustSucceed(t, "asbackup with a broken included file")
	if !strings.Contains(r.stderr, "Parse error `line 1: ") || !strings.Contains(r.stderr, "in file [1:inc.d/broken.conf]\nSkipped .....\n") {
		t.Errorf("broken included file not reported:\n%s", r.stderr)
	}
	expectOutcome(t, "includes with a skipped file", parseBackupOutcome(t, r.stderr),
		backupOutcome{"127.0.0.1:" + pb, "test", "s1,s2,s3", 120})

	// [secret-agent]: configuration secrets use the agent of the file
	// (and of its instance section); --sa-address only applies to
	// command-line secrets.
	agent1 := satest.NewServer(map[string]map[string]string{"cfg": {"ns": "test", "port": pa}})
	agent2 := satest.NewServer(map[string]map[string]string{"cfg": {"ns": "bar", "port": pb}})
	addr1, err := agent1.ListenTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer agent1.Close()
	addr2, err := agent2.ListenTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer agent2.Close()
	writeFile(t, dir, "sa.conf", `
[secret-agent]
sa-address = "`+addr1.String()+`"
[secret-agent_x]
sa-address = "`+addr2.String()+`"
[cluster]
port = "secrets:cfg:port"
[cluster_x]
port = "secrets:cfg:port"
[asbackup]
namespace = "secrets:cfg:ns"
`)
	expectOutcome(t, "[secret-agent]", backupWith(t, dir, nil, "--only-config-file", "sa.conf"),
		backupOutcome{"127.0.0.1", "test", "all", 12})
	expectOutcome(t, "[secret-agent_x]", backupWith(t, dir, nil, "--only-config-file", "sa.conf", "--instance", "x"),
		backupOutcome{"127.0.0.1", "bar", "all", 60})
	expectOutcome(t, "--sa-address does not apply to configuration secrets",
		backupWith(t, dir, nil, "--only-config-file", "sa.conf", "--sa-address", addr2.String()),
		backupOutcome{"127.0.0.1", "test", "all", 12})
	expectOutcome(t, "--sa-address applies to command-line secrets",
		backupWith(t, dir, nil, "--only-config-file", "sa.conf", "--sa-address", addr2.String(), "-n", "secrets:cfg:ns"),
		backupOutcome{"127.0.0.1", "bar", "all", 6})
}

// TestConfigPrecedenceRestore checks the [asrestore] and [cluster] sections
// through asrestore: file < command line, instance sections, the set list
// and namespace mapping, and the warnings printed for deprecated keys.
func TestConfigPrecedenceRestore(t *testing.T) {
	ps := newPrecedenceServers(t)
	dir := t.TempDir()
	pa, pc := strconv.Itoa(ps.a.Port()), strconv.Itoa(ps.c.Port())
	runTool(t, "asbackup", dir, nil, "--no-config-file", "-p", pa, "-n", "test", "-o", "full.asb").mustSucceed(t, "asbackup")

	writeFile(t, dir, "r.conf", `
[cluster]
host = "127.0.0.1"
port = `+pc+`
tls-cert-blacklist = "unused"
[cluster_x]
host = "127.0.0.1:`+pc+`"
[asrestore]
input-file = "missing.asb"
set-list = "s1"
retry-delay = 5
[asrestore_x]
input-file = "full.asb"
namespace = "test,bar"
`)
	restore := func(args ...string) (host, sets, from string) {
		t.Helper()
		ps.c.Clear()
		r := runTool(t, "asrestore", dir, nil, args...)
		r.mustSucceed(t, "asrestore "+strings.Join(args, " "))
		m := rstartRE.FindStringSubmatch(r.stderr)
		if m == nil {
			t.Fatalf("no start line:\n%s", r.stderr)
		}
		if strings.Contains(strings.Join(args, " "), "--only-config-file r.conf") && !strings.Contains(strings.Join(args, " "), "--instance") {
			// Once each, in file order ([cluster] before [asrestore]); the
			// second has no newline, as in legacy.
			const warnings = "Warning: --tls-cert-blacklist is deprecated and will be removed in the next release. Use a crl instead\n" +
				"Warning: `--retry-delay` is deprecated and has no effect, use `--retry-scale-factor` to configure the amount to back off when retrying transactions."
			if !strings.HasPrefix(r.stderr, warnings) || strings.Count(r.stderr, "Warning:") != 2 {
				t.Errorf("deprecation warnings:\n%s", r.stderr)
			}
		}
		return m[1], m[2], m[3]
	}
	counts := func() string {
		return fmt.Sprintf("test/s1=%d test/s2=%d test/s3=%d bar=%d", ps.c.Count("test", "s1"), ps.c.Count("test", "s2"),
			ps.c.Count("test", "s3"), ps.c.Count("bar", ""))
	}

	host, sets, from := restore("--only-config-file", "r.conf", "-i", "full.asb")
	if host != "127.0.0.1" || sets != "s1" || from != "full.asb" || counts() != "test/s1=3 test/s2=0 test/s3=0 bar=0" {
		t.Errorf("file + -i: %s %s %s, %s", host, sets, from, counts())
	}
	host, sets, from = restore("--only-config-file", "r.conf", "-i", "full.asb", "-s", "s2,s3")
	if host != "127.0.0.1" || sets != "s2,s3" || from != "full.asb" || counts() != "test/s1=0 test/s2=4 test/s3=5 bar=0" {
		t.Errorf("command-line set list: %s %s %s, %s", host, sets, from, counts())
	}
	host, sets, from = restore("--only-config-file", "r.conf", "--instance", "x")
	if host != "127.0.0.1:"+pc || sets != "[all]" || from != "full.asb" || counts() != "test/s1=0 test/s2=0 test/s3=0 bar=12" {
		t.Errorf("instance x: %s %s %s, %s", host, sets, from, counts())
	}
	host, sets, from = restore("--only-config-file", "r.conf", "--instance", "x", "-n", "test")
	if host != "127.0.0.1:"+pc || from != "full.asb" || counts() != "test/s1=3 test/s2=4 test/s3=5 bar=0" {
		t.Errorf("instance x, -n test: %s %s %s, %s", host, sets, from, counts())
	}
	// The per-user file and --config-file.
	writeFile(t, dir, ".aerospike/astools.conf", "[cluster]\nport = "+pa+"\n[asrestore]\ninput-file = \"full.asb\"\nnamespace = \"test,bar\"\n")
	writeFile(t, dir, "later.conf", "[cluster]\nport = "+pc+"\n")
	_, _, from = restore("--config-file", "later.conf")
	if from != "full.asb" || counts() != "test/s1=0 test/s2=0 test/s3=0 bar=12" {
		t.Errorf("per-user file < --config-file: from %s, %s", from, counts())
	}
}

// TestConfigSystemFile checks that /etc/aerospike/astools.conf is read
// before the per-user file. The system file is provided inside a private
// mount namespace (an overlay on /etc), so the test needs root and
// unshare(1); it is skipped otherwise.
func TestConfigSystemFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a private mount namespace")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare(1) not available")
	}
	ps := newPrecedenceServers(t)
	dir := t.TempDir()
	pa, pb := strconv.Itoa(ps.a.Port()), strconv.Itoa(ps.b.Port())
	upper, work := filepath.Join(dir, "upper"), filepath.Join(dir, "work")
	writeFile(t, upper, "aerospike/astools.conf", "[cluster]\nport = "+pa+"\n[asbackup]\nnamespace = \"test\"\nset = \"s1\"\n")
	os.MkdirAll(work, 0o755)
	bin := backupBinary(t)
	run := func(args ...string) (toolRun, bool) {
		script := `mount -t overlay overlay -o lowerdir=/etc,upperdir="$1",workdir="$2" /etc || exit 99; shift 2; exec "$@"`
		cmd := toolCmd(t, "asbackup", dir, nil)
		cmd.Path = unshare
		cmd.Args = append([]string{"unshare", "-m", "sh", "-c", script, "sh", upper, work, bin}, args...)
		var so, se strings.Builder
		cmd.Stdout, cmd.Stderr = &so, &se
		err := cmd.Run()
		r := toolRun{stdout: so.String(), stderr: se.String()}
		if ee, ok := err.(*exec.ExitError); ok {
			r.code = ee.ExitCode()
		} else if err != nil {
			return r, false
		}
		return r, r.code != 99
	}
	r, ok := run("-o", filepath.Join(dir, "etc.asb"))
	if !ok {
		t.Skipf("cannot mount an overlay on /etc here: %s", r.stderr)
	}
	r.mustSucceed(t, "asbackup with a system file")
	expectOutcome(t, "system file", parseBackupOutcome(t, r.stderr), backupOutcome{"127.0.0.1", "test", "s1", 3})

	writeFile(t, dir, ".aerospike/astools.conf", "[cluster]\nport = "+pb+"\n[asbackup]\nset = \"s2\"\n")
	r, _ = run("-o", filepath.Join(dir, "etc2.asb"))
	r.mustSucceed(t, "asbackup with system and per-user files")
	expectOutcome(t, "system file < per-user file", parseBackupOutcome(t, r.stderr), backupOutcome{"127.0.0.1", "test", "s1,s2", 70})

	r, _ = run("--only-config-file", filepath.Join(dir, "none.conf"), "-p", pb, "-n", "bar", "-o", filepath.Join(dir, "etc3.asb"))
	r.mustSucceed(t, "asbackup --only-config-file")
	expectOutcome(t, "--only-config-file skips the system file", parseBackupOutcome(t, r.stderr), backupOutcome{"127.0.0.1", "bar", "all", 60})
}
