package restore

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
)

// connect opens the cluster connection described by cfg. Errors carry the
// legacy "Error while connecting to ..." line.
func connect(cfg *compat.RestoreConfig, env *Env, connections int) (*as.Client, error) {
	seeds, e := cfg.Seeds()
	if e != nil {
		return nil, fail(e.Error())
	}
	cp := as.NewClientPolicy()
	cp.Timeout = cfg.Timeout
	if cp.Timeout == 0 {
		cp.Timeout = 10 * time.Second
	}
	cp.LoginTimeout = cp.Timeout
	cp.UseServicesAlternate = cfg.Cluster.UseServicesAlternate
	cp.ConnectionQueueSize = max(connections, 16)
	cp.MinConnectionsPerNode = 0
	cp.FailIfNotConnected = true
	if cfg.Cluster.AuthMode.Set {
		m, ok := compat.ParseAuthMode(cfg.Cluster.AuthMode.Value)
		if !ok {
			return nil, fail(compat.AuthModeError("asrestore", cfg.Cluster.AuthMode.Value).Messages[0].Text)
		}
		switch m {
		case compat.AuthExternal, compat.AuthExternalInsecure:
			cp.AuthMode = as.AuthModeExternal
		case compat.AuthPKI:
			cp.AuthMode = as.AuthModePKI
		}
	}
	if cfg.Cluster.User != "" {
		user, pw, err := cfg.Cluster.Credentials(env.Prompt)
		if err != nil {
			return nil, fail(err.Error())
		}
		if !validCredentials(user, pw) {
			return nil, &stdoutFailure{line: fmt.Sprintf("Invalid password for user name `%s`", user)}
		}
		cp.User, cp.Password = user, pw
	}
	if cfg.Cluster.TLS.Enable {
		tc, err := tlsConfig(&cfg.Cluster.TLS)
		if err != nil {
			return nil, fail(err.Error())
		}
		cp.TlsConfig = tc
	}
	hosts := make([]*as.Host, 0, len(seeds))
	for _, s := range seeds {
		h := as.NewHost(s.Name, s.Port)
		h.TLSName = s.TLSName
		hosts = append(hosts, h)
	}
	client, err := as.NewClientWithPolicyAndHost(cp, hosts...)
	if err != nil {
		code := -10
		if ae, ok := err.(*as.AerospikeError); ok && ae.ResultCode > 0 {
			code = int(ae.ResultCode)
		}
		var inner *as.AerospikeError
		if ae, ok := err.(*as.AerospikeError); ok {
			inner = ae
		}
		if inner != nil && inner.ResultCode == types.INVALID_PASSWORD {
			code = int(types.INVALID_PASSWORD)
		}
		var lines []string
		if ae, ok := err.(as.Error); ok && ae.Matches(types.SECURITY_NOT_SUPPORTED) && len(seeds) > 0 {
			// A Community server refuses the login: the legacy client
			// reports the seed it tried first.
			code = int(types.SECURITY_NOT_SUPPORTED)
			addr := net.JoinHostPort(seeds[0].Name, strconv.Itoa(seeds[0].Port))
			lines = append(lines, fmt.Sprintf("[src/main/aerospike/as_cluster.c:395][as_cluster_seed_node] Failed to connect to seed %s %d. AEROSPIKE_SECURITY_NOT_SUPPORTED AEROSPIKE_SECURITY_NOT_SUPPORTED from %s", seeds[0].Name, seeds[0].Port, addr))
		}
		lines = append(lines, fmt.Sprintf("Error while connecting to %s:%d - code %d: Failed to connect at src/main/aerospike/as_cluster.c:416", cfg.Cluster.Host, cfg.Cluster.Port, code))
		return nil, fail(lines...)
	}
	return client, nil
}

// maxCredentialSize is the legacy client's buffer size for the user name
// and for the password (both NUL-terminated).
const maxCredentialSize = 64

// validCredentials reports whether the legacy client accepts the user name
// and password: a non-empty user name, both shorter than its buffers.
func validCredentials(user, password string) bool {
	return user != "" && len(user) < maxCredentialSize && len(password) < maxCredentialSize
}

// stdoutFailure is an error whose line the legacy tool prints to stdout
// (with printf) rather than as a log line.
type stdoutFailure struct {
	line string
}

func (f *stdoutFailure) Error() string { return f.line }

// tlsConfig builds the client TLS configuration from the TLS options.
func tlsConfig(t *compat.TLSConfig) (*tls.Config, error) {
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
		entries, _ := os.ReadDir(t.CAPath.Value)
		for _, e := range entries {
			if b, err := os.ReadFile(t.CAPath.Value + "/" + e.Name()); err == nil {
				pool.AppendCertsFromPEM(b)
			}
		}
	}
	if ca != nil {
		if !pool.AppendCertsFromPEM(ca) {
			return nil, fmt.Errorf("Failed to load CA file")
		}
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
			return nil, fmt.Errorf("Failed to load client certificate: %s", strings.TrimSpace(err.Error()))
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	return tc, nil
}

// serverInfo is what the restore needs to know about the server.
type serverInfo struct {
	build       string
	batchWrites bool
}

// infoRequest sends an info command to one node.
func infoRequest(client *as.Client, timeout time.Duration, node *as.Node, cmd string) (string, error) {
	if node == nil {
		nodes := client.GetNodes()
		if len(nodes) == 0 {
			return "", fmt.Errorf("no nodes available")
		}
		node = nodes[0]
	}
	p := as.NewInfoPolicy()
	if timeout > 0 {
		p.Timeout = timeout
	}
	m, err := node.RequestInfo(p, cmd)
	if err != nil {
		return "", err
	}
	return m[cmd], nil
}
