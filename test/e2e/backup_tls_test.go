package e2e

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"asbtools/asdsim"
	"asbtools/secretagent/satest"
)

// TestBackupTLS backs up from a server that only speaks TLS, with a
// certificate for the name asd.test signed by a CA generated here: the TLS
// name given in the -h host:tlsname:port form and by --tls-name, the CA
// from --tls-cafile. A wrong CA, a wrong TLS name and a plain connection to
// the TLS port fail with a clear error and exit 1.
func TestBackupTLS(t *testing.T) {
	pki, err := satest.NewPKI("asd.test")
	if err != nil {
		t.Fatal(err)
	}
	other, err := satest.NewPKI("asd.test")
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, asdsim.Config{TLS: &tls.Config{Certificates: []tls.Certificate{pki.Cert}, MinVersion: tls.VersionTLS12}})
	seedSimple(t, srv, "tls", 400)
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "ca.pem"), pki.CAPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "other-ca.pem"), other.CAPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	hostForm := fmt.Sprintf("%s:asd.test:%d", srv.Host(), srv.Port())

	ok := []struct {
		name string
		args []string
	}{
		{"host-tlsname-port", []string{"-h", hostForm, "--tls-enable", "--tls-cafile", "ca.pem"}},
		{"tls-name-option", []string{"-h", srv.Host(), "-p", fmt.Sprint(srv.Port()), "--tls-enable", "--tls-name", "asd.test", "--tls-cafile", "ca.pem"}},
	}
	for _, c := range ok {
		t.Run(c.name, func(t *testing.T) {
			out := c.name + ".asb"
			res := runTool(t, "asbackup", work, nil, append(c.args, "-n", "test", "-o", out, "--parallel", "4")...)
			if res.code != 0 {
				t.Fatalf("exit %d:\n%s", res.code, res.stderr)
			}
			recs, _, _ := backupRecords(t, filepath.Join(work, out), nil)
			seen := map[[20]byte]bool{}
			for _, r := range recs {
				if seen[r.Digest] {
					t.Fatalf("record %x twice", r.Digest)
				}
				seen[r.Digest] = true
			}
			if len(seen) != 400 {
				t.Fatalf("%d records over TLS, want 400", len(seen))
			}
		})
	}

	bad := []struct {
		name, want string
		args       []string
	}{
		{"wrong-ca", "certificate signed by unknown authority",
			[]string{"-h", hostForm, "--tls-enable", "--tls-cafile", "other-ca.pem"}},
		{"wrong-tls-name", "certificate is valid for asd.test, not other.test",
			[]string{"-h", fmt.Sprintf("%s:other.test:%d", srv.Host(), srv.Port()), "--tls-enable", "--tls-cafile", "ca.pem"}},
		{"no-tls", "",
			[]string{"-h", srv.Host(), "-p", fmt.Sprint(srv.Port())}},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			out := c.name + ".asb"
			res := runTool(t, "asbackup", work, nil, append(c.args, "-n", "test", "-o", out)...)
			lines := normalizeBackupLog(res.stderr)
			t.Logf("stderr:\n%s", lastLines(res.stderr, 2))
			if res.code != 1 {
				t.Fatalf("exit %d, want 1:\n%s", res.code, res.stderr)
			}
			want := "<TS> [ERR] [TID] Error while connecting to " + c.args[1] + ":3000 - code -10: Failed to connect"
			if c.args[2] == "-p" {
				want = fmt.Sprintf("<TS> [ERR] [TID] Error while connecting to %s:%s - code -10: Failed to connect", c.args[1], c.args[3])
			}
			last := ""
			if len(lines) > 0 {
				last = lines[len(lines)-1]
			}
			if !strings.HasPrefix(last, want) {
				t.Errorf("last line %q, want prefix %q\n%s", last, want, res.stderr)
			}
			if c.want != "" && !strings.Contains(res.stderr, c.want) {
				t.Errorf("error does not say %q:\n%s", c.want, res.stderr)
			}
			if strings.Contains(res.stderr, "Backed up") {
				t.Errorf("summary after a failed connection:\n%s", res.stderr)
			}
			if _, err := os.Stat(filepath.Join(work, out)); err == nil {
				t.Errorf("%s created by a run that never connected", out)
			}
		})
	}
}

// TestBackupTLSCluster backs up a three-node TLS cluster: the client learns
// the other nodes from peers-tls-std, with their TLS name, and verifies each
// of them; every record is backed up exactly once.
func TestBackupTLSCluster(t *testing.T) {
	pki, err := satest.NewPKI("asd.test")
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, asdsim.Config{Nodes: 3, TLSName: "asd.test",
		TLS: &tls.Config{Certificates: []tls.Certificate{pki.Cert}, MinVersion: tls.VersionTLS12}})
	seedSimple(t, srv, "tls", 600)
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "ca.pem"), pki.CAPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	res := runTool(t, "asbackup", work, nil, "-h", fmt.Sprintf("%s:asd.test:%d", srv.Host(), srv.Port()),
		"--tls-enable", "--tls-cafile", "ca.pem", "-n", "test", "-o", "out.asb", "--parallel", "4")
	if res.code != 0 {
		t.Fatalf("exit %d:\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "Processing 3 node(s)") {
		t.Errorf("the backup did not see the three nodes:\n%s", res.stderr)
	}
	recs, _, _ := backupRecords(t, filepath.Join(work, "out.asb"), nil)
	seen := map[[20]byte]bool{}
	for _, r := range recs {
		if seen[r.Digest] {
			t.Fatalf("record %x twice", r.Digest)
		}
		seen[r.Digest] = true
	}
	if len(seen) != 600 {
		t.Fatalf("%d records over TLS from three nodes, want 600", len(seen))
	}
}
