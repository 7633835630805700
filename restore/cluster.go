package restore

import (
	"fmt"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"

	"asbtools/clusterconn"
	"asbtools/compat"
	"asbtools/msg"
)

// connect opens the cluster connection described by cfg. Errors carry the
// legacy "Error while connecting to ..." lines.
func connect(cfg *compat.RestoreConfig, env *Deps, connections int) (*as.Client, error) {
	seeds, e := cfg.Seeds()
	if e != nil {
		return nil, fail(e.Error())
	}
	set := clusterconn.Settings{Timeout: cfg.Timeout, ConnectionQueueSize: max(connections, 16)}
	if cfg.Cluster.AuthMode.Set {
		m, ok := compat.ParseAuthMode(cfg.Cluster.AuthMode.Value)
		if !ok {
			return nil, fail(compat.AuthModeError("asrestore", cfg.Cluster.AuthMode.Value).Messages[0].Text)
		}
		set.Auth = m
	}
	if cfg.Cluster.User != "" {
		user, pw, err := cfg.Cluster.Credentials(env.Prompt)
		if err != nil {
			return nil, msg.Wrap(err)
		}
		if !validCredentials(user, pw) {
			// The legacy tool prints this line with printf.
			return nil, msg.New(msg.Stdout(fmt.Sprintf("Invalid password for user name `%s`\n", user)))
		}
		set.User, set.Password = user, pw
	}
	cp, err := clusterconn.ClientPolicy(&cfg.Cluster, set)
	if err != nil {
		return nil, msg.Wrap(err)
	}
	if len(seeds) == 0 {
		return nil, fail(fmt.Sprintf("Error while connecting to %s:%d - code -10: Failed to connect at src/main/aerospike/as_cluster.c:416", cfg.Cluster.Host, cfg.Cluster.Port))
	}
	client, lines := clusterconn.Connect(cp, seeds, cfg.Cluster.Host, cfg.Cluster.Port)
	if client == nil {
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
