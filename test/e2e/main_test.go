package e2e

import (
	"os"
	"testing"

	"asbtools/internal/sandbox"
)

// TestMain runs the tests in private network and mount namespaces (see
// package sandbox): the transcripts' test server gets 127.0.0.1:3000 whatever
// listens there on the host, and the host's /etc/aerospike/astools.conf and
// ~/.aerospike/astools.conf are never read. Tests that need configuration
// files write them into a temporary HOME (toolCmd) or a private mount
// namespace of their own.
func TestMain(m *testing.M) {
	if os.Getenv(hostileHostEnv) != "" {
		setUpHostileHost()
	}
	sandbox.Main(withS3Cleanup{m})
}
