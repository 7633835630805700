package backup

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"
	"github.com/aerospike/aerospike-client-go/v7/types"

	"asbtools/compat"
)

// connectTimeout is the legacy connect and info timeout (10 s).
const connectTimeout = 10 * time.Second

// clientPolicy builds the client policy from the [cluster] options. The
// client's rack awareness stays off (see racks.go).
func clientPolicy(c *compat.BackupConfig, auth compat.AuthMode, password string) (*as.ClientPolicy, error) {
	// The client's own per-connection buffer only serves info requests and
	// logins here (scans are read through the job's buffer): start it at
	// the smallest size, it grows when a reply needs more.
	as.DefaultBufferSize = as.MinBufferSize
	cp := as.NewClientPolicy()
	cp.Timeout = connectTimeout
	cp.LoginTimeout = connectTimeout
	cp.UseServicesAlternate = c.Cluster.UseServicesAlternate
	cp.MinConnectionsPerNode = 0
	cp.ConnectionQueueSize = 256
	if c.Cluster.User != "" {
		cp.User, cp.Password = c.Cluster.User, password
	}
	if c.Cluster.AuthMode.Set {
		switch auth {
		case compat.AuthExternal, compat.AuthExternalInsecure:
			cp.AuthMode = as.AuthModeExternal
		case compat.AuthPKI:
			cp.AuthMode = as.AuthModePKI
		default:
			cp.AuthMode = as.AuthModeInternal
		}
	}
	if c.Cluster.TLS.Enable {
		tc, err := tlsConfig(&c.Cluster.TLS)
		if err != nil {
			return nil, err
		}
		cp.TlsConfig = tc
	}
	return cp, nil
}

func tlsConfig(t *compat.TLSConfig) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	pool := x509.NewCertPool()
	havePool := false
	addPEM := func(b []byte) {
		if pool.AppendCertsFromPEM(b) {
			havePool = true
		}
	}
	if t.CAFileContent != nil {
		addPEM(t.CAFileContent)
	} else if t.CAFile.Set {
		b, err := os.ReadFile(t.CAFile.Value)
		if err != nil {
			return nil, fmt.Errorf("Failed to read TLS CA file %s", t.CAFile.Value)
		}
		addPEM(b)
	}
	if t.CAPath.Set {
		ents, _ := os.ReadDir(t.CAPath.Value)
		for _, e := range ents {
			if b, err := os.ReadFile(t.CAPath.Value + "/" + e.Name()); err == nil {
				addPEM(b)
			}
		}
	}
	if havePool {
		tc.RootCAs = pool
	}
	var certPEM, keyPEM []byte
	if t.CertFileContent != nil {
		certPEM = t.CertFileContent
	} else if t.CertFile.Set {
		certPEM, _ = os.ReadFile(t.CertFile.Value)
	}
	if t.KeyFileContent != nil {
		keyPEM = t.KeyFileContent
	} else if t.KeyFile.Set {
		keyPEM, _ = os.ReadFile(t.KeyFile.Value)
	}
	if certPEM != nil && keyPEM != nil {
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("Failed to load TLS client certificate: %v", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// connectError formats a connection failure like the legacy tool: the
// client's seed line (with the first seed's parsed name and port), then
// `Error while connecting to <host>:<port> - code ...` with the host string
// and --port as given.
func connectError(host string, port int, seed compat.Host, err error) []string {
	addr := fmt.Sprintf("%s:%d", seed.Name, seed.Port)
	if strings.Contains(seed.Name, ":") {
		addr = fmt.Sprintf("[%s]:%d", seed.Name, seed.Port)
	}
	secNS := false
	if ae, ok := err.(as.Error); ok && ae.Matches(types.SECURITY_NOT_SUPPORTED) {
		secNS = true
	}
	text := err.Error()
	code := -10
	var seedLine string
	switch {
	case secNS || strings.Contains(text, "SECURITY_NOT_SUPPORTED"):
		code = int(types.SECURITY_NOT_SUPPORTED)
		seedLine = fmt.Sprintf("Failed to connect to seed %s %d. AEROSPIKE_SECURITY_NOT_SUPPORTED AEROSPIKE_SECURITY_NOT_SUPPORTED from %s", seed.Name, seed.Port, addr)
	case tlsReason(text) != "":
		// The handshake failed (untrusted certificate, wrong TLS name,
		// protocol mismatch): say why.
		seedLine = fmt.Sprintf("Failed to connect to seed %s %d. AEROSPIKE_ERR_TLS_ERROR TLS handshake failed: %s, %s", seed.Name, seed.Port, tlsReason(text), addr)
	case strings.Contains(text, "timeout") || strings.Contains(text, "TIMEOUT"):
		seedLine = fmt.Sprintf("Failed to connect to seed %s %d. AEROSPIKE_ERR_TIMEOUT %s", seed.Name, seed.Port, firstLine(text))
	case strings.HasSuffix(text, "EOF") || strings.Contains(text, "connection reset"):
		// Something answered but dropped the connection (for example a
		// TLS port spoken to without --tls-enable).
		seedLine = fmt.Sprintf("Failed to connect to seed %s %d. AEROSPIKE_ERR_CONNECTION Socket read error: 104, %s", seed.Name, seed.Port, addr)
	default:
		// Nothing answered at the seed address (connection refused).
		seedLine = fmt.Sprintf("Failed to connect to seed %s %d. AEROSPIKE_ERR_CONNECTION Socket write error: 111, %s", seed.Name, seed.Port, addr)
	}
	return []string{
		"[src/main/aerospike/as_cluster.c:395][as_cluster_seed_node] " + seedLine,
		fmt.Sprintf("Error while connecting to %s:%d - code %d: Failed to connect at src/main/aerospike/as_cluster.c:416", host, port, code),
	}
}

// tlsReason extracts the TLS or certificate failure from a client error
// text, or returns "".
func tlsReason(text string) string {
	for _, mark := range []string{"tls: ", "x509: "} {
		if i := strings.Index(text, mark); i >= 0 {
			r := firstLine(text[i:])
			if j := strings.IndexAny(r, ";)"); j > 0 && mark == "x509: " {
				r = r[:j]
			}
			return strings.TrimSpace(r)
		}
	}
	return ""
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
