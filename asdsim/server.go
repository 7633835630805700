package asdsim

import (
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Server is a running simulated cluster: one or more nodes sharing one
// record store.
type Server struct {
	cfg     Config
	ver     version
	nsList  []*namespace
	nsByKey map[string]*namespace
	nodes   []*Node
	faults  *Faults
	meta    metadata
	sec     security
	started time.Time

	ownMu     sync.RWMutex
	owners    [Partitions]uint8 // master node index per partition
	partGen   atomic.Int64
	peersGen  atomic.Int64
	clusterID atomic.Uint64

	wg        sync.WaitGroup
	closeOnce sync.Once
	closed    atomic.Bool
	done      chan struct{}
}

// Node is one node of the simulated cluster.
type Node struct {
	srv    *Server
	index  int
	name   string
	ln     net.Listener
	addr   *net.TCPAddr
	faults *Faults

	connMu sync.Mutex
	conns  map[net.Conn]struct{}
	// down and dropping are the outage state (outage.go), guarded by
	// connMu, like ln while the node is restarted.
	down     bool
	dropping bool
	outages  int

	stats nodeStats
}

// nodeStats counts requests by kind.
type nodeStats struct {
	info, reads, writes, deletes, batches, scans, admin atomic.Int64
	connsOpened, connsClosed                            atomic.Int64
}

// Start starts a server with the given configuration, listening on
// cfg.Host (127.0.0.1 by default) on a free port per node unless cfg.Port is set.
func Start(cfg Config) (*Server, error) {
	ver, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, ver: ver, nsByKey: map[string]*namespace{}, started: time.Now(), faults: newFaults(), done: make(chan struct{})}
	for _, nc := range cfg.Namespaces {
		ns := newNamespace(nc)
		s.nsList = append(s.nsList, ns)
		s.nsByKey[nc.Name] = ns
	}
	s.meta.init()
	s.partGen.Store(1)
	s.peersGen.Store(1)
	s.clusterID.Store(rand.Uint64() & 0xFFFFFFFFFFFF)
	for p := 0; p < Partitions; p++ {
		s.owners[p] = uint8(p % cfg.Nodes)
	}
	for i := 0; i < cfg.Nodes; i++ {
		port := 0
		if cfg.Port != 0 {
			port = cfg.Port + i
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(port)))
		if err != nil {
			_ = s.Close() // the listen error is the one to report
			return nil, fmt.Errorf("asdsim: listen: %w", err)
		}
		addr := ln.Addr().(*net.TCPAddr)
		if cfg.TLS != nil {
			ln = tls.NewListener(ln, cfg.TLS)
		}
		n := &Node{
			srv:    s,
			index:  i,
			name:   fmt.Sprintf("BB9%02X%010X", i+1, addr.Port),
			ln:     ln,
			addr:   addr,
			faults: newFaults(),
			conns:  map[net.Conn]struct{}{},
		}
		s.nodes = append(s.nodes, n)
	}
	for _, n := range s.nodes {
		s.wg.Add(1)
		go n.acceptLoop(n.ln)
	}
	return s, nil
}

// Close stops every node, closes all connections and waits for every
// goroutine of the server to finish.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		for _, n := range s.nodes {
			n.connMu.Lock()
			// Shutting down: the server holds no data on its connections.
			_ = n.ln.Close()
			for c := range n.conns {
				_ = c.Close()
			}
			n.connMu.Unlock()
		}
		close(s.done)
	})
	s.wg.Wait()
	return nil
}

// Host returns the listen host of the nodes.
func (s *Server) Host() string { return s.nodes[0].addr.IP.String() }

// Port returns the port of the first node.
func (s *Server) Port() int { return s.nodes[0].addr.Port }

// Addr returns "host:port" of the first node.
func (s *Server) Addr() string { return s.nodes[0].Addr() }

// Addrs returns "host:port" of every node.
func (s *Server) Addrs() []string {
	out := make([]string, len(s.nodes))
	for i, n := range s.nodes {
		out[i] = n.Addr()
	}
	return out
}

// Nodes returns the nodes of the cluster.
func (s *Server) Nodes() []*Node { return append([]*Node(nil), s.nodes...) }

// Node returns node i.
func (s *Server) Node(i int) *Node { return s.nodes[i] }

// Build returns the reported server version.
func (s *Server) Build() string { return s.cfg.Build }

// Faults returns the fault hooks that apply to every node.
func (s *Server) Faults() *Faults { return s.faults }

// Addr returns "host:port" of the node.
func (n *Node) Addr() string { return n.addr.String() }

// Port returns the node's port.
func (n *Node) Port() int { return n.addr.Port }

// Name returns the node id reported by the "node" info command.
func (n *Node) Name() string { return n.name }

// Index returns the node's position in the cluster (0-based).
func (n *Node) Index() int { return n.index }

// Faults returns the fault hooks of this node only.
func (n *Node) Faults() *Faults { return n.faults }

// Stats returns request counters of the node.
func (n *Node) Stats() NodeStats {
	return NodeStats{
		Info:              n.stats.info.Load(),
		Reads:             n.stats.reads.Load(),
		Writes:            n.stats.writes.Load(),
		Deletes:           n.stats.deletes.Load(),
		Batches:           n.stats.batches.Load(),
		Scans:             n.stats.scans.Load(),
		Admin:             n.stats.admin.Load(),
		ConnectionsOpened: n.stats.connsOpened.Load(),
		ConnectionsClosed: n.stats.connsClosed.Load(),
	}
}

// NodeStats are request counters of one node.
type NodeStats struct {
	Info, Reads, Writes, Deletes, Batches, Scans, Admin int64
	ConnectionsOpened, ConnectionsClosed                int64
}

// Partitions returns the partitions this node currently masters.
func (n *Node) Partitions() []int {
	s := n.srv
	s.ownMu.RLock()
	defer s.ownMu.RUnlock()
	var out []int
	for p, o := range s.owners {
		if int(o) == n.index {
			out = append(out, p)
		}
	}
	return out
}

// owns reports whether node idx masters partition pid.
func (s *Server) owns(idx, pid int) bool {
	s.ownMu.RLock()
	o := s.owners[pid]
	s.ownMu.RUnlock()
	return int(o) == idx
}

// MovePartitions makes node `to` the master of the given partitions and
// bumps the partition generation (and cluster key), as a real cluster change
// would. Until clients refresh their partition map, scans sent to the old
// master report those partitions unavailable.
func (s *Server) MovePartitions(to int, pids ...int) error {
	if to < 0 || to >= len(s.nodes) {
		return fmt.Errorf("asdsim: no node %d", to)
	}
	for _, p := range pids {
		if p < 0 || p >= Partitions {
			return fmt.Errorf("asdsim: invalid partition %d", p)
		}
	}
	s.ownMu.Lock()
	for _, p := range pids {
		s.owners[p] = uint8(to)
	}
	s.ownMu.Unlock()
	s.BumpPartitionGeneration()
	return nil
}

// BumpPartitionGeneration increments the partition generation reported by
// every node and changes the cluster key, simulating a rebalance.
func (s *Server) BumpPartitionGeneration() {
	s.partGen.Add(1)
	s.clusterID.Store(rand.Uint64() & 0xFFFFFFFFFFFF)
}

// now returns the current time from the configured clock.
func (s *Server) now() time.Time { return s.cfg.Clock() }

// nowVoid returns the current time in seconds since the Aerospike epoch.
func (s *Server) nowVoid() uint32 { return uint32(s.now().Unix() - CitrusleafEpoch) }

func (n *Node) acceptLoop(ln net.Listener) {
	defer n.srv.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			if n.srv.closed.Load() || n.replaced(ln) {
				return
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			n.srv.cfg.Logf("asdsim: accept: %v", err)
			return
		}
		n.connMu.Lock()
		if n.srv.closed.Load() || n.down || n.ln != ln {
			n.connMu.Unlock()
			_ = c.Close() // refused: closed or down
			return
		}
		if n.dropping {
			n.connMu.Unlock()
			n.stats.connsOpened.Add(1)
			n.stats.connsClosed.Add(1)
			_ = c.Close() // dropped on purpose
			continue
		}
		n.conns[c] = struct{}{}
		n.connMu.Unlock()
		n.stats.connsOpened.Add(1)
		n.srv.wg.Add(1)
		go n.serve(c)
	}
}

func (n *Node) forget(c net.Conn) {
	n.connMu.Lock()
	delete(n.conns, c)
	n.connMu.Unlock()
	n.stats.connsClosed.Add(1)
	_ = c.Close() // the connection is done; its replies were written or lost with it
}
