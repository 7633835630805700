package secretagent_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"asbtools/msg"
	"asbtools/secretagent"
	"asbtools/secretagent/satest"
)

const secretValue = "s3cr3t-Value!"

func start(t *testing.T) (*satest.Server, secretagent.Config) {
	t.Helper()
	srv := satest.NewServer(map[string]map[string]string{"res": {"ns": secretValue}, "": {"k": "plain"}})
	addr, err := srv.ListenTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	host, port, _ := net.SplitHostPort(addr.String())
	return srv, secretagent.Config{Address: host, Port: port, Timeout: 500 * time.Millisecond}
}

func TestParseRef(t *testing.T) {
	for in, want := range map[string][2]string{
		"secrets:ns2":    {"", "ns2"},
		"secrets:res:ns": {"res", "ns"},
		"secrets:a:b:c":  {"a:b", "c"},
		"secrets::k":     {"", "k"},
		"secrets:res:":   {"res", ""},
	} {
		r, k, err := secretagent.ParseRef(in)
		if err != nil || r != want[0] || k != want[1] {
			t.Errorf("%s: %q %q %v", in, r, k, err)
		}
	}
	if _, _, err := secretagent.ParseRef("secrets:"); err == nil || !strings.Contains(err.Error(), "empty secret key") {
		t.Errorf("empty: %v", err)
	}
	if secretagent.IsRef("Secrets:x") || !secretagent.IsRef("secrets:x") {
		t.Error("IsRef")
	}
}

func TestSplitAddress(t *testing.T) {
	for in, want := range map[string][3]string{
		"127.0.0.1:3005": {"127.0.0.1", "3005", "y"},
		"host":           {"host", "", ""},
		"[::1]:3006":     {"::1", "3006", "y"},
		"[::1]":          {"::1", "", ""},
		"::1":            {"::1", "", ""},
		"unix:/tmp/s":    {"unix:/tmp/s", "", ""},
	} {
		h, p, ok := secretagent.SplitAddress(in)
		if h != want[0] || p != want[1] || ok != (want[2] == "y") {
			t.Errorf("%s: %q %q %v", in, h, p, ok)
		}
	}
	c := secretagent.DefaultConfig()
	c.Port = "3006"
	c.ApplyAddress("127.0.0.1:3005", true)
	if c.Address != "127.0.0.1" || c.Port != "3006" {
		t.Errorf("explicit port: %+v", c)
	}
	c.ApplyAddress("h:4000", false)
	if c.Address != "h" || c.Port != "4000" {
		t.Errorf("split port: %+v", c)
	}
}

func TestResolveTCP(t *testing.T) {
	srv, cfg := start(t)
	c, err := secretagent.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.Resolve("secrets:res:ns")
	if err != nil || string(v) != secretValue {
		t.Fatalf("%q %v", v, err)
	}
	v, err = c.Resolve("secrets:k")
	if err != nil || string(v) != "plain" {
		t.Fatalf("%q %v", v, err)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || string(reqs[0].Body) != `{"Resource":"res","SecretKey":"ns"}` || string(reqs[1].Body) != `{"SecretKey":"k"}` {
		t.Errorf("requests %+v", reqs)
	}
	_, err = c.Resolve("secrets:res:missing")
	checkErr(t, err, secretagent.CodeBadRequest, "ERR: response: secret not found")
}

func checkErr(t *testing.T, err error, code int, first string) {
	t.Helper()
	var me *msg.Error
	var se *secretagent.RequestError
	if !errors.As(err, &me) || !errors.As(err, &se) {
		t.Fatalf("want *msg.Error caused by *RequestError, got %v", err)
	}
	// The legacy ERR lines: every client line prefixed, then the code.
	n := len(me.Lines)
	if se.Code != code || n < 2 || me.Lines[0] != msg.Err("secret-agent: "+first) ||
		me.Lines[n-1] != msg.Err(fmt.Sprintf("secret agent request failed err code: %d", code)) || me.ExitCode() != 1 {
		t.Errorf("got code %d lines %q (exit %d), want %d, first %q", se.Code, me.Error(), me.ExitCode(), code, first)
	}
	for _, l := range me.Lines[:n-1] {
		if !strings.HasPrefix(l.Text, "secret-agent: ERR: ") {
			t.Errorf("client line %q", l.Text)
		}
	}
	if strings.Contains(err.Error(), secretValue) || strings.Contains(se.Error(), secretValue) {
		t.Errorf("secret in error: %v", err)
	}
}

func TestFaults(t *testing.T) {
	srv, cfg := start(t)
	c, err := secretagent.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		f     satest.Fault
		code  int
		first string
	}{
		{satest.FaultSlow, secretagent.CodeTimeout, "ERR: socket poll timed out"},
		{satest.FaultGarbage, secretagent.CodeConnection, "ERR: bad magic - 48545450"},
		{satest.FaultBadJSON, secretagent.CodeBadRequest, "ERR: failed to parse response JSON (syntax error at byte 2)"},
		{satest.FaultOversized, secretagent.CodeConnection, "ERR: response too big - 102401"},
		{satest.FaultClose, secretagent.CodeConnection, "ERR: failed reading secret header: connection closed by agent"},
		{satest.FaultShortBody, secretagent.CodeConnection, "ERR: socket read failed: connection closed by agent"},
		{satest.FaultError, secretagent.CodeBadRequest, "ERR: response: agent is sad"},
		{satest.FaultNotBase64, secretagent.CodeBadRequest, "ERR: failed to base64-decode secret"},
	}
	for _, tc := range cases {
		srv.SetFault(tc.f, time.Second, "agent is sad")
		_, err := c.Resolve("secrets:res:ns")
		checkErr(t, err, tc.code, tc.first)
	}
}

func TestUnreachableAndBadConfig(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	c, _ := secretagent.NewClient(secretagent.Config{Address: "127.0.0.1", Port: port, Timeout: time.Second})
	_, err = c.Resolve("secrets:x")
	checkErr(t, err, secretagent.CodeConnection, fmt.Sprintf("ERR: connect failed: %d, errno: 111", secretagent.LegacySocketFD))
	c, _ = secretagent.NewClient(secretagent.Config{Address: "127.0.0.1", Port: "70000"})
	_, err = c.Resolve("secrets:x")
	checkErr(t, err, secretagent.CodeBadConfig, "ERR: port: 70000 is outside the valid port range 1 - 65535")
	_, err = secretagent.NewClient(secretagent.Config{Address: "127.0.0.1", Port: "1", CAFile: "/nonexistent/ca.pem"})
	checkErr(t, err, secretagent.CodeBadConfig, "ERR: failed to open /nonexistent/ca.pem")
	bad := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(bad, []byte("junk"), 0o644)
	_, err = secretagent.NewClient(secretagent.Config{Address: "127.0.0.1", Port: "1", CAFile: bad})
	checkErr(t, err, secretagent.CodeConnection, "ERR: unable to load ca certificate from ca_string")
}

func TestTLS(t *testing.T) {
	pki, err := satest.NewPKI("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	other, err := satest.NewPKI("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	srv := satest.NewServer(map[string]map[string]string{"res": {"ns": secretValue}})
	addr, err := srv.ListenTLS("127.0.0.1:0", pki.Cert)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	host, port, _ := net.SplitHostPort(addr.String())
	dir := t.TempDir()
	good := filepath.Join(dir, "ca.pem")
	wrong := filepath.Join(dir, "other.pem")
	os.WriteFile(good, pki.CAPEM, 0o644)
	os.WriteFile(wrong, other.CAPEM, 0o644)
	c, err := secretagent.NewClient(secretagent.Config{Address: host, Port: port, Timeout: 2 * time.Second, CAFile: good})
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.Resolve("secrets:res:ns")
	if err != nil || string(v) != secretValue {
		t.Fatalf("%q %v", v, err)
	}
	c, _ = secretagent.NewClient(secretagent.Config{Address: host, Port: port, Timeout: 2 * time.Second, CAFile: wrong})
	_, err = c.Resolve("secrets:res:ns")
	var se *secretagent.RequestError
	if !errors.As(err, &se) || se.Code != secretagent.CodeConnection || !strings.Contains(err.Error(), "not signed by the configured CA") {
		t.Fatalf("wrong CA accepted or unclear: %v", err)
	}
}

func TestUnixSocket(t *testing.T) {
	srv := satest.NewServer(map[string]map[string]string{"res": {"ns": secretValue}})
	path := filepath.Join(t.TempDir(), "sa.sock")
	if err := srv.ListenUnix(path); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, addr := range []string{"unix:" + path, path} {
		c, err := secretagent.NewClient(secretagent.Config{Address: addr, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		s, err := c.ResolveString("secrets:res:ns")
		if err != nil || s != secretValue {
			t.Fatalf("%s: %q %v", addr, s, err)
		}
	}
}
