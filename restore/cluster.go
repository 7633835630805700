package restore

import (
	"fmt"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"
)

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
