package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"asbtools/secretagent/satest"
)

// TestSecretsAgentTLS talks to the agent over TLS: the agent's certificate
// must verify against --sa-cafile / sa-cafile. A certificate from another
// CA and a CA file without certificates are rejected with clear errors.
func TestSecretsAgentTLS(t *testing.T) {
	fx := newSecretFixture(t)
	dir := t.TempDir()
	want := snapshot(fx.srv, "test")

	agentPKI, err := satest.NewPKI("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	tlsAddr, err := fx.agent.ListenTLS("127.0.0.1:0", agentPKI.Cert)
	if err != nil {
		t.Fatal(err)
	}
	otherPKI, err := satest.NewPKI("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "sa-ca.pem", string(agentPKI.CAPEM))
	writeFile(t, dir, "other-ca.pem", string(otherPKI.CAPEM))
	writeFile(t, dir, "not-a-ca.pem", "just text\n")

	secured := func(ca string) []string {
		return []string{"--sa-address", tlsAddr.String(), "--sa-cafile", ca, "-h", fx.hostArg(), "--tls-enable", "--tls-cafile", "secrets:certs:cluster-ca",
			"--tls-certfile", "secrets:certs:client-cert", "--tls-keyfile", "secrets:certs:client-key", "-U", "secrets:creds:user", "-P", "secrets:creds:password",
			"-n", "secrets:namespace"}
	}
	bk := runTool(t, "asbackup", dir, nil, append(secured("sa-ca.pem"), "-o", "tls.asb", "-y", "aes256",
		"--encryption-key-file", "secrets:keys:backup-key")...)
	bk.mustSucceed(t, "asbackup over a TLS agent")
	fx.assertNoSecret(t, "asbackup output", bk.output())

	// Restore with the agent settings in a configuration file.
	rs := fx.restoreFromConf(t, dir, "tls", "sa-address = \""+tlsAddr.String()+"\"\nsa-cafile = \"sa-ca.pem\"\n", "aes256")
	rs.mustSucceed(t, "asrestore over a TLS agent")
	fx.assertNoSecret(t, "asrestore output", rs.output())
	assertSameRecords(t, want, snapshot(fx.srv, "test"))

	for _, tool := range []string{"asbackup", "asrestore"} {
		extra := []string{"-o", "x.asb"}
		if tool == "asrestore" {
			extra = []string{"-i", "tls.asb"}
		}
		// The agent's certificate is not signed by the given CA.
		r := runTool(t, tool, dir, nil, append(secured("other-ca.pem"), extra...)...)
		lines := normalizeLog(r.stderr)
		if r.code != 1 || len(lines) != 3 ||
			!strings.HasPrefix(lines[0], "<TS> [ERR] [TID] secret-agent: ERR: TLS handshake failed: ") ||
			!strings.Contains(lines[0], "agent certificate not signed by the configured CA") ||
			lines[1] != "<TS> [ERR] [TID] secret-agent: ERR: failed to wrap socket for tls" ||
			lines[2] != "<TS> [ERR] [TID] secret agent request failed err code: 3" {
			t.Errorf("%s with the wrong CA: exit %d\n%s", tool, r.code, r.stderr)
		}
		fx.assertNoSecret(t, tool+" output", r.output())

		// A CA file without a certificate.
		r = runTool(t, tool, dir, nil, append(secured("not-a-ca.pem"), extra...)...)
		if r.code != 1 || !strings.Contains(r.stderr, "secret-agent: ERR: unable to load ca certificate from ca_string") {
			t.Errorf("%s with a CA file without certificates: exit %d\n%s", tool, r.code, r.stderr)
		}
		// A missing CA file is refused before any secret is fetched.
		r = runTool(t, tool, dir, nil, append(secured("missing.pem"), extra...)...)
		if r.code != 1 || !strings.Contains(r.stderr, "[ERR] [") || !strings.Contains(r.stderr, "Invalid secret agent cafile missing.pem") {
			t.Errorf("%s with a missing CA file: exit %d\n%s", tool, r.code, r.stderr)
		}
		// Plain TCP to the TLS port: the reply is not a frame.
		r = runTool(t, tool, dir, nil, append([]string{"--sa-address", tlsAddr.String(), "--sa-timeout", "500", "-n", "secrets:namespace"}, extra...)...)
		if r.code != 1 || !strings.Contains(r.stderr, "secret agent request failed err code: ") {
			t.Errorf("%s speaking plain TCP to a TLS agent: exit %d\n%s", tool, r.code, r.stderr)
		}
	}
}

// TestSecretsAgentUnixSocket reaches the agent through a Unix domain socket
// given as "unix:<path>" on the command line and as an absolute path in a
// configuration file.
func TestSecretsAgentUnixSocket(t *testing.T) {
	fx := newSecretFixture(t)
	dir := t.TempDir()
	want := snapshot(fx.srv, "test")
	sock := filepath.Join(shortTempDir(t), "agent.sock")
	if err := fx.agent.ListenUnix(sock); err != nil {
		t.Fatal(err)
	}
	before := len(fx.agent.Requests())
	bk := runTool(t, "asbackup", dir, nil, "--sa-address", "unix:"+sock, "-h", fx.hostArg(), "--tls-enable", "--tls-cafile", "secrets:certs:cluster-ca",
		"--tls-certfile", "secrets:certs:client-cert", "--tls-keyfile", "secrets:certs:client-key", "-U", "secrets:creds:user", "-P", "secrets:creds:password",
		"-n", "secrets:namespace", "-o", "unix.asb", "-y", "aes128", "--encryption-key-file", "secrets:keys:backup-key")
	bk.mustSucceed(t, "asbackup through a Unix socket agent")
	if n := len(fx.agent.Requests()) - before; n != 7 {
		t.Errorf("agent saw %d requests, want 7", n)
	}

	rs := fx.restoreFromConf(t, dir, "unix", "sa-address = \""+sock+"\"\n", "aes128")
	rs.mustSucceed(t, "asrestore through a Unix socket agent")
	assertSameRecords(t, want, snapshot(fx.srv, "test"))
	fx.assertNoSecret(t, "outputs", bk.output()+rs.output())

	// A socket path where nothing listens.
	r := runTool(t, "asbackup", dir, nil, "--sa-address", sock+".missing", "-n", "secrets:namespace", "-o", "x.asb")
	if r.code != 1 || !strings.Contains(r.stderr, "secret-agent: ERR: connect failed: -1, errno: 2") ||
		!strings.Contains(r.stderr, "secret agent request failed err code: 3") {
		t.Errorf("missing socket: exit %d\n%s", r.code, r.stderr)
	}
}

// restoreFromConf empties namespace test and restores <name>.asb with every
// setting in the configuration file <name>.conf: the given [secret-agent]
// lines, and cluster credentials, TLS material, namespace and the key of
// the given cipher all as secrets.
func (fx *secretFixture) restoreFromConf(t *testing.T, dir, name, agent, cipher string) toolRun {
	t.Helper()
	writeFile(t, dir, name+".conf", `
[secret-agent]
`+agent+`[cluster]
host = "`+fx.hostArg()+`"
`+tlsConf+`user = "secrets:creds:user"
password = "secrets:creds:password"
[asrestore]
namespace = "secrets:namespace"
input-file = "`+name+`.asb"
encrypt = "`+cipher+`"
encryption-key-file = "secrets:keys:backup-key"
`)
	if err := fx.srv.Truncate("test", ""); err != nil {
		t.Fatal(err)
	}
	return runTool(t, "asrestore", dir, nil, "--only-config-file", name+".conf")
}
