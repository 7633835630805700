package conf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"asbtools/logging"
	"asbtools/msg"
)

// goldenCase runs Load like the legacy tool would for a cases.tsv row and
// compares the raw stderr lines with the recorded transcript.
func TestGoldenConfigCases(t *testing.T) {
	dir, err := filepath.Abs("../test/golden/cli")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	read := func(name string) string {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tsv := read("cases.tsv")
	for _, id := range []string{"b105", "b106", "b108", "b110", "b111", "b113", "b115", "b116", "r042", "r044"} {
		if !strings.Contains(tsv, id+"\t") {
			t.Fatalf("case %s missing from cases.tsv", id)
		}
	}
	opt := func(tool, file string, only bool) LoadOptions {
		return LoadOptions{Tool: tool, ConfigFile: file, OnlyConfigFile: only,
			EtcFile: "files/does-not-exist-etc", HomeFile: "files/does-not-exist-home"}
	}
	fails := []struct {
		id   string
		opts LoadOptions
	}{
		{"b106", opt("asbackup", "files/bad-syntax.toml", true)},
		{"b113", opt("asbackup", "files/bool-string.toml", true)},
		{"r044", opt("asrestore", "files/restore-unknown.toml", true)},
		{"r042", LoadOptions{Tool: "asrestore", ConfigFile: "files/empty.toml", OnlyConfigFile: true, NoConfigFile: true}},
	}
	for _, c := range fails {
		_, err := Load(c.opts)
		ce, ok := err.(*msg.Error)
		if !ok {
			t.Fatalf("%s: want *msg.Error, got %v", c.id, err)
		}
		if got, want := msg.Raw(ce.Lines), read(c.id+".stderr"); got != want {
			t.Errorf("%s: stderr\n got %q\nwant %q", c.id, got, want)
		}
		if ce.ExitCode() != 1 {
			t.Errorf("%s: exit code %d", c.id, ce.ExitCode())
		}
	}

	// asbackup reports the mutual exclusion as an ERR log line.
	_, err = Load(LoadOptions{Tool: "asbackup", ConfigFile: "files/empty.toml", OnlyConfigFile: true, NoConfigFile: true})
	ce := err.(*msg.Error)
	if len(ce.Lines) != 1 || ce.Lines[0].Level != logging.Error || ce.Lines[0].Text != "--no-config-file and only-config-file are mutually exclusive option. Please enable only one." {
		t.Errorf("asbackup exclusion: %+v", ce.Lines)
	}

	// Successful loads.
	got := func(o LoadOptions) []Setting {
		s, err := Load(o)
		if err != nil {
			t.Fatalf("%+v: %v", o, err)
		}
		return s
	}
	s := got(opt("asbackup", "files/backup-ns.toml", true)) // b105
	want := []Setting{
		{Section: "cluster", Key: "host", Value: "127.0.0.1", File: "files/backup-ns.toml", Line: 2},
		{Section: "cluster", Key: "port", Value: int64(3000), File: "files/backup-ns.toml", Line: 3},
		{Section: "asbackup", Key: "namespace", Value: "bar", File: "files/backup-ns.toml", Line: 6},
	}
	assertSettings(t, "b105", s, want)
	assertSettings(t, "b116", got(opt("asbackup", "files/backup-ns.toml", false)), want)
	assertSettings(t, "b108", got(opt("asbackup", "files/unknown-section.toml", true)), nil)
	assertSettings(t, "b110", got(opt("asbackup", "files/missing.toml", true)), nil)
	assertSettings(t, "b111", got(opt("asbackup", "files/set-append.toml", true)),
		[]Setting{{Section: "asbackup", Key: "set", Value: "s1", File: "files/set-append.toml", Line: 2}})
	assertSettings(t, "b115", got(opt("asbackup", "files/key-in-config.toml", true)),
		[]Setting{{Section: "asbackup", Key: "encryption-key-file", Value: "files/key.pem", File: "files/key-in-config.toml", Line: 2}})
}

// TestGoldenFilesSpecMessages checks the other config files of the corpus
// against the message shapes of tools-config.md §7.
func TestGoldenFilesSpecMessages(t *testing.T) {
	dir, err := filepath.Abs("../test/golden/cli")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	cases := []struct{ tool, file, instance, stderr string }{
		{"asbackup", "files/cluster-bad-port.toml", "", "Parse error `Invalid parameter value for `port` in `cluster` section.\n` in file [0:files/cluster-bad-port.toml]\n"},
		{"asbackup", "files/wrong-type.toml", "", "Parse error `Invalid parameter value for `parallel` in `asbackup` section\n` in file [0:files/wrong-type.toml]\n"},
		{"asbackup", "files/unknown-key.toml", "", "Unknown parameter `bogus-key` in `asbackup` section\nParse error `` in file [0:files/unknown-key.toml]\n"},
		{"asrestore", "files/restore-bad-parallel.toml", "", "Parse error `Invalid parameter value for `parallel` in `asrestore` section\n` in file [0:files/restore-bad-parallel.toml]\n"},
	}
	for _, c := range cases {
		_, err := Load(LoadOptions{Tool: c.tool, ConfigFile: c.file, OnlyConfigFile: true, Instance: c.instance})
		ce, ok := err.(*msg.Error)
		if !ok {
			t.Fatalf("%s: want *msg.Error, got %v", c.file, err)
		}
		if msg.Raw(ce.Lines) != c.stderr {
			t.Errorf("%s:\n got %q\nwant %q", c.file, msg.Raw(ce.Lines), c.stderr)
		}
	}
	s, err := Load(LoadOptions{Tool: "asbackup", ConfigFile: "files/instance.toml", OnlyConfigFile: true, Instance: "inst1"})
	if err != nil {
		t.Fatal(err)
	}
	assertSettings(t, "instance", s, []Setting{{Section: "asbackup", Key: "namespace", Value: "bar", File: "files/instance.toml", Line: 2}})
	s, err = Load(LoadOptions{Tool: "asrestore", ConfigFile: "files/restore-ok.toml", OnlyConfigFile: true})
	if err != nil {
		t.Fatal(err)
	}
	assertSettings(t, "restore-ok", s, []Setting{
		{Section: "cluster", Key: "host", Value: "127.0.0.1:3000", File: "files/restore-ok.toml", Line: 2},
		{Section: "asrestore", Key: "namespace", Value: "bar", File: "files/restore-ok.toml", Line: 5},
		{Section: "asrestore", Key: "validate", Value: true, File: "files/restore-ok.toml", Line: 6},
	})
}

func assertSettings(t *testing.T, name string, got, want []Setting) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %d settings %+v, want %+v", name, len(got), got, want)
		return
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s[%d]: got %+v, want %+v", name, i, got[i], want[i])
		}
	}
}
