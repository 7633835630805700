package asdsim

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"
	"github.com/aerospike/aerospike-client-go/v7/logger"
)

// clientLog collects the client's log output (warnings and errors) so tests
// can assert that talking to the server produced none.
type clientLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *clientLog) Printf(format string, v ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, v...))
	l.mu.Unlock()
}

func (l *clientLog) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lines)
}

func (l *clientLog) since(m int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines[m:]...)
}

var testLog = &clientLog{}

func TestMain(m *testing.M) {
	logger.Logger.SetLogger(testLog)
	logger.Logger.SetLevel(logger.WARNING)
	os.Exit(m.Run())
}

// startServer starts a server for one test and stops it at cleanup.
func startServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	s, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// connect returns a real client connected to the server.
func connect(t testing.TB, s *Server, mod ...func(*as.ClientPolicy)) *as.Client {
	t.Helper()
	cp := as.NewClientPolicy()
	cp.Timeout = 5 * time.Second
	for _, f := range mod {
		f(cp)
	}
	c, err := as.NewClientWithPolicyAndHost(cp, as.NewHost(s.Host(), s.Port()))
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// oneConn limits the client to a single pooled connection per node, so a
// malformed reply would corrupt the next command.
func oneConn(cp *as.ClientPolicy) {
	cp.ConnectionQueueSize = 2
}

func mustKey(t testing.TB, ns, set string, k any) *as.Key {
	t.Helper()
	key, err := as.NewKey(ns, set, k)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// info sends one info command to the first node and returns its value.
func info(t testing.TB, c *as.Client, cmd string) string {
	t.Helper()
	n := c.GetNodes()[0]
	res, err := n.RequestInfo(as.NewInfoPolicy(), cmd)
	if err != nil {
		t.Fatalf("info %q: %v", cmd, err)
	}
	v, ok := res[cmd]
	if !ok {
		t.Fatalf("info %q: command not echoed (got %v)", cmd, res)
	}
	return v
}

// resultCode extracts the server result code of a client error (-1 if none).
func resultCode(err error) int {
	if err == nil {
		return 0
	}
	var ae *as.AerospikeError
	if errors.As(err, &ae) {
		return int(ae.ResultCode)
	}
	return -1
}

func wantCode(t testing.TB, err error, code int, what string) {
	t.Helper()
	if got := resultCode(err); got != code {
		t.Fatalf("%s: want result code %d, got %d (%v)", what, code, got, err)
	}
}

// noWarnings fails if the client logged anything since mark.
func noWarnings(t testing.TB, mark int) {
	t.Helper()
	if bad := testLog.since(mark); len(bad) > 0 {
		t.Fatalf("client logged:\n%s", strings.Join(bad, "\n"))
	}
}
