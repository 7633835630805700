package clusterconn

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"

	"asbtools/compat"
)

func TestClientPolicy(t *testing.T) {
	c := &compat.ClusterConfig{UseServicesAlternate: true, AuthMode: compat.Opt{Set: true, Value: "pki"}}
	cp, err := ClientPolicy(c, Settings{Auth: compat.AuthPKI, User: "u", Password: "p", ConnectionQueueSize: 33})
	if err != nil {
		t.Fatal(err)
	}
	if cp.Timeout != DefaultTimeout || cp.LoginTimeout != DefaultTimeout || !cp.UseServicesAlternate ||
		cp.AuthMode != as.AuthModePKI || cp.User != "u" || cp.Password != "p" || cp.ConnectionQueueSize != 33 ||
		cp.TlsConfig != nil || !cp.FailIfNotConnected {
		t.Errorf("policy %+v", cp)
	}
	cp, _ = ClientPolicy(&compat.ClusterConfig{}, Settings{Timeout: 3 * time.Second, Password: "ignored"})
	if cp.Timeout != 3*time.Second || cp.User != "" || cp.Password != "" || cp.AuthMode != as.AuthModeInternal {
		t.Errorf("policy without user %+v", cp)
	}
}

func TestTLSConfigErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.pem")
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(junk, []byte("not a certificate"), 0o644)
	for _, c := range []struct {
		tls  compat.TLSConfig
		want string
	}{
		{compat.TLSConfig{Enable: true, CAFile: compat.Opt{Set: true, Value: missing}}, "Failed to load CA file " + missing},
		{compat.TLSConfig{Enable: true, CAFile: compat.Opt{Set: true, Value: junk}}, "Failed to load CA file " + junk},
		{compat.TLSConfig{Enable: true, CertFile: compat.Opt{Set: true, Value: missing}}, "Failed to load certificate file " + missing},
		{compat.TLSConfig{Enable: true, KeyFile: compat.Opt{Set: true, Value: missing}}, "Failed to load private key file " + missing},
		{compat.TLSConfig{Enable: true, CertFileContent: []byte("x"), KeyFileContent: []byte("y")}, "Failed to load client certificate: "},
	} {
		_, err := ClientPolicy(&compat.ClusterConfig{TLS: c.tls}, Settings{})
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("error %v, want prefix %q", err, c.want)
		}
	}
}

// TestConnectRefused connects to a port nobody listens on and checks both
// legacy lines.
func TestConnectRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cp, _ := ClientPolicy(&compat.ClusterConfig{}, Settings{Timeout: 2 * time.Second})
	client, lines := Connect(cp, []compat.Host{{Name: "127.0.0.1", Port: port}}, "127.0.0.1", 3000)
	if client != nil {
		client.Close()
		t.Fatal("connected to a closed port")
	}
	want := []string{
		"[src/main/aerospike/as_cluster.c:395][as_cluster_seed_node] Failed to connect to seed 127.0.0.1 " + itoa(port) + ". AEROSPIKE_ERR_CONNECTION Socket write error: 111, 127.0.0.1:" + itoa(port),
		"Error while connecting to 127.0.0.1:3000 - code -10: Failed to connect at src/main/aerospike/as_cluster.c:416",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestConnectErrorIPv6Seed(t *testing.T) {
	lines := ConnectError("[::1", 3000, compat.Host{Name: "::1", Port: 3000}, errString("dial tcp [::1]:3000: connect: connection refused"))
	if lines[0] != "[src/main/aerospike/as_cluster.c:395][as_cluster_seed_node] Failed to connect to seed ::1 3000. AEROSPIKE_ERR_CONNECTION Socket write error: 111, [::1]:3000" ||
		lines[1] != "Error while connecting to [::1:3000 - code -10: Failed to connect at src/main/aerospike/as_cluster.c:416" {
		t.Errorf("lines %q", lines)
	}
	lines = ConnectError("h", 3000, compat.Host{Name: "h", Port: 3000}, errString("tls: failed to verify certificate: x509: certificate signed by unknown authority"))
	if !strings.Contains(lines[0], "AEROSPIKE_ERR_TLS_ERROR TLS handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority, h:3000") {
		t.Errorf("TLS line %q", lines[0])
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func itoa(n int) string { return strconv.Itoa(n) }
