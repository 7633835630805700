package asbfs_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"asbtools/asbfs"
)

// TestSharedOptionsThroughRegistry checks that the options asbfs shares
// with asrestore are read with asrestore's rules and messages, from the
// command line and from astools.conf, before anything is mounted.
func TestSharedOptionsThroughRegistry(t *testing.T) {
	mnt := filepath.Join(t.TempDir(), "never-mounted")
	t.Setenv("ASBFS_CLI_KEY", "MDEyMzQ1Njc4OWFiY2RlZg==")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"agent timeout in a file must be an integer",
			[]string{"--only-config-file", writeConf(t, "[secret-agent]\nsa-timeout = \"500\"\n")},
			"Invalid parameter value for `sa-timeout` in `secret-agent` section"},
		{"agent timeout on the command line",
			[]string{"--no-config-file", "--sa-timeout", "abc"}, "Invalid secret agent timeout value abc"},
		{"unknown key",
			[]string{"--only-config-file", writeConf(t, "[asrestore]\nbogus = 1\n")}, "Unknown parameter `bogus` in `asrestore` section"},
		{"cipher without key in a file",
			[]string{"--only-config-file", writeConf(t, "[asrestore]\nencrypt = \"aes128\"\n")},
			"Must specify both encryption mode and a private key file/environment variable"},
		{"two key sources",
			[]string{"--no-config-file", "-y", "aes128", "--encryption-key-env", "ASBFS_CLI_KEY", "--encryption-key-file", "b.pem"},
			"Cannot specify both encryption-key-file and encryption-key-env"},
		{"the same key option twice",
			[]string{"--no-config-file", "-y", "aes128", "--encryption-key-env", "ASBFS_CLI_KEY", "--encryption-key-env", "ASBFS_CLI_KEY"},
			"Cannot specify both encryption-key-file and encryption-key-env"},
		{"S3 downloads",
			[]string{"--no-config-file", "--s3-max-async-downloads", "0"}, "Invalid S3 max async downloads value 0"},
		{"S3 log level in a file",
			[]string{"--only-config-file", writeConf(t, "[asrestore]\ns3-log-level = \"loud\"\n")}, `Invalid S3 log level "loud"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := asbfs.Main(append(append([]string{"asbfs"}, c.args...), "backup.asb", mnt), &stdout, &stderr)
			if code != 1 || !strings.Contains(stderr.String(), c.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr.String(), c.want)
			}
			if !strings.HasPrefix(stderr.String(), "asbfs: ") {
				t.Errorf("stderr %q does not start with asbfs:", stderr.String())
			}
		})
	}
}
