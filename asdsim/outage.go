package asdsim

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"
)

// Outages: a node can be taken off the network while its store is kept, as
// when a real node restarts (Down/Up) or when a network blip resets every
// connection (SetDropConnections). Clients see connection refused, or
// connections reset, until the node is back.

// Down takes the node off the network: its listener is closed, so new
// connections are refused, and every open connection is closed. The
// records, indexes and UDFs are kept. Down on a node that is down does
// nothing.
func (n *Node) Down() {
	n.connMu.Lock()
	defer n.connMu.Unlock()
	if n.down || n.srv.closed.Load() {
		return
	}
	n.down = true
	n.outages++
	// An outage drops the listener and every connection on purpose: the
	// server only reads from them, nothing is lost if a close fails.
	_ = n.ln.Close()
	for c := range n.conns {
		_ = c.Close()
	}
}

// Up brings a node taken down by Down back: it listens again on the same
// address (and with the same TLS configuration). It retries for a few
// seconds while the port is still held by the old listener.
func (n *Node) Up() error {
	n.connMu.Lock()
	defer n.connMu.Unlock()
	if !n.down {
		return nil
	}
	if n.srv.closed.Load() {
		return errors.New("asdsim: server closed")
	}
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; {
		ln, err = net.Listen("tcp", n.addr.String())
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("asdsim: listen again on %s: %w", n.addr, err)
	}
	if n.srv.cfg.TLS != nil {
		ln = tls.NewListener(ln, n.srv.cfg.TLS)
	}
	n.ln = ln
	n.down = false
	n.srv.wg.Add(1)
	go n.acceptLoop(ln)
	return nil
}

// IsDown reports whether the node is down (between Down and Up).
func (n *Node) IsDown() bool { return n.isDown() }

func (n *Node) isDown() bool {
	n.connMu.Lock()
	defer n.connMu.Unlock()
	return n.down
}

// replaced reports whether ln is no longer the node's listener (the node
// was taken down, and maybe brought back with a new one).
func (n *Node) replaced(ln net.Listener) bool {
	n.connMu.Lock()
	defer n.connMu.Unlock()
	return n.down || n.ln != ln
}

// Outages returns how many times the node was taken down.
func (n *Node) Outages() int {
	n.connMu.Lock()
	defer n.connMu.Unlock()
	return n.outages
}

// SetDropConnections makes the node, while on, close every open connection
// and every connection it accepts before reading from it (clients see
// their connections reset). The store is kept. Turning it off restores
// normal service for new connections.
func (n *Node) SetDropConnections(on bool) {
	n.connMu.Lock()
	defer n.connMu.Unlock()
	if on && !n.dropping {
		n.outages++
		for c := range n.conns {
			_ = c.Close() // dropped on purpose
		}
	}
	n.dropping = on
}

// Down takes every node down (see Node.Down).
func (s *Server) Down() {
	for _, n := range s.nodes {
		n.Down()
	}
}

// Up brings every node back (see Node.Up).
func (s *Server) Up() error {
	var first error
	for _, n := range s.nodes {
		if err := n.Up(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Restart takes every node down for d and brings it back, in the
// background; the returned channel receives the result of Up.
func (s *Server) Restart(d time.Duration) <-chan error {
	s.Down()
	done := make(chan error, 1)
	go func() {
		select {
		case <-time.After(d):
		case <-s.done:
		}
		done <- s.Up()
	}()
	return done
}

// countRecords counts n records handled by node n toward the outage
// faults, and starts an outage that is due.
func (s *Server) countRecords(n *Node, k int) {
	if d, drop, ok := s.faults.countRecords(k); ok {
		for _, x := range s.nodes {
			x.outage(d, drop)
		}
	}
	if d, drop, ok := n.faults.countRecords(k); ok {
		n.outage(d, drop)
	}
}

// outage takes the node down (or makes it drop its connections) and, for
// d >= 0, brings it back d later.
func (n *Node) outage(d time.Duration, drop bool) {
	if drop {
		n.SetDropConnections(true)
	} else {
		n.Down()
	}
	if d < 0 {
		return
	}
	time.AfterFunc(d, func() {
		if drop {
			n.SetDropConnections(false)
			return
		}
		if err := n.Up(); err != nil && !n.srv.closed.Load() {
			n.srv.cfg.Logf("asdsim: %v", err)
		}
	})
}
