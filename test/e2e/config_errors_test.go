package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigFileErrors runs both tools on the configuration files of the
// transcript folder that have no transcript, and on a few more, and compares
// stderr with the legacy messages (tools-config.md §7). Every case exits 1
// before connecting.
func TestConfigFileErrors(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, filepath.Join(repoRoot(t), "test", "golden", "cli", "files"), filepath.Join(dir, "files"))
	writeFile(t, dir, "files/nested-array.toml", "[asbackup]\nset = [\"a\"]\n")
	writeFile(t, dir, "files/sa-port-int.toml", "[secret-agent]\nsa-port = 3005\n")
	writeFile(t, dir, "files/sa-unknown.toml", "[secret-agent]\nsa-host = \"x\"\n")
	writeFile(t, dir, "files/include-unknown.toml", "[include]\npath = \"x\"\n")
	writeFile(t, dir, "files/key-twice.toml", "[asbackup]\nencryption-key-file = \"files/key.pem\"\nencryption-key-env = \"ASB_TEST_KEY\"\n")
	writeFile(t, dir, "files/include-bad.toml", "[include]\nfile = \"files/wrong-type.toml\"\n")
	env := []string{"ASB_TEST_KEY=MDEyMzQ1Njc4OWFiY2RlZg=="}

	cases := []struct {
		tool   string
		args   []string
		stderr string
	}{
		{"asbackup", []string{"--only-config-file", "files/cluster-bad-port.toml", "-n", "bar", "-o", "x.asb"},
			"Parse error `Invalid parameter value for `port` in `cluster` section.\n` in file [0:files/cluster-bad-port.toml]\n"},
		{"asrestore", []string{"--only-config-file", "files/cluster-bad-port.toml", "-i", "files/valid.asb"},
			"Parse error `Invalid parameter value for `port` in `cluster` section.\n` in file [0:files/cluster-bad-port.toml]\n"},
		{"asbackup", []string{"--only-config-file", "files/unknown-key.toml", "-o", "x.asb"},
			"Unknown parameter `bogus-key` in `asbackup` section\nParse error `` in file [0:files/unknown-key.toml]\n"},
		{"asbackup", []string{"--only-config-file", "files/unknown-key.toml", "--instance", "zz", "-o", "x.asb"},
			"Unknown parameter `bogus-key` in `asbackup_zz` section\nParse error `` in file [0:files/unknown-key.toml]\n"},
		{"asbackup", []string{"--only-config-file", "files/wrong-type.toml", "-n", "bar", "-o", "x.asb"},
			"Parse error `Invalid parameter value for `parallel` in `asbackup` section\n` in file [0:files/wrong-type.toml]\n"},
		{"asrestore", []string{"--only-config-file", "files/restore-bad-parallel.toml", "-i", "files/valid.asb"},
			"Parse error `Invalid parameter value for `parallel` in `asrestore` section\n` in file [0:files/restore-bad-parallel.toml]\n"},
		{"asbackup", []string{"--only-config-file", "files/nested-array.toml", "-n", "bar", "-o", "x.asb"},
			"Parse error `Invalid parameter value for `set` in `asbackup` section.\n` in file [0:files/nested-array.toml]\n"},
		{"asbackup", []string{"--only-config-file", "files/sa-port-int.toml", "-n", "bar", "-o", "x.asb"},
			"Parse error `Invalid parameter value for `sa-port` in `secret-agent` section\n` in file [0:files/sa-port-int.toml]\n"},
		{"asrestore", []string{"--only-config-file", "files/sa-unknown.toml", "-i", "files/valid.asb"},
			"Unknown parameter `sa-host` in `secret-agent` section\nParse error `` in file [0:files/sa-unknown.toml]\n"},
		{"asbackup", []string{"--only-config-file", "files/include-unknown.toml", "-n", "bar", "-o", "x.asb"},
			"Unknown parameter `path` in `include` section.\nParse error `` in file [0:files/include-unknown.toml]\n"},
		{"asbackup", []string{"--only-config-file", "files/key-twice.toml", "-n", "bar", "-o", "x.asb"},
			"Cannot specify both encryption-key-file and encryption-key-env\nParse error `` in file [0:files/key-twice.toml]\n"},
		{"asbackup", []string{"--only-config-file", "files/include-bad.toml", "-n", "bar", "-o", "x.asb"},
			"Parse error `Invalid parameter value for `parallel` in `asbackup` section\n` in file [1:files/wrong-type.toml]\n" +
				"Parse error `` in file [0:files/include-bad.toml]\n"},
	}
	for _, c := range cases {
		r := runTool(t, c.tool, dir, env, c.args...)
		if r.code != 1 || r.stdout != "" || r.stderr != c.stderr {
			t.Errorf("%s %v: exit %d\nstdout %q\nstderr %q\nwant   %q", c.tool, c.args, r.code, r.stdout, r.stderr, c.stderr)
		}
	}

	// The instance section of the transcript files is read with
	// --instance (and only then).
	r := runTool(t, "asbackup", dir, nil, "--only-config-file", "files/instance.toml", "--instance", "inst1", "-p", "1", "-o", "x.asb")
	if r.code != 1 || !strings.Contains(r.stderr, "Starting backup of 127.0.0.1 (namespace: bar,") {
		t.Errorf("instance file: exit %d\n%s", r.code, r.stderr)
	}
	r = runTool(t, "asbackup", dir, nil, "--only-config-file", "files/instance.toml", "-o", "x.asb")
	if r.code != 1 || strings.Contains(r.stderr, "Starting backup") {
		t.Errorf("instance file without --instance: exit %d\n%s", r.code, r.stderr)
	}
}
