package asdsim

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"
)

// waitWrite retries a write until it succeeds (the client reconnects in the
// background) or the deadline passes.
func waitWrite(t *testing.T, c *as.Client, key *as.Key, v int) {
	t.Helper()
	wp := as.NewWritePolicy(0, 0)
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if err = c.PutBins(wp, key, as.NewBin("v", v)); err == nil {
			return
		}
	}
	t.Fatalf("no write succeeded: %v", err)
}

// TestDownUp checks a restart: connections are refused while the node is
// down, the store survives, and the node serves again on the same port.
func TestDownUp(t *testing.T) {
	s := startServer(t, Config{})
	c := connect(t, s)
	key := mustKey(t, "test", "s", "k")
	waitWrite(t, c, key, 1)
	s.Down()
	if !s.Node(0).IsDown() {
		t.Fatal("node not down")
	}
	_, err := net.DialTimeout("tcp", s.Addr(), time.Second)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial while down: %v, want connection refused", err)
	}
	wp := as.NewWritePolicy(0, 0)
	wp.MaxRetries = 0
	if err := c.PutBins(wp, key, as.NewBin("v", 2)); err == nil {
		t.Fatal("write while down succeeded")
	}
	if err := s.Up(); err != nil {
		t.Fatal(err)
	}
	if s.Node(0).IsDown() || s.Node(0).Outages() != 1 {
		t.Fatalf("after Up: down %v, outages %d", s.Node(0).IsDown(), s.Node(0).Outages())
	}
	rec, err := c.Get(nil, key)
	for deadline := time.Now().Add(10 * time.Second); err != nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		rec, err = c.Get(nil, key)
	}
	if err != nil || rec.Bins["v"] != 1 {
		t.Fatalf("record after restart: %v, %v (want v=1)", rec, err)
	}
	waitWrite(t, c, key, 3)
}

// TestDropConnections checks that a dropping node resets its connections
// and every new one, and serves again once turned off.
func TestDropConnections(t *testing.T) {
	s := startServer(t, Config{})
	c := connect(t, s)
	key := mustKey(t, "test", "s", "k")
	waitWrite(t, c, key, 1)
	s.Node(0).SetDropConnections(true)
	conn, err := net.DialTimeout("tcp", s.Addr(), time.Second)
	if err != nil {
		t.Fatalf("dial while dropping: %v (connections are accepted, then closed)", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [1]byte
	if n, err := conn.Read(b[:]); err == nil || n != 0 {
		t.Fatalf("read from a dropped connection: %d, %v", n, err)
	}
	conn.Close()
	wp := as.NewWritePolicy(0, 0)
	wp.MaxRetries = 0
	if err := c.PutBins(wp, key, as.NewBin("v", 2)); err == nil {
		t.Fatal("write while dropping succeeded")
	}
	s.Node(0).SetDropConnections(false)
	waitWrite(t, c, key, 3)
}

// TestOutageAfterRecords checks the one-shot outage triggered by a record
// count: the node goes down after exactly that many writes and comes back.
func TestOutageAfterRecords(t *testing.T) {
	s := startServer(t, Config{})
	c := connect(t, s)
	s.Faults().OutageAfterRecords(3, 300*time.Millisecond)
	wp := as.NewWritePolicy(0, 0)
	wp.MaxRetries = 0
	for i := 0; i < 2; i++ {
		if err := c.PutBins(wp, mustKey(t, "test", "s", i), as.NewBin("v", i)); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if s.Node(0).IsDown() {
		t.Fatal("down after 2 of 3 records")
	}
	// The third write is stored, but the node goes down before answering.
	if err := c.PutBins(wp, mustKey(t, "test", "s", 2), as.NewBin("v", 2)); err == nil {
		t.Fatal("the write that triggers the outage got an answer")
	}
	if s.Node(0).Outages() != 1 {
		t.Fatal("no outage after 3 records")
	}
	waitWrite(t, c, mustKey(t, "test", "s", 3), 3)
	if n := len(s.Records("test")); n != 4 || s.Node(0).Outages() != 1 {
		t.Fatalf("%d records, %d outages; want 4 and 1", n, s.Node(0).Outages())
	}
}

// TestDropConnectionsAfterRecords checks the one-shot connection reset
// triggered by a record count.
func TestDropConnectionsAfterRecords(t *testing.T) {
	s := startServer(t, Config{})
	c := connect(t, s)
	s.Node(0).Faults().DropConnectionsAfterRecords(2, 200*time.Millisecond)
	wp := as.NewWritePolicy(0, 0)
	wp.MaxRetries = 0
	if err := c.PutBins(wp, mustKey(t, "test", "s", 0), as.NewBin("v", 0)); err != nil {
		t.Fatal(err)
	}
	if err := c.PutBins(wp, mustKey(t, "test", "s", 1), as.NewBin("v", 1)); err == nil {
		t.Fatal("the write that triggers the reset got an answer")
	}
	if s.Node(0).IsDown() || s.Node(0).Outages() != 1 {
		t.Fatalf("down %v, outages %d; want a dropping node that is up", s.Node(0).IsDown(), s.Node(0).Outages())
	}
	waitWrite(t, c, mustKey(t, "test", "s", 2), 2)
	if n := len(s.Records("test")); n != 3 {
		t.Fatalf("%d records, want 3", n)
	}
}
