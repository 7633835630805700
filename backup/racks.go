package backup

import (
	"strconv"
	"strings"
	"sync"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"
)

// --prefer-racks. The legacy tool turns on the C client's rack awareness:
// every cluster tend (at connect time, then every second) asks each node
// for `rack-ids`; a node that refuses (a Community server answers
// `ERROR:25:enterprise only`) is logged and the tend goes on, so the backup
// runs and reads every partition from its master. The Go client instead
// fails its tend (no partition map at all), so its rack awareness is left
// off: the engine reads `rack-ids` itself on the same schedule, with the
// same log line, and picks for each partition the first replica on the
// first preferred rack, else the master.

// rackTendInterval is the period of the rack refresh (the client's tend).
const rackTendInterval = time.Second

// rackTable holds the rack of every node for the backed-up namespace.
type rackTable struct {
	ids []int // preferred racks, in order

	mu    sync.RWMutex
	racks map[string]int // node name -> rack id
}

// refreshRacks reads `rack-ids` from every node, logging refusals like the
// legacy client's tend.
func (e *engine) refreshRacks() {
	rt := e.racks
	for _, n := range e.client.GetNodes() {
		resp, err := e.info(n, "rack-ids")
		rack, ok := 0, false
		switch {
		case err != nil:
			e.rackFailure(n, "AEROSPIKE_ERR_CONNECTION", firstLine(err.Error()))
		case strings.HasPrefix(resp, "ERROR"):
			code, msg := parseInfoError(resp)
			e.rackFailure(n, statusName(code), msg)
		default:
			rack, ok = nsRack(resp, e.cfg.Namespace)
		}
		rt.mu.Lock()
		if ok {
			rt.racks[n.GetName()] = rack
		} else {
			delete(rt.racks, n.GetName())
		}
		rt.mu.Unlock()
	}
}

func (e *engine) rackFailure(n *as.Node, status, msg string) {
	e.rep.RackRefreshFailed(n.GetName(), status, msg)
}

// rackTend refreshes the racks every rackTendInterval until finished.
func (e *engine) rackTend(finished <-chan struct{}) {
	t := time.NewTicker(rackTendInterval)
	defer t.Stop()
	for {
		select {
		case <-finished:
			return
		case <-t.C:
			e.refreshRacks()
		}
	}
}

// rackOf returns the rack of node n, if known.
func (rt *rackTable) rackOf(n *as.Node) (int, bool) {
	rt.mu.RLock()
	defer rt.mu.RUnlock()
	r, ok := rt.racks[n.GetName()]
	return r, ok
}

// rackNode returns the first replica of partition p on the first preferred
// rack, or nil when no replica is on a preferred rack.
func (e *engine) rackNode(p int) *as.Node {
	var d [20]byte
	d[0], d[1] = byte(p), byte(p>>8)
	key, err := as.NewKeyWithDigest(e.cfg.Namespace, "", nil, d[:])
	if err != nil {
		return nil
	}
	pol := as.NewPolicy()
	pol.ReplicaPolicy = as.SEQUENCE
	pt, err := as.PartitionForRead(e.client.Cluster(), pol, key)
	if err != nil {
		return nil
	}
	// The replicas in sequence order: master, then proles.
	var replicas []*as.Node
	for range e.client.GetNodes() {
		n, err := pt.GetNodeRead(e.client.Cluster())
		if err != nil || (len(replicas) > 0 && n == replicas[0]) {
			break
		}
		replicas = append(replicas, n)
		pt.PrepareRetryRead(false)
	}
	for _, id := range e.racks.ids {
		for _, n := range replicas {
			if r, ok := e.racks.rackOf(n); ok && r == id {
				return n
			}
		}
	}
	return nil
}

// nsRack finds the namespace's rack in a `rack-ids` answer
// (`<ns>:<rack>;<ns>:<rack>…`; a namespace name may contain ':').
func nsRack(resp, ns string) (int, bool) {
	for _, pair := range strings.Split(strings.TrimSpace(resp), ";") {
		i := strings.LastIndexByte(pair, ':')
		if i < 0 || pair[:i] != ns {
			continue
		}
		r, err := strconv.Atoi(pair[i+1:])
		return r, err == nil
	}
	return 0, false
}

// parseInfoError splits an `ERROR:<code>:<message>` info answer as the C
// client does (a missing or zero code is a server error, 1).
func parseInfoError(resp string) (int, string) {
	rest := strings.TrimPrefix(strings.TrimPrefix(resp, "ERROR"), ":")
	rest = strings.TrimRight(rest, "\n")
	c, msg, ok := strings.Cut(rest, ":")
	if !ok {
		return 1, rest
	}
	code, _ := strconv.Atoi(c)
	if code == 0 {
		code = 1
	}
	return code, msg
}

// statusName is the C client's name of a server result code.
func statusName(code int) string {
	switch code {
	case 4:
		return "AEROSPIKE_ERR_REQUEST_INVALID"
	case 16:
		return "AEROSPIKE_ERR_UNSUPPORTED_FEATURE"
	case 20:
		return "AEROSPIKE_ERR_NAMESPACE_NOT_FOUND"
	case 25:
		return "AEROSPIKE_ERR_ENTERPRISE_ONLY"
	case 80:
		return "AEROSPIKE_NOT_AUTHENTICATED"
	}
	return "AEROSPIKE_ERR_SERVER"
}
