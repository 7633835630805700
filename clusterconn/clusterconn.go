// Package clusterconn turns the [cluster] options into what the Aerospike
// client needs (client policy, TLS configuration, seed hosts) and formats
// connection failures the way the legacy tools log them.
package clusterconn

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"
	"github.com/aerospike/aerospike-client-go/v7/types"

	"asbtools/compat"
	"asbtools/msg"
)

// DefaultTimeout is the legacy connect, login and info timeout.
const DefaultTimeout = 10 * time.Second

// Settings are the connection choices a tool makes beyond the [cluster]
// options themselves.
type Settings struct {
	// Auth is the parsed --auth value; it is used only when the cluster
	// options set an authentication mode.
	Auth compat.AuthMode
	// User and Password are the resolved credentials ("" user: none).
	User, Password string
	// Timeout is the connect and login timeout; 0 means DefaultTimeout.
	Timeout time.Duration
	// ConnectionQueueSize is the client's per-node connection pool size.
	ConnectionQueueSize int
}

// ClientPolicy builds the client policy from the cluster options and the
// tool's settings. A TLS configuration is built when TLS is enabled; its
// errors name the file that could not be used.
func ClientPolicy(c *compat.ClusterConfig, s Settings) (*as.ClientPolicy, error) {
	cp := as.NewClientPolicy()
	cp.Timeout = s.Timeout
	if cp.Timeout <= 0 {
		cp.Timeout = DefaultTimeout
	}
	cp.LoginTimeout = cp.Timeout
	cp.UseServicesAlternate = c.UseServicesAlternate
	cp.MinConnectionsPerNode = 0
	cp.FailIfNotConnected = true
	if s.ConnectionQueueSize > 0 {
		cp.ConnectionQueueSize = s.ConnectionQueueSize
	}
	if s.User != "" {
		cp.User, cp.Password = s.User, s.Password
	}
	if c.AuthMode.Set {
		switch s.Auth {
		case compat.AuthExternal, compat.AuthExternalInsecure:
			cp.AuthMode = as.AuthModeExternal
		case compat.AuthPKI:
			cp.AuthMode = as.AuthModePKI
		default:
			cp.AuthMode = as.AuthModeInternal
		}
	}
	if c.TLS.Enable {
		tc, err := TLSConfig(&c.TLS)
		if err != nil {
			return nil, err
		}
		cp.TlsConfig = tc
	}
	return cp, nil
}

// TLSConfig builds the client TLS configuration: trusted CAs from the CA
// file (or its secret content) and the CA directory, and the client
// certificate pair from the certificate and key files (or their content).
func TLSConfig(t *compat.TLSConfig) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	pool := x509.NewCertPool()
	var ca []byte
	switch {
	case len(t.CAFileContent) > 0:
		ca = t.CAFileContent
	case t.CAFile.Set:
		b, err := os.ReadFile(t.CAFile.Value)
		if err != nil {
			return nil, fmt.Errorf("Failed to load CA file %s", t.CAFile.Value)
		}
		ca = b
	}
	if t.CAPath.Set {
		// Like OpenSSL, which looks certificates up in the CA path only
		// when verifying, an unreadable path contributes none.
		entries, _ := os.ReadDir(t.CAPath.Value)
		for _, e := range entries {
			if b, err := os.ReadFile(t.CAPath.Value + "/" + e.Name()); err == nil {
				pool.AppendCertsFromPEM(b)
			}
		}
	}
	if ca != nil && !pool.AppendCertsFromPEM(ca) {
		if t.CAFile.Set {
			return nil, fmt.Errorf("Failed to load CA file %s", t.CAFile.Value)
		}
		return nil, fmt.Errorf("Failed to load CA file")
	}
	if ca != nil || t.CAPath.Set {
		tc.RootCAs = pool
	}
	cert, key := t.CertFileContent, t.KeyFileContent
	if cert == nil && t.CertFile.Set {
		b, err := os.ReadFile(t.CertFile.Value)
		if err != nil {
			return nil, fmt.Errorf("Failed to load certificate file %s", t.CertFile.Value)
		}
		cert = b
	}
	if key == nil && t.KeyFile.Set {
		b, err := os.ReadFile(t.KeyFile.Value)
		if err != nil {
			return nil, fmt.Errorf("Failed to load private key file %s", t.KeyFile.Value)
		}
		key = b
	}
	if cert != nil && key != nil {
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return nil, msg.WithCause(err, "Failed to load client certificate: %s", strings.TrimSpace(err.Error()))
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	return tc, nil
}

// Hosts converts parsed seed hosts to client hosts.
func Hosts(seeds []compat.Host) []*as.Host {
	hosts := make([]*as.Host, len(seeds))
	for i, s := range seeds {
		hosts[i] = &as.Host{Name: s.Name, TLSName: s.TLSName, Port: s.Port}
	}
	return hosts
}

// Connect opens a client on the seeds with the policy. On failure it
// returns the legacy error lines (see ConnectError) with the host text and
// port as given on the command line; seeds must not be empty.
func Connect(cp *as.ClientPolicy, seeds []compat.Host, hostText string, port int) (*as.Client, []string) {
	client, err := as.NewClientWithPolicyAndHost(cp, Hosts(seeds)...)
	if err != nil {
		return nil, ConnectError(hostText, port, seeds[0], err)
	}
	return client, nil
}

// seedLinePrefix is the C client's location tag for seed failures.
const seedLinePrefix = "[src/main/aerospike/as_cluster.c:395][as_cluster_seed_node] "

// ConnectError formats a connection failure like the legacy tools: the
// C client's line for the first seed (with its parsed name and port), then
// `Error while connecting to <host>:<port> - code <n>: Failed to connect at
// src/main/aerospike/as_cluster.c:416` with the host text and --port as
// given. A server that refuses the login with a result code other than
// SECURITY_NOT_SUPPORTED gets only the second line, with that code.
func ConnectError(host string, port int, seed compat.Host, err error) []string {
	addr := net.JoinHostPort(seed.Name, strconv.Itoa(seed.Port))
	text := err.Error()
	result := types.ResultCode(0)
	if ae, ok := err.(*as.AerospikeError); ok {
		result = ae.ResultCode
	}
	secNS := strings.Contains(text, "SECURITY_NOT_SUPPORTED")
	if ae, ok := err.(as.Error); ok && ae.Matches(types.SECURITY_NOT_SUPPORTED) {
		secNS = true
	}
	code := -10 // AEROSPIKE_ERR_CONNECTION
	var seedLine string
	switch {
	case secNS:
		// A Community server refuses the login.
		code = int(types.SECURITY_NOT_SUPPORTED)
		seedLine = "AEROSPIKE_SECURITY_NOT_SUPPORTED AEROSPIKE_SECURITY_NOT_SUPPORTED from " + addr
	case tlsReason(text) != "":
		// The handshake failed (untrusted certificate, wrong TLS name,
		// protocol mismatch): say why.
		seedLine = fmt.Sprintf("AEROSPIKE_ERR_TLS_ERROR TLS handshake failed: %s, %s", tlsReason(text), addr)
	case result == types.TIMEOUT || strings.Contains(text, "timeout") || strings.Contains(text, "TIMEOUT"):
		code = int(types.TIMEOUT)
		seedLine = "AEROSPIKE_ERR_TIMEOUT " + firstLine(text)
	case strings.HasSuffix(text, "EOF") || strings.Contains(text, "connection reset"):
		// Something answered but dropped the connection (for example a
		// TLS port spoken to without --tls-enable).
		seedLine = "AEROSPIKE_ERR_CONNECTION Socket read error: 104, " + addr
	case result > 0 && result != types.PARAMETER_ERROR:
		// Another refusal by the server (for example a wrong password).
		code = int(result)
	default:
		// Nothing answered at the seed address (connection refused).
		seedLine = "AEROSPIKE_ERR_CONNECTION Socket write error: 111, " + addr
	}
	var lines []string
	if seedLine != "" {
		lines = append(lines, fmt.Sprintf("%sFailed to connect to seed %s %d. %s", seedLinePrefix, seed.Name, seed.Port, seedLine))
	}
	return append(lines, fmt.Sprintf("Error while connecting to %s:%d - code %d: Failed to connect at src/main/aerospike/as_cluster.c:416", host, port, code))
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

// AddNodeLines returns the C client's "Add node" log line for every node of
// the cluster, as the legacy tools print them once connected.
func AddNodeLines(client *as.Client) []string {
	var out []string
	for _, n := range client.GetNodes() {
		h := n.GetHost()
		out = append(out, fmt.Sprintf("[src/main/aerospike/as_cluster.c:198][as_cluster_add_nodes_copy] Add node %s %s:%d", n.GetName(), h.Name, h.Port))
	}
	return out
}
