package toolenv

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"asbtools/compat"
	"asbtools/logging"
	"asbtools/msg"
	"asbtools/secretagent/satest"
)

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfigSettings(t *testing.T) {
	agent := satest.NewServer(map[string]map[string]string{"c": {"ca": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "port": "3100"}})
	addr, err := agent.ListenTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	dir := t.TempDir()
	inc := write(t, dir, "inc.conf", "[asbackup]\nnamespace = \"inc\"\n")
	main := write(t, dir, "main.conf", `[secret-agent]
sa-address = "`+addr.String()+`"
[cluster]
port = "secrets:c:port"
tls-cafile = "secrets:c:ca"
tls-cert-blacklist = "x"
[include]
file = "`+inc+`"
`)
	var diag bytes.Buffer
	o := Options{EtcFile: filepath.Join(dir, "none"), HomeFile: filepath.Join(dir, "none2"), Stderr: &diag}
	got, err := o.LoadConfig(compat.ConfigLoadOptions{Tool: "asbackup", ConfigFile: main})
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, s := range got {
		v := s.Value
		if str, ok := v.(string); ok {
			v = strings.ReplaceAll(str, "\n", "|")
		}
		parts = append(parts, strings.Join([]string{s.Section, s.Key, fmt.Sprint(v), fmt.Sprint(s.Level), fmt.Sprint(s.Secret)}, " "))
	}
	want := []string{
		"secret-agent sa-address " + addr.String() + " 0 false",
		"cluster port 3100 0 true",
		"cluster tls-cafile -----BEGIN CERTIFICATE-----|AAAA|-----END CERTIFICATE-----| 0 true",
		"cluster tls-cert-blacklist x 0 false",
		"asbackup namespace inc 1 false",
	}
	if strings.Join(parts, "\n") != strings.Join(want, "\n") {
		t.Errorf("settings:\n%s\nwant:\n%s", strings.Join(parts, "\n"), strings.Join(want, "\n"))
	}
	// The deprecation warning is left to compat.
	if diag.Len() != 0 {
		t.Errorf("diagnostics printed: %q", diag.String())
	}
}

func TestLoadConfigDiagnosticsAndErrors(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "d/bad.conf", "[asbackup\n")
	main := write(t, dir, "main.conf", "[include]\ndirectory = \""+filepath.Join(dir, "d")+"\"\n")
	var diag bytes.Buffer
	o := Options{EtcFile: filepath.Join(dir, "none"), HomeFile: filepath.Join(dir, "none2"), Stderr: &diag}
	if _, err := o.LoadConfig(compat.ConfigLoadOptions{Tool: "asrestore", ConfigFile: main, OnlyConfigFile: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(diag.String(), "Parse error `line 1: ") || !strings.HasSuffix(diag.String(), "in file [1:"+filepath.Join(dir, "d")+"/bad.conf]\nSkipped .....\n") {
		t.Errorf("diagnostics: %q", diag.String())
	}

	// A fatal error keeps raw lines raw and log lines as ERR lines.
	bad := write(t, dir, "secret.conf", "[secret-agent]\nsa-address = \"127.0.0.1:1\"\n[asbackup]\nnamespace = \"secrets:x\"\n")
	_, err := o.LoadConfig(compat.ConfigLoadOptions{Tool: "asbackup", ConfigFile: bad, OnlyConfigFile: true})
	ce, ok := err.(*msg.Error)
	if !ok || ce.ExitCode() != 1 {
		t.Fatalf("want *msg.Error, got %T %v", err, err)
	}
	var lines []string
	for _, m := range ce.Lines {
		tag := "RAW"
		if m.Level == logging.Error {
			tag = "ERR"
		}
		// The descriptor number depends on what the test process
		// inherited (secretagent tests it).
		lines = append(lines, tag+" "+fdNumRE.ReplaceAllString(m.Text, "connect failed: N,"))
	}
	want := []string{
		"ERR secret-agent: ERR: connect failed: N, errno: 111",
		"ERR secret-agent: ERR: failed to create socket",
		"ERR secret agent request failed err code: 3",
		"ERR failed requesting secret: secrets:x",
		"RAW Parse error `` in file [0:" + bad + "]\n",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("error lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

var fdNumRE = regexp.MustCompile(`connect failed: [0-9]+,`)

func TestResolveSecret(t *testing.T) {
	agent := satest.NewServer(map[string]map[string]string{"r": {"k": "value\x00tail"}})
	addr, err := agent.ListenTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	host, port := "127.0.0.1", addr.String()[len("127.0.0.1:"):]
	sa := compat.SecretAgentConfig{Address: host, Port: port, Timeout: 1e9}
	v, err := ResolveSecret(sa, "secrets:r:k")
	if err != nil || string(v) != "value\x00tail" {
		t.Fatalf("got %q, %v", v, err)
	}
	_, err = ResolveSecret(sa, "secrets:r:missing")
	ce, ok := err.(*msg.Error)
	if !ok || len(ce.Lines) != 3 || ce.Lines[0].Text != "secret-agent: ERR: response: secret not found" ||
		ce.Lines[2].Text != "secret agent request failed err code: 1" {
		t.Fatalf("unknown secret: %T %v", err, err)
	}
	// TLS uses the CA content read at parse time, not the file.
	pki, err := satest.NewPKI("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	tlsAddr, err := agent.ListenTLS("127.0.0.1:0", pki.Cert)
	if err != nil {
		t.Fatal(err)
	}
	sa = compat.SecretAgentConfig{Address: host, Port: tlsAddr.String()[len("127.0.0.1:"):], Timeout: 1e9,
		CAFile: "/nonexistent/ca.pem", CAContent: pki.CAPEM, TLS: true}
	if v, err := ResolveSecret(sa, "secrets:r:k"); err != nil || string(v) != "value\x00tail" {
		t.Fatalf("TLS: got %q, %v", v, err)
	}
}

// TestValidCredentials checks the legacy client's limits on user names
// and passwords.
func TestValidCredentials(t *testing.T) {
	long := string(make([]byte, 64))
	if !validCredentials("u", "p") || !validCredentials("u", "") || !validCredentials(long[:63], long[:63]) {
		t.Error("valid credentials rejected")
	}
	if validCredentials("", "p") || validCredentials(long, "p") || validCredentials("u", long) {
		t.Error("invalid credentials accepted")
	}
}
