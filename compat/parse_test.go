package compat

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"asbtools/logging"
	"asbtools/msg"
)

// testEnv returns an Env with the given settings as the only configuration,
// secrets from a map (the Secret Agent configuration used is recorded), and
// files under dir.
type secretCall struct {
	sa  SecretAgentConfig
	ref string
}

func testEnv(t *testing.T, settings []ConfigSetting, secrets map[string]string, calls *[]secretCall) Env {
	dir := t.TempDir()
	return Env{
		LoadConfig: func(ConfigLoadOptions) ([]ConfigSetting, error) { return settings, nil },
		ResolveSecret: func(sa SecretAgentConfig, ref string) ([]byte, error) {
			if calls != nil {
				*calls = append(*calls, secretCall{sa, ref})
			}
			v, ok := secrets[ref]
			if !ok {
				return nil, errors.New("ERR: response: no such secret")
			}
			return []byte(v), nil
		},
		LookupEnv: func(k string) (string, bool) {
			v, ok := map[string]string{"KEY": "MDEyMzQ1Njc4OWFiY2RlZg==", "EMPTY": ""}[k]
			return v, ok
		},
		ReadFile: func(p string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, p)) },
		Location: time.UTC,
		Now:      func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
	}
}

func backupOK(t *testing.T, env Env, args ...string) *BackupConfig {
	t.Helper()
	c, a, err := ParseBackup(append([]string{"asbackup"}, args...), env)
	if err != nil || a != ActionRun {
		t.Fatalf("ParseBackup(%q): %v %v", args, a, err)
	}
	return c
}

func backupErr(t *testing.T, env Env, args ...string) string {
	t.Helper()
	_, a, err := ParseBackup(append([]string{"asbackup"}, args...), env)
	if err == nil || a != ActionFail {
		t.Fatalf("ParseBackup(%q) succeeded", args)
	}
	return err.Error()
}

func TestBackupValidationOrder(t *testing.T) {
	env := testEnv(t, nil, nil, nil)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-o", "x"}, "Please specify a namespace (-n option)"},
		{[]string{"-n", "ns", "-s", "a,b", "-f", "kxGRAQ==", "-o", "x"}, "Multi-set backup and filter-exp are mutually exclusive"},
		{[]string{"-n", "ns", "-f", "e", "-a", "2020-01-01", "-o", "x"}, "--filter-exp is mutually exclusive with --modified-after, --modified-before, and --no-ttl-only"},
		{[]string{"-n", "ns", "--compression-level", "3", "-o", "x"}, "Cannot set compression level without compression enabled"},
		{[]string{"-n", "ns", "--encryption-key-env", "KEY", "-o", "x"}, "Must specify both encryption mode and a private key file/environment variable"},
		{[]string{"-n", "ns", "-d", "d", "-o", "x"}, "Invalid options: --directory, --output-file, and --estimate are mutually exclusive."},
		{[]string{"-n", "ns"}, "Please specify a directory (-d), an output file (-o), or make an estimate (-e)."},
		{[]string{"--remove-artifacts"}, "Please specify a directory (-d), an output file (-o), or make an estimate (-e)."},
		{[]string{"-n", "ns", "-e", "-R"}, "Invalid options: -e and -R are mutually exclusive."},
		{[]string{"-n", "ns", "-e", "-w", "1"}, "Estimate cannot be parallelized, don't set --parallel."},
		{[]string{"-n", "ns", "-o", "x", "-X", "0", "-D", "d"}, "after-digest and partition-list arguments are mutually exclusive"},
		{[]string{"-n", "ns", "-o", "x", "-l", "1.2.3.4:3000", "-D", "d"}, "node-list is mutually exclusive with after-digest and partition-list"},
		{[]string{"-n", "ns", "-e", "-c", "s"}, "--continue and --estimate arguments are mutually exclusive"},
		{[]string{"-n", "ns", "-o", "x", "-c", "s", "-r"}, "--continue and --remove-files arguments are mutually exclusive"},
		{[]string{"-n", "ns", "-o", "x", "-c", "s", "--remove-artifacts"}, "--continue and --remove-artifacts arguments are mutually exclusive"},
		{[]string{"-n", "ns", "-e", "--remove-artifacts"}, "--estimate and --remove-artifacts arguments are mutually exclusive"},
		{[]string{"-n", "ns", "-o", "x", "--s3-min-part-size", "5121"}, "S3 minimum part size must be between 5 MB and 5 GB (5120 MB)"},
	}
	for _, tc := range tests {
		if got := backupErr(t, env, tc.args...); got != tc.want {
			t.Errorf("%q: got %q want %q", tc.args, got, tc.want)
		}
	}
}

func TestBackupParseErrors(t *testing.T) {
	env := testEnv(t, nil, nil, nil)
	tests := map[string][]string{
		"Invalid port value 0":                          {"-p", "0"},
		"Invalid file limit value 0":                    {"-F", "0"},
		"Invalid estimate-samples value 4294967296":     {"--estimate-samples", "4294967296"},
		"Invalid records-per-second value -1":           {"-L", "-1"},
		"Invalid parallelism value 101":                 {"-w", "101"},
		`Invalid compression type "ZSTD"`:               {"-z", "ZSTD"},
		"Invalid compression-level value 2147483648":    {"--compression-level", "2147483648"},
		`Invalid encryption type "aes"`:                 {"-y", "aes"},
		"Invalid max-records value x":                   {"-M", "x"},
		"Invalid bandwidth value 0":                     {"-N", "0"},
		"Invalid socket timeout value -1":               {"--socket-timeout", "-1"},
		"Invalid total timeout value 4294967296":        {"--total-timeout", "4294967296"},
		"Invalid max retries value x":                   {"--max-retries", "x"},
		"Invalid retry delay value x":                   {"--retry-delay", "x"},
		"Invalid S3 min part size value 0":              {"--s3-min-part-size", "0"},
		"Invalid S3 max async uploads value 0":          {"--s3-max-async-uploads", "0"},
		"Invalid S3 max async downloads value 0":        {"--s3-max-async-downloads", "0"},
		`Invalid S3 log level "loud"`:                   {"--s3-log-level", "loud"},
		"Invalid S3 connect timeout value -1":           {"--s3-connect-timeout", "-1"},
		"Invalid secret agent timeout value 2147483648": {"--sa-timeout", "2147483648"},
		"asbackup: unrecognized option '--tls-crl-checkall'\nasbackup: unrecognized option '--tls-crl-checkall'\nRun with --help for usage information and flag options": {"--tls-crl-checkall"},
		"Run with --help for usage information and flag options":   {"--tlsEncryptOnly"},
		"Unexpected trailing argument b":                           {"-n", "x", "-o", "y", "--", "b"},
		"No environment variable \"NOPE\" found":                   {"--encryption-key-env", "NOPE"},
		"Unable to decode enviroment variable \"EMPTY\" as base64": {"--encryption-key-env", "EMPTY"},
	}
	for want, args := range tests {
		if got := backupErr(t, env, args...); got != want {
			t.Errorf("%q: got %q want %q", args, got, want)
		}
	}
}

func TestBackupValues(t *testing.T) {
	env := testEnv(t, nil, nil, nil)
	c := backupOK(t, env, "-h", "h1,h2", "-p", "4000", "-n", strings.Repeat("n", 40), "-s", "a", "-s", "'b,c'",
		"-d", "dir", "-F", "2", "-w", "8", "-z", "zstd", "--compression-level", "-5", "-y", "aes256",
		"--encryption-key-env", "KEY", "-N", "3", "-a", "2020-01-01", "--socket-timeout", "0",
		"-U", "u", "-Ppw", "-A", "pki", "--tls-name", "tn", "-L", "10", "-M", "5", "--prefer-racks", "1,2")
	switch {
	case c.Cluster.Host != "h1,h2" || c.Cluster.Port != 4000 || c.Cluster.User != "u" || c.Cluster.Password != "pw":
		t.Errorf("cluster %+v", c.Cluster)
	case c.Namespace != strings.Repeat("n", 31):
		t.Errorf("namespace %q", c.Namespace)
	case !reflect.DeepEqual(c.Sets, []string{"a", "b,c"}):
		t.Errorf("sets %q", c.Sets)
	case c.Output != OutputDirectory || c.FileLimit != 2<<20 || c.Parallel != 8 || c.EffectiveParallel() != 8:
		t.Errorf("output %+v", c)
	case c.Compress != CompressZstd || c.CompressionLevel != -5 || c.Encrypt != EncryptAES256:
		t.Errorf("compression %+v", c)
	case c.Key == nil || c.Key.Source != KeyFromEnv || string(c.Key.Material) != "0123456789abcdef":
		t.Errorf("key %+v", c.Key)
	case c.Bandwidth != 3<<20 || c.SocketTimeout != 0 || c.TotalTimeout != 0 || c.MaxRetries != 5:
		t.Errorf("limits %+v", c)
	case !c.ModifiedAfter.Equal(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) || !c.ModifiedBefore.IsZero():
		t.Errorf("dates %v %v", c.ModifiedAfter, c.ModifiedBefore)
	case c.RecordsPerSecond != 10 || c.MaxRecords != 5 || c.PreferRacks.Value != "1,2":
		t.Errorf("misc %+v", c)
	}
	if c := backupOK(t, env, "-n", "x", "-o", "-", "-l", "1.2.3.4:3000"); c.EffectiveParallel() != 16 || c.Output != OutputFile {
		t.Errorf("node list parallel %d", c.EffectiveParallel())
	}
	if c := backupOK(t, env, "-n", "x", "-e", "-M", "3", "-X", "1"); len(c.Messages) != 2 || c.Messages[0].Level != logging.Info {
		t.Errorf("estimate warnings %+v", c.Messages)
	}
	c = backupOK(t, env, "--remove-artifacts", "-d", "x")
	if c.Namespace != "" || !c.RemoveArtifacts || c.Cluster.Port != 3000 {
		t.Errorf("remove artifacts %+v", c)
	}
}

func TestPasswordOptions(t *testing.T) {
	secrets := map[string]string{"secrets:pw": "fromagent"}
	env := testEnv(t, nil, secrets, nil)
	tests := []struct {
		args []string
		pw   string
	}{
		{nil, PromptSentinel},
		{[]string{"-P"}, PromptSentinel},
		{[]string{"-P", "-v"}, PromptSentinel},
		{[]string{"-P", "plain"}, "plain"},
		{[]string{"--password", "plain"}, "plain"},
		{[]string{"--password="}, ""},
		{[]string{"-Pattached"}, "attached"},
		{[]string{"-P", "secrets:pw"}, "fromagent"},
		{[]string{"--password=secrets:pw"}, "fromagent"},
	}
	for _, tc := range tests {
		args := append([]string{"-n", "x", "-o", "y", "-U", "u"}, tc.args...)
		c := backupOK(t, env, args...)
		if c.Cluster.Password != tc.pw {
			t.Errorf("%q: password %q", tc.args, c.Cluster.Password)
		}
	}
	c := backupOK(t, env, "-n", "x", "-o", "y", "-U", "u", "-P")
	prompted := ""
	user, pw, err := c.Cluster.Credentials(func(p string) (string, error) { prompted = p; return "typed", nil })
	if err != nil || user != "u" || pw != "typed" || prompted != "Enter Password: " {
		t.Errorf("credentials %q %q %v %q", user, pw, err, prompted)
	}
	c = backupOK(t, env, "-n", "x", "-o", "y", "--tls-keyfile", "k.pem", "--tls-keyfile-password")
	pw, ok, err := c.Cluster.TLS.ReadTLSKeyPassword(func(p string) (string, error) { prompted = p; return "env:TLSPW", nil },
		Env{LookupEnv: func(string) (string, bool) { return "kp", true }})
	if err != nil || !ok || pw != "kp" || prompted != "Enter TLS-Keyfile Password: " {
		t.Errorf("tls pw %q %v %v %q", pw, ok, err, prompted)
	}
	// The legacy getpass without a terminal reads a line from stdin.
	line, err := ReadPasswordLine("Enter Password: ", strings.NewReader("secret\nrest"), nil)
	if err != nil || line != "secret" {
		t.Errorf("getpass fallback %q %v", line, err)
	}
	if line, _ := ReadPasswordLine("p", strings.NewReader(""), nil); line != "" {
		t.Errorf("getpass at EOF %q", line)
	}
}

func TestTLSKeyPasswordSources(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good, empty, long := write("good", "pw\r\nx"), write("empty", "\n"), write("long", strings.Repeat("a", 5000))
	env := Env{LookupEnv: func(k string) (string, bool) {
		v, ok := map[string]string{"E": "", "P": "envpw"}[k]
		return v, ok
	}}
	tests := map[string]string{
		"env:P": "envpw", "file:" + good: "pw", "literal": "literal",
		"env:NONE":              "missing TLS key password environment variable NONE\n",
		"env:E":                 "empty TLS key password environment variable E\n",
		"file:" + dir + "/nope": "missing TLS key password file " + dir + "/nope\n",
		"file:" + empty:         "empty TLS key password file " + empty + "\n",
		"file:" + long:          "TLS key password in file " + long + " too long\n",
	}
	for in, want := range tests {
		cfg := TLSConfig{KeyFile: Opt{"k", true}, KeyFilePassword: Opt{in, true}}
		pw, _, err := cfg.ReadTLSKeyPassword(nil, env)
		got := pw
		if err != nil {
			got = err.(*msg.Error).Lines[0].Text
		}
		if got != want {
			t.Errorf("%q: got %q want %q", in, got, want)
		}
	}
	if _, ok, _ := (&TLSConfig{KeyFilePassword: Opt{"x", true}}).ReadTLSKeyPassword(nil, env); ok {
		t.Error("password used without key file")
	}
}

func TestSecretsOnCommandLine(t *testing.T) {
	var calls []secretCall
	secrets := map[string]string{"secrets:ns": "bar", "secrets:r:ca": "PEMDATA", "secrets:port": "4000", "secrets:nul": "a\x00b"}
	env := testEnv(t, nil, secrets, &calls)
	c := backupOK(t, env, "--sa-address", "10.0.0.5:3006", "--sa-timeout", "50", "-n", "secrets:ns", "-o", "x",
		"--tls-cafile", "secrets:r:ca", "--tls-certfile", "c.pem", "-p", "secrets:port", "-U", "secrets:nul")
	if c.Namespace != "bar" || string(c.Cluster.TLS.CAFileContent) != "PEMDATA" || c.Cluster.TLS.CAFile.Set ||
		c.Cluster.TLS.CertFile.Value != "c.pem" || c.Cluster.Port != 4000 || c.Cluster.User != "a" {
		t.Errorf("config %+v", c.Cluster)
	}
	if len(calls) != 4 || calls[0].sa.Address != "10.0.0.5" || calls[0].sa.Port != "3006" || calls[0].sa.Timeout != 50*time.Millisecond {
		t.Errorf("calls %+v", calls)
	}
	// Secret failures never show the value; configuration-file options are
	// taken literally.
	got := backupErr(t, env, "-n", "secrets:missing", "-o", "x")
	if got != "secret-agent: ERR: response: no such secret\nsecret agent request failed err code: 1" {
		t.Errorf("failure %q", got)
	}
	if got := backupErr(t, env, "-n", "secrets:"); got != "secret-agent: ERR: empty secret key\nsecret agent request failed err code: 1" {
		t.Errorf("empty key %q", got)
	}
	calls = nil
	backupOK(t, env, "--instance", "secrets:x", "-n", "a", "-o", "x")
	if len(calls) != 0 {
		t.Errorf("literal option resolved: %+v", calls)
	}
}

func TestSecretAgentAddressSplit(t *testing.T) {
	tests := []struct {
		addr, port       string
		explicit         bool
		wantAddr, wantPt string
	}{
		{"127.0.0.1", "3005", false, "127.0.0.1", "3005"},
		{"h:3006", "3005", false, "h", "3006"},
		{"h:3006", "3007", true, "h", "3007"},
		{"[::1]:3006", "3005", false, "::1", "3006"},
		{"[::1]", "3005", false, "::1", "3005"},
	}
	for _, tc := range tests {
		sa := SecretAgentConfig{Address: tc.addr, Port: tc.port}
		splitSAAddress(&sa, tc.explicit)
		if sa.Address != tc.wantAddr || sa.Port != tc.wantPt {
			t.Errorf("%q/%q: %q %q", tc.addr, tc.port, sa.Address, sa.Port)
		}
	}
}

func set(section, key string, v any) ConfigSetting {
	return ConfigSetting{Section: section, Key: key, Value: v, File: "f.conf", Line: 1}
}

func TestConfigSettings(t *testing.T) {
	var calls []secretCall
	secrets := map[string]string{"secrets:a:pw": "cfgpw", "secrets:lim": "1_0", "secrets:b": "true"}
	settings := []ConfigSetting{
		set("secret-agent", "sa-address", "10.1.1.1:4000"),
		set("secret-agent", "sa-timeout", int64(20)),
		set("cluster", "host", "cfghost"),
		set("cluster", "Password", "secrets:a:pw"),
		set("cluster", "tls-enable", true),
		set("asbackup", "NameSpace", "cfgns"),
		set("asbackup", "set", "s1"),
		set("asbackup", "remove-files", true),
		set("asbackup", "file-limit", "secrets:lim"),
		set("asbackup", "compact", "secrets:b"),
		set("aql", "whatever", int64(1)),
		set("include", "file", "x"),
	}
	env := testEnv(t, settings, secrets, &calls)
	c := backupOK(t, env, "-s", "s2", "-o", "x", "--sa-address", "9.9.9.9")
	if c.Cluster.Host != "cfghost" || c.Cluster.Password != "cfgpw" || !c.Cluster.TLS.Enable || c.Namespace != "cfgns" ||
		!reflect.DeepEqual(c.Sets, []string{"s1", "s2"}) || !c.RemoveFiles || c.FileLimit != 10<<20 || !c.Compact {
		t.Errorf("config %+v", c)
	}
	// Config-file secrets use the [secret-agent] values read so far, not the
	// command line's.
	if len(calls) != 3 || calls[0].sa.Address != "10.1.1.1" || calls[0].sa.Port != "4000" || calls[0].sa.Timeout != 20*time.Millisecond {
		t.Errorf("secret calls %+v", calls)
	}
	if c.SecretAgent.Address != "9.9.9.9" || c.SecretAgent.Port != "4000" {
		t.Errorf("final secret agent %+v", c.SecretAgent)
	}
	// The command line overrides scalars.
	if c := backupOK(t, env, "-n", "cli", "-o", "x"); c.Namespace != "cli" {
		t.Errorf("override %q", c.Namespace)
	}
	// A later file can reset a flag set by an earlier one.
	env = testEnv(t, []ConfigSetting{set("asbackup", "remove-files", true), set("asbackup", "remove-files", false)}, nil, nil)
	if c := backupOK(t, env, "-n", "a", "-o", "x"); c.RemoveFiles {
		t.Error("remove-files not reset")
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name     string
		instance bool
		s        []ConfigSetting
		want     string
	}{
		{"cluster unknown", false, []ConfigSetting{set("cluster", "bogus", "x")},
			"Parse error `Unknown parameter `bogus` in `cluster` section.\n` in file [0:f.conf]"},
		{"cluster bad type", false, []ConfigSetting{set("cluster", "port", "abc")},
			"Parse error `Invalid parameter value for `port` in `cluster` section.\n` in file [0:f.conf]"},
		{"tool bad type", false, []ConfigSetting{set("asbackup", "verbose", "yes")},
			"Parse error `Invalid parameter value for `verbose` in `asbackup` section\n` in file [0:f.conf]"},
		{"tool unknown", false, []ConfigSetting{set("asbackup", "bogus-key", int64(1))},
			"Unknown parameter `bogus-key` in `asbackup` section\nParse error `` in file [0:f.conf]"},
		{"instance label", true, []ConfigSetting{set("asbackup", "bogus", int64(1))},
			"Unknown parameter `bogus` in `asbackup_zz` section\nParse error `` in file [0:f.conf]"},
		{"sa unknown", false, []ConfigSetting{set("secret-agent", "sa-bogus", "x")},
			"Unknown parameter `sa-bogus` in `secret-agent` section\nParse error `` in file [0:f.conf]"},
		{"sa port must be a string", false, []ConfigSetting{set("secret-agent", "sa-port", int64(3005))},
			"Parse error `Invalid parameter value for `sa-port` in `secret-agent` section\n` in file [0:f.conf]"},
		{"file limit", false, []ConfigSetting{set("asbackup", "file-limit", int64(0))},
			"Parse error `Invalid parameter value for `file-limit` in `asbackup` section\n` in file [0:f.conf]"},
		{"set list", false, []ConfigSetting{set("asbackup", "set", "'a")},
			"Missing terminating ' in set name\nParse error `Invalid parameter value for `set` in `asbackup` section\n` in file [0:f.conf]"},
		{"date", false, []ConfigSetting{set("asbackup", "modified-after", "2020/01/01")},
			"Date format error in 2020/01/01\nParse error `Invalid parameter value for `modified-after` in `asbackup` section\n` in file [0:f.conf]"},
		{"two keys", false, []ConfigSetting{set("asbackup", "encryption-key-env", "KEY"), set("asbackup", "encryption-key-env", "KEY")},
			"Cannot specify both encryption-key-file and encryption-key-env\nParse error `` in file [0:f.conf]"},
		{"secret failure", false, []ConfigSetting{set("cluster", "user", "secrets:nope")},
			"secret-agent: ERR: response: no such secret\nsecret agent request failed err code: 1\nfailed requesting secret: secrets:nope\nParse error `` in file [0:f.conf]"},
		{"blacklist warning then error", false, []ConfigSetting{set("cluster", "tls-cert-blacklist", "x"), set("cluster", "x", "y")},
			"Warning: --tls-cert-blacklist is deprecated and will be removed in the next release. Use a crl instead\nParse error `Unknown parameter `x` in `cluster` section.\n` in file [0:f.conf]"},
	}
	for _, tc := range tests {
		env := testEnv(t, tc.s, nil, nil)
		args := []string{"-n", "a", "-o", "x"}
		if tc.instance {
			args = append(args, "--instance", "zz")
		}
		if got := backupErr(t, env, args...); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
	// A key from a file cannot be overridden on the command line.
	env := testEnv(t, []ConfigSetting{set("asbackup", "encryption-key-env", "KEY")}, nil, nil)
	if got := backupErr(t, env, "-n", "a", "-o", "x", "-y", "aes128", "--encryption-key-env", "KEY"); got != "Cannot specify both encryption-key-file and encryption-key-env" {
		t.Errorf("key override %q", got)
	}
	// Mutually exclusive file options.
	if got := backupErr(t, Env{}, "--no-config-file", "--only-config-file", "x"); got != "--no-config-file and only-config-file are mutually exclusive option. Please enable only one." {
		t.Errorf("%q", got)
	}
}

func TestConfigLoadOptions(t *testing.T) {
	var got ConfigLoadOptions
	env := Env{LoadConfig: func(o ConfigLoadOptions) ([]ConfigSetting, error) { got = o; return nil, nil }}
	ParseRestore([]string{"asrestore", "--only-config-file", "a", "--config-file", "b", "--instance", "i1", "-i", "x"}, env)
	if want := (ConfigLoadOptions{Tool: "asrestore", ConfigFile: "b", OnlyConfigFile: true, Instance: "i1"}); got != want {
		t.Errorf("got %+v", got)
	}
	called := false
	env.LoadConfig = func(ConfigLoadOptions) ([]ConfigSetting, error) { called = true; return nil, nil }
	ParseRestore([]string{"asrestore", "--no-config-file", "-i", "x"}, env)
	if called {
		t.Error("config loaded with --no-config-file")
	}
	// Loader errors that are *Error keep their lines; others are raw text.
	env.LoadConfig = func(ConfigLoadOptions) ([]ConfigSetting, error) {
		return nil, errors.New("Parse error `line 1: invalid key` in file [0:x]")
	}
	_, _, err := ParseRestore([]string{"asrestore", "-i", "x"}, env)
	if e := err.(*msg.Error); e.Lines[0].Level != logging.Raw || e.Lines[0].Text != "Parse error `line 1: invalid key` in file [0:x]\n" {
		t.Errorf("%+v", e)
	}
}

func TestHelpPass(t *testing.T) {
	tests := []struct {
		args []string
		want Action
	}{
		{[]string{"--bogus", "--help"}, ActionHelp},
		{[]string{"--version", "--help"}, ActionVersion},
		{[]string{"-Z", "-V"}, ActionHelp},
		{[]string{"--opt"}, ActionHelp},
		{[]string{"-n", "--help"}, ActionFail}, // --help is -n's argument
		{[]string{"-vV"}, ActionVersion},
	}
	for _, tc := range tests {
		_, a, _ := ParseBackup(append([]string{"asbackup"}, tc.args...), Env{})
		if a != tc.want {
			t.Errorf("%q: %v", tc.args, a)
		}
	}
	if !strings.HasPrefix(BackupUsage("/usr/bin/asbackup"), "Usage: /usr/bin/asbackup [OPTIONS]\n---") {
		t.Error("usage line")
	}
}

func TestRestoreParse(t *testing.T) {
	env := testEnv(t, nil, nil, nil)
	c, a, err := ParseRestore([]string{"asrestore", "-d", "d", "-n", "a,b", "-t", "8", "-u", "--extra-ttl", "60",
		"-N", "10,100", "-T", "0", "--retry-scale-factor", "1000", "--batch-size", "7", "--threads", "9"}, env)
	if err != nil || a != ActionRun {
		t.Fatal(err)
	}
	if c.Parallel != 9 || !c.Unique || c.ExtraTTL != 60 || c.Bandwidth != 10<<20 || c.TPS != 100 || c.Timeout != 0 ||
		c.RetryScaleFactor != time.Millisecond || c.BatchSize != 7 || c.Namespace.Value != "a,b" {
		t.Errorf("%+v", c)
	}
	if len(c.Messages) != 1 || c.Messages[0].Text != "WARNING: '--threads' option is deprecated, use `--parallel` instead" {
		t.Errorf("messages %+v", c.Messages)
	}
	l, e := c.ParseLists()
	if e != nil || l.SourceNamespace != "a" || l.TargetNamespace != "b" {
		t.Errorf("lists %+v %v", l, e)
	}
	errs := map[string][]string{
		"Invalid options: --unique is mutually exclusive with --replace and --no-generation.": {"-d", "x", "-u", "-g"},
		"Invalid options: --directory and --directory-list are mutually exclusive.":           {"-d", "x", "--directory-list", "y"},
		"Invalid options: --input-file and --directory-list are mutually exclusive.":          {"-i", "x", "--directory-list", "y"},
		"Invalid extra-ttl value -1":        {"-i", "x", "--extra-ttl", "-1"},
		"Invalid timeout value x":           {"-i", "x", "-T", "x"},
		"Invalid retry delay value -1":      {"-i", "x", "--retry-scale-factor", "-1"},
		"Invalid compression type \"gz\"\n": {"-i", "x", "-z", "gz"},
		"Invalid nice option":               {"-i", "x", "-N", "1,2,3"},
		"asrestore: unrecognized option '--tls-cert-blacklist'\nasrestore: unrecognized option '--tls-cert-blacklist'\nRun with --help for usage information and flag options": {"--tls-cert-blacklist", "x"},
		"--no-config-file and --only-config-file are mutually exclusive option. Please enable only one.\n":                                                                     {"--no-config-file", "--only-config-file", "x"},
	}
	for want, args := range errs {
		_, _, err := ParseRestore(append([]string{"asrestore"}, args...), env)
		if err == nil || err.Error() != strings.TrimSuffix(want, "\n") && err.(*msg.Error).Lines[0].Text != want {
			t.Errorf("%q: %v", args, err)
		}
	}
	c, _, _ = ParseRestore([]string{"asrestore", "--directory-list", "a,b", "--validate", "--retry-delay", "5", "-d", "x"}, env)
	if c != nil {
		t.Error("directory and directory list accepted")
	}
	c, _, err = ParseRestore([]string{"asrestore", "--directory-list", "a,b", "--validate", "--retry-delay", "5"}, env)
	if err != nil || c.StartMessage() != "Starting validation of (null)" || c.Messages[0].Level != logging.Error {
		t.Errorf("%v %+v", err, c)
	}
	c, _, _ = ParseRestore([]string{"asrestore", "-i", "-", "-s", "s1", "-h", "h:1"}, env)
	if got := c.StartMessage(); got != "Starting restore to h:1 (bins: [all], sets: s1) from [stdin]" {
		t.Errorf("%q", got)
	}
}

func TestPrepareTargets(t *testing.T) {
	env := testEnv(t, nil, nil, nil)
	c := backupOK(t, env, "-n", "x", "-o", "y", "-l", "10.0.0.1:tn:4000,10.0.0.2:4000", "--tls-name", "def", "-A", "bogus")
	if _, e := c.PrepareTargets(); e == nil || e.Error() != "Invalid authentication mode bogus. Allowed values are INTERNAL / EXTERNAL / EXTERNAL_INSECURE / PKI" {
		t.Errorf("auth %v", e)
	}
	c = backupOK(t, env, "-n", "x", "-o", "y", "-l", "10.0.0.1:tn:4000,10.0.0.2:4000", "-f", "kxGRAQ==", "--prefer-racks", "3")
	tg, e := c.PrepareTargets()
	if e != nil || len(tg.Nodes) != 2 || !reflect.DeepEqual(tg.Seeds, []Host{{"10.0.0.1", "tn", 4000}}) ||
		len(tg.FilterExp) != 4 || !reflect.DeepEqual(tg.RackIDs, []int{3}) {
		t.Errorf("%+v %v", tg, e)
	}
	c = backupOK(t, env, "-n", "x", "-o", "y", "-f", "!!")
	if _, e := c.PrepareTargets(); e == nil || e.Error() != "Invalid base64 encoded string: !!" {
		t.Errorf("filter %v", e)
	}
	c = backupOK(t, env, "-n", "x", "-o", "y", "-h", "h:tls:x")
	if _, e := c.PrepareTargets(); e == nil || e.Error() != "Invalid conf->host(s) string h:tls:x" {
		t.Errorf("host %v", e)
	}
	if got := backupOK(t, env, "-n", "x", "-e", "-s", "a", "-s", "b", "-B", "b1").StartMessage(); got != "Starting backup of 127.0.0.1 (namespace: x, set: [a,b], bins: b1, after: 1970-01-01 00:00:00 UTC, before: 1970-01-01 00:00:00 UTC, no ttl only: false, limit: 0) to [none]" {
		t.Errorf("%q", got)
	}
}
