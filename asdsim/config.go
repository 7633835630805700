package asdsim

import (
	"crypto/tls"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Config configures a server (one or more nodes in one process).
type Config struct {
	// Host is the listen address; default "127.0.0.1".
	Host string
	// Port of the first node; 0 (default) picks a free port for every node.
	// With a fixed port, node i listens on Port+i.
	Port int
	// Nodes is the number of nodes; default 1. The 4096 partitions are
	// split between them.
	Nodes int
	// Namespaces; default "test" and "bar".
	Namespaces []NamespaceConfig
	// Build is the reported server version; default "8.1.2.0". Version
	// dependent replies (sindex syntax, error prefixes, feature flags) follow
	// it.
	Build string
	// Enterprise makes the server report the Enterprise edition.
	Enterprise bool
	// ClusterName is reported by "cluster-name"; default "asd-local".
	ClusterName string
	// Users enables security (login required) when not empty: user name to
	// password.
	Users map[string]string
	// TLS, when set, makes every node listen with TLS.
	TLS *tls.Config
	// TLSName is the name the nodes' certificates carry; peers-tls-std
	// reports it so that clients can verify the other nodes of a cluster.
	TLSName string
	// BatchIndexThreads is reported by get-config:context=service; default 4.
	BatchIndexThreads int
	// Clock overrides the time source (tests of TTL and last-update time).
	Clock func() time.Time
	// Logf receives diagnostic messages (connection errors); default none.
	Logf func(format string, args ...any)
}

// NamespaceConfig configures one namespace.
type NamespaceConfig struct {
	// Name of the namespace (1..31 bytes).
	Name string
	// DefaultTTL in seconds applied to writes with TTL 0; 0 = never expire.
	DefaultTTL uint32
	// RejectTTL emulates a real server with nsup-period 0 and
	// allow-ttl-without-nsup false: writes with an effective TTL fail with
	// FAIL_FORBIDDEN (22).
	RejectTTL bool
	// MaxRecordSize in bytes; default 1 MiB.
	MaxRecordSize int
	// ReplicationFactor; default 1. The effective factor is capped by the
	// number of nodes.
	ReplicationFactor int
}

// DefaultNamespaces are the namespaces of a default configuration.
var DefaultNamespaces = []string{"test", "bar"}

var buildRE = regexp.MustCompile(`^(\d+)\.(\d+)(?:\.(\d+))?`)

// version is a parsed server version.
type version struct{ major, minor, patch int }

func (v version) atLeast(major, minor int) bool {
	return v.major > major || (v.major == major && v.minor >= minor)
}

func (c *Config) normalize() (version, error) {
	if c.Host == "" {
		c.Host = "127.0.0.1"
	}
	if c.Nodes <= 0 {
		c.Nodes = 1
	}
	if c.Nodes > 64 {
		return version{}, fmt.Errorf("asdsim: too many nodes %d (max 64)", c.Nodes)
	}
	if len(c.Namespaces) == 0 {
		for _, n := range DefaultNamespaces {
			c.Namespaces = append(c.Namespaces, NamespaceConfig{Name: n})
		}
	}
	seen := map[string]bool{}
	for i := range c.Namespaces {
		ns := &c.Namespaces[i]
		if ns.Name == "" || len(ns.Name) >= 32 {
			return version{}, fmt.Errorf("asdsim: invalid namespace name %q", ns.Name)
		}
		if seen[ns.Name] {
			return version{}, fmt.Errorf("asdsim: duplicate namespace %q", ns.Name)
		}
		seen[ns.Name] = true
		if ns.MaxRecordSize <= 0 {
			ns.MaxRecordSize = 1 << 20
		}
		if ns.ReplicationFactor <= 0 {
			ns.ReplicationFactor = 1
		}
	}
	if c.Build == "" {
		c.Build = "8.1.2.0"
	}
	m := buildRE.FindStringSubmatch(c.Build)
	if m == nil {
		return version{}, fmt.Errorf("asdsim: invalid build %q (want e.g. 8.1.2.0)", c.Build)
	}
	var v version
	v.major, _ = strconv.Atoi(m[1])
	v.minor, _ = strconv.Atoi(m[2])
	if m[3] != "" {
		v.patch, _ = strconv.Atoi(m[3])
	}
	if c.ClusterName == "" {
		c.ClusterName = "asd-local"
	}
	if c.BatchIndexThreads == 0 {
		c.BatchIndexThreads = 4
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	return v, nil
}
