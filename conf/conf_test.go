package conf

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"asbtools/logging"
	"asbtools/msg"
	"asbtools/secretagent/satest"
)

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// only loads a single file as --only-config-file.
func only(t *testing.T, tool, path, instance string) ([]Setting, *msg.Error, []Line) {
	t.Helper()
	var diag []Line
	s, err := Load(LoadOptions{Tool: tool, ConfigFile: path, OnlyConfigFile: true, Instance: instance,
		Diag: func(l Line) { diag = append(diag, l) }})
	if err == nil {
		return s, nil, diag
	}
	ce, ok := err.(*msg.Error)
	if !ok {
		t.Fatalf("not *msg.Error: %v", err)
	}
	return nil, ce, diag
}

func values(s []Setting) string {
	var parts []string
	for _, x := range s {
		parts = append(parts, x.Section+"."+x.Key+"="+strings.TrimSpace(strings.ReplaceAll(fmtValue(x.Value), "\n", " ")))
	}
	return strings.Join(parts, " ")
}

func fmtValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strings.TrimSpace(strings.Repeat(" ", 0) + itoa(x))
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	return "?"
}

func itoa(n int64) string {
	neg := n < 0
	u := uint64(n)
	if neg {
		u = uint64(-n)
	}
	var b []byte
	for {
		b = append([]byte{byte('0' + u%10)}, b...)
		u /= 10
		if u == 0 {
			break
		}
	}
	if neg {
		b = append([]byte{'-'}, b...)
	}
	return string(b)
}

func TestDefaultFileOrder(t *testing.T) {
	d := t.TempDir()
	etc := write(t, d, "etc.conf", "[asbackup]\nnamespace = \"etc\"\nset = \"a\"\n[cluster]\nhost = \"h1\"\n")
	home := write(t, d, "home.conf", "[asbackup]\nnamespace = \"home\"\nset = \"b\"\n")
	cf := write(t, d, "cf.conf", "[asbackup]\nset = \"'c,d'\"\nremove-files = false\n")
	s, err := Load(LoadOptions{Tool: "asbackup", EtcFile: etc, HomeFile: home, ConfigFile: cf})
	if err != nil {
		t.Fatal(err)
	}
	want := "cluster.host=h1 asbackup.namespace=etc asbackup.set=a asbackup.namespace=home asbackup.set=b asbackup.set='c,d' asbackup.remove-files=false"
	if got := values(s); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if s[0].File != etc || s[3].File != home || s[5].File != cf || s[5].Line != 2 {
		t.Errorf("locations: %+v", s)
	}
	// Set lists accumulate: a consumer appends every set setting.
	var sets []string
	for _, x := range s {
		if x.Key == "set" {
			l, err := ParseSetList(x.Value.(string))
			if err != nil {
				t.Fatal(err)
			}
			sets = append(sets, l...)
		}
	}
	if strings.Join(sets, "|") != "a|b|c,d" {
		t.Errorf("sets %q", sets)
	}
	// --only-config-file reads only that file; --no-config-file nothing;
	// a missing --config-file is skipped silently.
	s, err = Load(LoadOptions{Tool: "asbackup", EtcFile: etc, HomeFile: home, ConfigFile: cf, OnlyConfigFile: true})
	if err != nil || values(s) != "asbackup.set='c,d' asbackup.remove-files=false" {
		t.Errorf("only: %v %s", err, values(s))
	}
	s, err = Load(LoadOptions{Tool: "asbackup", EtcFile: etc, HomeFile: home, ConfigFile: cf, NoConfigFile: true})
	if err != nil || len(s) != 0 {
		t.Errorf("no-config-file: %v %v", err, s)
	}
	s, err = Load(LoadOptions{Tool: "asbackup", EtcFile: etc, HomeFile: filepath.Join(d, "nope"), ConfigFile: filepath.Join(d, "nope2")})
	if err != nil || values(s) != "cluster.host=h1 asbackup.namespace=etc asbackup.set=a" {
		t.Errorf("missing files: %v %s", err, values(s))
	}
}

func TestHomeFileDefault(t *testing.T) {
	t.Setenv("HOME", "/home/u")
	if got := DefaultHomeFile(); got != "/home/u/.aerospike/astools.conf" {
		t.Errorf("got %q", got)
	}
	t.Setenv("HOME", "/"+strings.Repeat("x", 200))
	if got := DefaultHomeFile(); len(got) != 126 {
		t.Errorf("not truncated: %d", len(got))
	}
	os.Unsetenv("HOME")
	if got := DefaultHomeFile(); got != "(null)/.aerospike/astools.conf" {
		t.Errorf("got %q", got)
	}
}

func TestSectionOrderAndInstance(t *testing.T) {
	d := t.TempDir()
	f := write(t, d, "a.conf", `
[include]
file = "`+write(t, d, "inc.conf", "[asbackup]\nnamespace = \"inc\"\n")+`"
[asbackup]
namespace = "plain"
[asbackup_x]
namespace = "inst"
[cluster]
host = "plainhost"
[cluster_x]
user = "u"
[secret-agent]
sa-timeout = 5
[secret-agent_x]
sa-timeout = 7
`)
	s, e, _ := only(t, "asbackup", f, "")
	if e != nil {
		t.Fatal(e)
	}
	if got := values(s); got != "secret-agent.sa-timeout=5 cluster.host=plainhost asbackup.namespace=plain asbackup.namespace=inc" {
		t.Errorf("no instance: %s", got)
	}
	s, e, _ = only(t, "asbackup", f, "x")
	if e != nil {
		t.Fatal(e)
	}
	if got := values(s); got != "secret-agent.sa-timeout=7 cluster.user=u asbackup.namespace=inst asbackup.namespace=inc" {
		t.Errorf("instance x: %s", got)
	}
	// Unknown instance: no cluster fallback, tool and secret-agent fall back.
	s, e, _ = only(t, "asbackup", f, "zz")
	if e != nil {
		t.Fatal(e)
	}
	if got := values(s); got != "secret-agent.sa-timeout=5 asbackup.namespace=plain asbackup.namespace=inc" {
		t.Errorf("instance zz: %s", got)
	}
	// Messages name the instance section even when the plain one is used.
	g := write(t, d, "b.conf", "[asbackup]\nbogus = 1\n")
	_, e, _ = only(t, "asbackup", g, "zz")
	if e == nil || msg.Raw(e.Lines) != "Unknown parameter `bogus` in `asbackup_zz` section\nParse error `` in file [0:"+g+"]\n" {
		t.Errorf("got %v", e)
	}
	// asrestore reads [asrestore], not [asbackup].
	s, e, _ = only(t, "asrestore", f, "")
	if e != nil || values(s) != "secret-agent.sa-timeout=5 cluster.host=plainhost" {
		t.Errorf("asrestore: %v %s", e, values(s))
	}
}

func TestErrorMessages(t *testing.T) {
	d := t.TempDir()
	cases := []struct {
		tool, body, want string // want uses F for the file path
	}{
		{"asbackup", "[cluster]\nport = \"3000\"\n", "Parse error `Invalid parameter value for `port` in `cluster` section.\n` in file [0:F]\n"},
		{"asbackup", "[cluster]\nhost = 12\n", "Parse error `Invalid parameter value for `host` in `cluster` section.\n` in file [0:F]\n"},
		{"asbackup", "[cluster]\nhosts = \"x\"\n", "Parse error `Unknown parameter `hosts` in `cluster` section.\n` in file [0:F]\n"},
		{"asbackup", "[cluster]\ntls-log-session-info = true\n", "Parse error `Unknown parameter `tls-log-session-info` in `cluster` section.\n` in file [0:F]\n"},
		{"asbackup", "[cluster]\nservices-alternate = true\n", "Parse error `Unknown parameter `services-alternate` in `cluster` section.\n` in file [0:F]\n"},
		{"asbackup", "[asbackup]\nconfig-file = \"x\"\n", "Unknown parameter `config-file` in `asbackup` section\nParse error `` in file [0:F]\n"},
		{"asbackup", "[asbackup]\ninstance = \"x\"\n", "Unknown parameter `instance` in `asbackup` section\nParse error `` in file [0:F]\n"},
		{"asbackup", "[asbackup]\nset = [\"a\"]\n", "Parse error `Invalid parameter value for `set` in `asbackup` section.\n` in file [0:F]\n"},
		{"asbackup", "[asbackup]\nparallel = 1.5\n", "Parse error `Invalid parameter value for `parallel` in `asbackup` section\n` in file [0:F]\n"},
		{"asbackup", "[asbackup]\nparallel = 0x10\n", "Parse error `Invalid parameter value for `parallel` in `asbackup` section\n` in file [0:F]\n"},
		{"asbackup", "[asbackup]\nparallel = 0\n", "Parse error `Invalid parameter value for `parallel` in `asbackup` section\n` in file [0:F]\n"},
		{"asbackup", "[asbackup]\nverbose = 1\n", "Parse error `Invalid parameter value for `verbose` in `asbackup` section\n` in file [0:F]\n"},
		{"asbackup", "[asbackup]\ncompress = \"ZSTD\"\n", "Parse error `Invalid parameter value for `compress` in `asbackup` section\n` in file [0:F]\n"},
		{"asbackup", "[asbackup]\nencrypt = \"aes512\"\n", "Parse error `Invalid parameter value for `encrypt` in `asbackup` section\n` in file [0:F]\n"},
		{"asbackup", "[asbackup]\nmodified-after = \"2020-1x-01\"\n", "Parse error `Invalid parameter value for `modified-after` in `asbackup` section\n` in file [0:F]\n"},
		{"asbackup", "[asbackup]\nnamespace = \"a\"\nnamespace = \"b\"\n", "Parse error `line 3: key namespace exists` in file [0:F]\n"},
		{"asbackup", "[asbackup\nnamespace = \"bar\"\n", "Parse error `line 1: invalid key` in file [0:F]\n"},
		{"asbackup", "[asbackup]\na.b = 1\n", "Parse error `line 2: bad key` in file [0:F]\n"},
		{"asbackup", "[secret-agent]\nsa-port = 3005\n", "Parse error `Invalid parameter value for `sa-port` in `secret-agent` section\n` in file [0:F]\n"},
		{"asbackup", "[secret-agent]\nsa-bogus = 1\n", "Unknown parameter `sa-bogus` in `secret-agent` section\nParse error `` in file [0:F]\n"},
		{"asbackup", "[secret-agent]\nsa-timeout = [1]\n", "Parse error `Invalid parameter value for `sa-timeout` in `secret-agent` section.\n` in file [0:F]\n"},
		{"asbackup", "[secret-agent]\nsa-cafile = \"/nonexistent/ca.pem\"\n", "Parse error `Invalid parameter value for `sa-cafile` in `secret-agent` section\n` in file [0:F]\n"},
		{"asbackup", "[include]\nbogus = \"x\"\n", "Unknown parameter `bogus` in `include` section.\nParse error `` in file [0:F]\n"},
		{"asbackup", "[include]\ndirectory = \"/nonexistent/dir\"\n", "Failed to open directory /nonexistent/dir\nParse error `` in file [0:F]\n"},
		{"asrestore", "[asrestore]\nparallel = 4097\n", "Parse error `Invalid parameter value for `parallel` in `asrestore` section\n` in file [0:F]\n"},
		{"asrestore", "[asrestore]\nthreads = 0\n", "Parse error `Invalid parameter value for `threads` in `asrestore` section\n` in file [0:F]\n"},
		{"asrestore", "[asrestore]\nbandwidth = -1\n", "Parse error `Invalid parameter value for `bandwidth` in `asrestore` section\n` in file [0:F]\n"},
		{"asrestore", "[asrestore]\nset = \"x\"\n", "Unknown parameter `set` in `asrestore` section\nParse error `` in file [0:F]\n"},
	}
	for i, c := range cases {
		f := write(t, d, "e"+itoa(int64(i))+".conf", c.body)
		_, e, _ := only(t, c.tool, f, "")
		want := strings.ReplaceAll(c.want, "[0:F]", "[0:"+f+"]")
		if e == nil {
			t.Errorf("%q: no error", c.body)
			continue
		}
		if msg.Raw(e.Lines) != want {
			t.Errorf("%q:\n got %q\nwant %q", c.body, msg.Raw(e.Lines), want)
		}
	}
}

func TestErrLogLines(t *testing.T) {
	d := t.TempDir()
	f := write(t, d, "a.conf", "[asbackup]\nset = \"'abc\"\n")
	_, e, _ := only(t, "asbackup", f, "")
	if e == nil || len(e.Lines) != 2 || e.Lines[0].Level != logging.Error || e.Lines[0].Text != "Missing terminating ' in set name" {
		t.Fatalf("set list: %+v", e)
	}
	f = write(t, d, "b.conf", "[asbackup]\ns3-log-level = \"loud\"\n")
	_, e, _ = only(t, "asbackup", f, "")
	if e == nil || e.Lines[0].Text != `Invalid S3 log level "loud"` || e.Lines[0].Level != logging.Error {
		t.Fatalf("s3: %+v", e)
	}
	f = write(t, d, "c.conf", "[asbackup]\nencryption-key-file = \"/nonexistent.pem\"\n")
	_, e, _ = only(t, "asbackup", f, "")
	if e == nil || e.Lines[0].Text != `Could not open private key file "/nonexistent.pem"` {
		t.Fatalf("key: %+v", e)
	}
	f = write(t, d, "d.conf", "[asbackup]\nencryption-key-env = \"ASB_CONF_TEST_UNSET\"\n")
	_, e, _ = only(t, "asbackup", f, "")
	if e == nil || e.Lines[0].Text != "No environment variable \"ASB_CONF_TEST_UNSET\" found\n" {
		t.Fatalf("env: %+v", e)
	}
}

func TestTypedValues(t *testing.T) {
	d := t.TempDir()
	f := write(t, d, "a.conf", `[cluster]
PORT = +0
port = 1_000
[asbackup]
NameSpace = "`+strings.Repeat("n", 40)+`"
records-per-second = 4294967297
max-records = -5
parallel = 500
compress = 'zstd'
directory = """
/tmp/x"""
modified-after = "2020-13-45"
no-bins = true
`)
	s, e, _ := only(t, "asbackup", f, "")
	if e != nil {
		t.Fatal(e)
	}
	// Values are returned as written; the tool's registry truncates them
	// (namespace to 31 bytes, 32-bit keys to 32 bits) when applying them.
	want := "cluster.port=0 cluster.port=1000 asbackup.namespace=" + strings.Repeat("n", 40) +
		" asbackup.records-per-second=4294967297 asbackup.max-records=-5 asbackup.parallel=500 asbackup.compress=zstd asbackup.directory=/tmp/x asbackup.modified-after=2020-13-45 asbackup.no-bins=true"
	if got := values(s); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	for _, bad := range []string{"010", "1e3", "-0x5", "9223372036854775808"} {
		g := write(t, d, "b.conf", "[cluster]\nport = "+bad+"\n")
		if _, e, _ := only(t, "asbackup", g, ""); e == nil {
			t.Errorf("port = %s accepted", bad)
		}
	}
}

func TestEncryptionKeySources(t *testing.T) {
	d := t.TempDir()
	key, err := os.ReadFile("../test/golden/cli/files/key.pem")
	if err != nil {
		t.Fatal(err)
	}
	kp := write(t, d, "key.pem", string(key))
	t.Setenv("ASB_CONF_KEY", base64.StdEncoding.EncodeToString([]byte("0123456789abcdef")))
	a := write(t, d, "a.conf", "[asbackup]\nencryption-key-file = \""+kp+"\"\n")
	b := write(t, d, "b.conf", "[asbackup]\nencryption-key-env = \"ASB_CONF_KEY\"\n")
	s, err := Load(LoadOptions{Tool: "asbackup", EtcFile: a, HomeFile: filepath.Join(d, "none")})
	if err != nil || values(s) != "asbackup.encryption-key-file="+kp {
		t.Fatalf("%v %s", err, values(s))
	}
	_, err = Load(LoadOptions{Tool: "asbackup", EtcFile: a, HomeFile: b})
	e, ok := err.(*msg.Error)
	if !ok || msg.Raw(e.Lines) != "Cannot specify both encryption-key-file and encryption-key-env\nParse error `` in file [0:"+b+"]\n" {
		t.Fatalf("second key: %v", err)
	}
	bad := write(t, d, "bad.pem", "not a key\n")
	c := write(t, d, "c.conf", "[asrestore]\nencryption-key-file = \""+bad+"\"\n")
	_, e, _ = only(t, "asrestore", c, "")
	if e == nil || e.Lines[0].Text != "Unable to parse private key, make sure the key is in PEM format" {
		t.Fatalf("bad pem: %+v", e)
	}
}

func TestIncludes(t *testing.T) {
	d := t.TempDir()
	write(t, d, "conf.d/1.conf", "[asbackup]\nnamespace = \"one\"\n")
	bad := write(t, d, "conf.d/2.conf", "[asbackup]\ndirectory = \"dd\"\nbogus = 1\n")
	write(t, d, "conf.d/sub/3.conf", "[asbackup]\nset = \"s3\"\n")
	top := write(t, d, "top.conf", "[asbackup]\nnamespace = \"top\"\n[include]\ndirectory = \""+filepath.Join(d, "conf.d")+"\"\n")
	s, e, diag := only(t, "asbackup", top, "")
	if e != nil {
		t.Fatal(e)
	}
	if got := values(s); got != "asbackup.namespace=top asbackup.namespace=one asbackup.directory=dd asbackup.set=s3" {
		t.Errorf("got %s", got)
	}
	var out strings.Builder
	for _, l := range diag {
		out.WriteString(l.Text)
	}
	if want := "Unknown parameter `bogus` in `asbackup` section\nParse error `` in file [1:" + bad + "]\nSkipped .....\n"; out.String() != want {
		t.Errorf("diag %q\nwant %q", out.String(), want)
	}
	// An error in a file include is fatal and reported at every level.
	inc := write(t, d, "inc.conf", "[asbackup]\nparallel = \"x\"\n")
	top2 := write(t, d, "top2.conf", "[include]\nfile = \""+inc+"\"\nfile2 = 1\n")
	_, e, _ = only(t, "asbackup", top2, "")
	if e == nil || msg.Raw(e.Lines) != "Parse error `Invalid parameter value for `parallel` in `asbackup` section\n` in file [1:"+inc+"]\nParse error `` in file [0:"+top2+"]\n" {
		t.Errorf("file include: %v", e)
	}
	// A missing include file is skipped.
	top3 := write(t, d, "top3.conf", "[include]\nfile = \""+filepath.Join(d, "missing")+"\"\n")
	if _, e, _ = only(t, "asbackup", top3, ""); e != nil {
		t.Errorf("missing include: %v", e)
	}
	// Nesting: level 4 fails.
	for i := 0; i < 5; i++ {
		write(t, d, "n"+itoa(int64(i))+".conf", "[include]\nfile = \""+filepath.Join(d, "n"+itoa(int64(i+1))+".conf")+"\"\n")
	}
	_, e, _ = only(t, "asbackup", filepath.Join(d, "n0.conf"), "")
	want := "include max recursion level 4Parse error `` in file [4:" + filepath.Join(d, "n4.conf") + "]\n"
	for lvl := 3; lvl >= 0; lvl-- {
		want += "Parse error `` in file [" + itoa(int64(lvl)) + ":" + filepath.Join(d, "n"+itoa(int64(lvl))+".conf") + "]\n"
	}
	if e == nil || msg.Raw(e.Lines) != want {
		t.Errorf("nesting:\n got %q\nwant %q", msg.Raw(e.Lines), want)
	}
}

func TestDeprecatedKeys(t *testing.T) {
	d := t.TempDir()
	f := write(t, d, "a.conf", "[cluster]\ntls-cert-blacklist = \"x\"\n[asrestore]\nretry-delay = 5\n")
	s, e, diag := only(t, "asrestore", f, "")
	if e != nil {
		t.Fatal(e)
	}
	if values(s) != "cluster.tls-cert-blacklist=x asrestore.retry-delay=5" {
		t.Errorf("got %s", values(s))
	}
	// The deprecation warnings are printed by the tool when it applies the
	// settings (package compat), in file order, not by the reader.
	if len(diag) != 0 {
		t.Errorf("diag %+v", diag)
	}
}

func TestSecretAgentSection(t *testing.T) {
	d := t.TempDir()
	f := write(t, d, "a.conf", "[secret-agent]\nsa-address = \"10.0.0.5:3006\"\nsa-timeout = 2000\n")
	s, e, _ := only(t, "asbackup", f, "")
	// The settings are returned as written; the address is split when they
	// are applied (and when they resolve the file's secrets, see
	// TestConfigSecrets).
	if e != nil || values(s) != "secret-agent.sa-address=10.0.0.5:3006 secret-agent.sa-timeout=2000" {
		t.Errorf("%v %s", e, values(s))
	}
	f = write(t, d, "b.conf", "[secret-agent]\nsa-address = \"10.0.0.5:3006\"\nsa-port = \"4000\"\n")
	s, e, _ = only(t, "asbackup", f, "")
	if e != nil || values(s) != "secret-agent.sa-address=10.0.0.5:3006 secret-agent.sa-port=4000" {
		t.Errorf("%v %s", e, values(s))
	}
}

func TestConfigSecrets(t *testing.T) {
	srv := satest.NewServer(map[string]map[string]string{
		"cfg": {"ns": "secretns", "port": "3100", "tls": "true"},
		"":    {"pw": "hunter2"},
	})
	addr, err := srv.ListenTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	d := t.TempDir()
	f := write(t, d, "a.conf", `[secret-agent]
sa-address = "`+addr.String()+`"
[cluster]
port = "secrets:cfg:port"
password = "secrets:pw"
tls-enable = "secrets:cfg:tls"
[asbackup]
namespace = "secrets:cfg:ns"
`)
	s, e, _ := only(t, "asbackup", f, "")
	if e != nil {
		t.Fatal(e)
	}
	if got := values(s)[strings.Index(values(s), "cluster."):]; got != "cluster.port=3100 cluster.password=hunter2 cluster.tls-enable=true asbackup.namespace=secretns" {
		t.Errorf("got %s", got)
	}
	for _, x := range s[2:] {
		if !x.Secret {
			t.Errorf("%s not marked secret", x.Key)
		}
	}
	g := write(t, d, "b.conf", "[secret-agent]\nsa-address = \""+addr.String()+"\"\n[asbackup]\nnamespace = \"secrets:cfg:nope\"\n")
	_, e, _ = only(t, "asbackup", g, "")
	if e == nil {
		t.Fatal("missing secret accepted")
	}
	var logs []string
	for _, l := range e.Lines {
		if l.Level == logging.Error {
			logs = append(logs, l.Text)
		}
	}
	want := []string{"secret-agent: ERR: response: secret not found", "secret-agent: ERR: unable to fetch secret",
		"secret agent request failed err code: 1", "failed requesting secret: secrets:cfg:nope"}
	if strings.Join(logs, "|") != strings.Join(want, "|") || msg.Raw(e.Lines) != "Parse error `` in file [0:"+g+"]\n" {
		t.Errorf("got %q / %q", logs, msg.Raw(e.Lines))
	}
	if strings.Contains(e.Error(), "secretns") || strings.Contains(e.Error(), "hunter2") {
		t.Error("secret leaked")
	}
}

func TestParseSetList(t *testing.T) {
	got, err := ParseSetList(`'a,b',c,"d"`)
	if err != nil || strings.Join(got, "|") != "a,b|c|d" {
		t.Errorf("%q %v", got, err)
	}
	for in, msg := range map[string]string{
		"'abc":                                "Missing terminating ' in set name",
		strings.Repeat("x", 64):               "Set name must be no longer than 63 characters",
		"'a'b":                                "Require ',' to delineate set names",
		"\"" + strings.Repeat("y", 64) + "\"": "Set name must be no longer than 63 characters",
	} {
		if _, err := ParseSetList(in); err == nil || err.Error() != msg {
			t.Errorf("%q: %v", in, err)
		}
	}
}
