package e2e

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"asbtools/secretagent/satest"
)

// saFault is one way for the Secret Agent to fail and the ERR lines the
// tools must print for it.
type saFault struct {
	name  string
	fault satest.Fault
	// ref is the reference asked for (a missing key for "unknown").
	ref string
	// lines are the client messages (after "secret-agent: "), code the
	// legacy error code.
	lines []string
	code  int
}

var saFaults = []saFault{
	{"slow", satest.FaultSlow, "secrets:namespace", []string{"ERR: socket poll timed out", "ERR: empty secret json response"}, 4},
	{"garbage", satest.FaultGarbage, "secrets:namespace", []string{"ERR: bad magic - 48545450", "ERR: empty secret json response"}, 3},
	{"oversized", satest.FaultOversized, "secrets:namespace", []string{"ERR: response too big - 102401", "ERR: empty secret json response"}, 3},
	{"closed", satest.FaultClose, "secrets:namespace", []string{"ERR: failed reading secret header: connection closed by agent", "ERR: empty secret json response"}, 3},
	{"short-body", satest.FaultShortBody, "secrets:namespace", []string{"ERR: socket read failed: connection closed by agent", "ERR: empty secret json response"}, 3},
	{"bad-json", satest.FaultBadJSON, "secrets:namespace", []string{"ERR: failed to parse response JSON (syntax error at byte 2)", "ERR: unable to fetch secret"}, 1},
	{"not-base64", satest.FaultNotBase64, "secrets:namespace", []string{"ERR: failed to base64-decode secret", "ERR: unable to fetch secret"}, 1},
	{"unknown-secret", satest.FaultNone, "secrets:vault:no-such-key", []string{"ERR: response: secret not found", "ERR: unable to fetch secret"}, 1},
	{"unreachable", satest.FaultNone, "secrets:namespace", []string{"ERR: connect failed: 3, errno: 111", "ERR: failed to create socket"}, 3},
}

// TestSecretsAgentFaults runs both tools against a misbehaving agent, with
// the failing reference on the command line and in a configuration file.
// Other secrets (the cluster password) are fetched successfully from a
// second agent first, so the test also checks that no fetched secret leaks
// into the output of a failed run. Every fault must give the documented ERR
// lines and exit 1.
func TestSecretsAgentFaults(t *testing.T) {
	fx := newSecretFixture(t)
	backupBinary(t) // built before any run is timed
	restoreBinary(t)
	dir := t.TempDir()
	writeFile(t, dir, "in.asb", "Version 3.1\n# namespace test\n# first-file\n")

	bad := satest.NewServer(map[string]map[string]string{"": {"namespace": "test"}})
	badAddr, err := bad.ListenTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bad.Close() })
	// A port where nothing listens.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := ln.Addr().String()
	ln.Close()

	// The good agent serves the password for the configuration file; the
	// command-line --sa-* options do not apply to configuration secrets.
	good := `
[secret-agent]
sa-address = "` + fx.agentAddr + `"
[cluster]
host = "` + fx.hostArg() + `"
` + tlsConf + `user = "secrets:creds:user"
password = "secrets:creds:password"
`
	writeFile(t, dir, "good.conf", good)

	toolArgs := map[string][]string{
		"asbackup":  {"-o", "out.asb"},
		"asrestore": {"-i", "in.asb"},
	}
	for _, f := range saFaults {
		t.Run(f.name, func(t *testing.T) {
			bad.SetFault(f.fault, time.Second, "")
			addr := badAddr.String()
			if f.name == "unreachable" {
				addr = deadAddr
			}
			host, port, _ := net.SplitHostPort(addr)
			// The same agent in a configuration file.
			writeFile(t, dir, f.name+".conf", `
[secret-agent]
sa-address = "`+host+`"
sa-port = "`+port+`"
sa-timeout = 300
[asbackup]
namespace = "`+f.ref+`"
[asrestore]
namespace = "`+f.ref+`"
`)
			for _, tool := range []string{"asbackup", "asrestore"} {
				// Command line: the failing reference is -n.
				args := append([]string{"--config-file", "good.conf", "--sa-address", addr, "--sa-timeout", "300",
					"-n", f.ref, "--machine", "m.txt"}, toolArgs[tool]...)
				start := time.Now()
				r := runTool(t, tool, dir, nil, args...)
				elapsed := time.Since(start)
				want := append(logLines(f.lines...), "ERR: secret agent request failed err code: "+strconv.Itoa(f.code))
				checkFault(t, fx, tool+" (command line)", r, want)
				if f.name == "slow" && elapsed > 900*time.Millisecond {
					t.Errorf("%s: --sa-timeout 300 took %v", tool, elapsed)
				}
				if _, err := os.Stat(filepath.Join(dir, "m.txt")); err == nil {
					m, _ := os.ReadFile(filepath.Join(dir, "m.txt"))
					fx.assertNoSecret(t, tool+" --machine output", string(m))
				}

				// Configuration file: the [secret-agent] section names the
				// failing agent.
				r = runTool(t, tool, dir, nil, append([]string{"--only-config-file", f.name + ".conf"}, toolArgs[tool]...)...)
				want = append(want, "ERR: failed requesting secret: "+f.ref, "Parse error `` in file [0:"+f.name+".conf]")
				checkFault(t, fx, tool+" (configuration file)", r, want)
			}
		})
	}
}

// logLines prefixes client messages as the tools log them.
func logLines(lines ...string) []string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		out = append(out, "ERR: secret-agent: "+l)
	}
	return out
}

// checkFault checks exit code 1, the ERR lines (timestamps removed) and the
// absence of secret values.
func checkFault(t *testing.T, fx *secretFixture, what string, r toolRun, want []string) {
	t.Helper()
	if r.code != 1 {
		t.Errorf("%s: exit %d, want 1\n%s", what, r.code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("%s: unexpected stdout %q", what, r.stdout)
	}
	var got []string
	for _, l := range normalizeLog(r.stderr) {
		l = strings.Replace(l, "<TS> [ERR] [TID] ", "ERR: ", 1)
		got = append(got, l)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s: stderr\n%s\nwant\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	fx.assertNoSecret(t, what, r.output())
}

// TestSecretsNotInProcessList checks the command line of a running tool: it
// holds only the secrets: references, never a resolved value, and the
// environment holds none either.
func TestSecretsNotInProcessList(t *testing.T) {
	fx := newSecretFixture(t)
	dir := t.TempDir()
	// Slow replies keep the backup running after the secrets are fetched.
	fx.srv.Faults().SetReplyDelay(150 * time.Millisecond)
	defer fx.srv.Faults().Reset()
	before := len(fx.agent.Requests())
	cmd := toolCmd(t, "asbackup", dir, nil, "--sa-address", fx.agentAddr, "-h", fx.hostArg(), "--tls-enable", "--tls-cafile", "secrets:certs:cluster-ca",
		"--tls-certfile", "secrets:certs:client-cert", "--tls-keyfile", "secrets:certs:client-key", "-U", "secrets:creds:user", "--password=secrets:creds:password",
		"-n", "test", "-o", "ps.asb", "-y", "aes128", "--encryption-key-file", "secrets:keys:backup-key")
	var se bytes.Buffer
	cmd.Stderr = &se
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := strconv.Itoa(cmd.Process.Pid)
	if !waitFor(10*time.Second, func() bool { return len(fx.agent.Requests()) >= before+6 }) {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the tool did not fetch its secrets\n%s", se.String())
	}
	cmdline, err1 := os.ReadFile("/proc/" + pid + "/cmdline")
	environ, err2 := os.ReadFile("/proc/" + pid + "/environ")
	werr := cmd.Wait()
	if err1 != nil || err2 != nil {
		t.Fatalf("reading /proc/%s: %v %v (exit %v)", pid, err1, err2, werr)
	}
	if werr != nil {
		t.Fatalf("asbackup: %v\n%s", werr, se.String())
	}
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	if !strings.Contains(string(cmdline), "--password=secrets:creds:password") || len(args) < 10 {
		t.Fatalf("unexpected command line %q", args)
	}
	fx.assertNoSecret(t, "/proc/<pid>/cmdline", string(cmdline))
	fx.assertNoSecret(t, "/proc/<pid>/environ", string(environ))
	if strings.Contains(string(cmdline), fxUser) {
		t.Error("the resolved user name is in the command line")
	}
	fx.assertNoSecret(t, "stderr", se.String())
}
