package backup

import (
	"errors"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"

	"asbtools/clusterconn"
)

// scanJob scans the job's unfinished partitions, node by node, retrying
// partitions reported unavailable or cut off by a transient failure from
// their last digest, like the C client's partition tracker: up to
// --max-retries more rounds, --sleep-between-retries apart, each round
// mapping the partitions to nodes with the client's current partition map.
func (e *engine) scanJob(j *job, js *jobSink) error {
	byPID := new(partTable)
	for _, p := range j.parts {
		byPID[p.id] = p
	}
	rp := &recParser{compact: e.cfg.Compact, binOrder: e.sp.bins}
	rounds := 0
	for {
		var pending []*partState
		for _, p := range j.parts {
			if !p.done {
				pending = append(pending, p)
			}
		}
		if len(pending) == 0 {
			return nil
		}
		if e.plan.perJob > 0 && j.records >= e.plan.perJob {
			for _, p := range pending {
				p.done = true
			}
			return nil
		}
		rounds++
		lastCode := 0
		groups := map[*as.Node][]*partState{}
		var order []*as.Node
		for _, p := range pending {
			n := e.nodeFor(p.id)
			if n == nil {
				lastCode = clusterconn.StatusInvalidNode
				continue
			}
			if _, ok := groups[n]; !ok {
				order = append(order, n)
			}
			groups[n] = append(groups[n], p)
		}
		retry := len(order) == 0
		for _, n := range order {
			parts := groups[n]
			err := e.scanNode(n, parts, j, js, rp, byPID)
			switch {
			case err == nil:
				for _, p := range parts {
					if p.retry {
						retry, lastCode = true, clusterconn.StatusCluster
					}
				}
			case errors.Is(err, errStopped), errors.Is(err, errWrite), errors.Is(err, errFile):
				return err
			default:
				code, ok := scanRetryable(err)
				if !ok {
					return err
				}
				retry, lastCode = true, code
			}
		}
		if e.isStopped() {
			return errStopped
		}
		if !retry {
			continue
		}
		if rounds > int(e.cfg.MaxRetries) {
			// The C client reports the status of the last failure, at
			// the position of its partition tracker.
			return &ScanError{Code: lastCode, Msg: clusterconn.StatusName(lastCode),
				At: "src/main/aerospike/as_partition_tracker.c:541"}
		}
		if d := e.cfg.SleepBetweenRetries; d > 0 {
			select {
			case <-time.After(d):
			case <-e.life.ctx.Done():
				return errStopped
			}
		}
	}
}

// scanRetryable returns the C client status of a failed node scan and
// whether the partition tracker retries it: partition unavailable, invalid
// node, connection errors, timeouts, index not found or not readable. The
// Go client's reports of a node it cannot reach (an empty connection
// pool, its error-rate breaker) count as connection errors; so do failures
// of the response stream that are not the server's.
func scanRetryable(err error) (int, bool) {
	var se *ScanError
	if errors.As(err, &se) {
		switch se.Code {
		case clusterconn.StatusCluster, clusterconn.StatusInvalidNode, clusterconn.StatusConnection,
			clusterconn.StatusAsyncConnection, clusterconn.StatusTimeout, clusterconn.StatusIndexNotFound,
			clusterconn.StatusIndexNotReadable:
			return se.Code, true
		}
		return se.Code, false
	}
	var ae *as.AerospikeError
	if !errors.As(err, &ae) {
		return clusterconn.StatusConnection, true
	}
	switch code := clusterconn.ErrorStatus(err); code {
	case clusterconn.StatusCluster, clusterconn.StatusInvalidNode, clusterconn.StatusConnection,
		clusterconn.StatusAsyncConnection, clusterconn.StatusTimeout, clusterconn.StatusIndexNotFound,
		clusterconn.StatusIndexNotReadable, clusterconn.StatusMaxErrorRate, clusterconn.StatusNoMoreConns,
		clusterconn.StatusClient:
		return code, true
	default:
		return code, false
	}
}

// nodeFor returns the node to scan partition p on: with --prefer-racks a
// replica on a preferred rack, else the master.
func (e *engine) nodeFor(p int) *as.Node {
	if e.racks != nil {
		if n := e.rackNode(p); n != nil {
			return n
		}
	}
	return e.masterOf(p)
}

// scanConn returns a connection to node n for one scan request: a pooled
// one, or when the pool is empty a new one, dialled (and logged in) once,
// so that a node that refuses connections fails the attempt at once as
// with the C client (the Go client would keep polling its pool for the
// whole connect timeout). pooled tells whether it goes back to the pool.
func (e *engine) scanConn(n *as.Node) (conn *as.Connection, pooled bool, err error) {
	c, aerr := n.GetConnection(time.Millisecond)
	if aerr == nil {
		return c, true, nil
	}
	if !n.IsActive() {
		return nil, false, aerr
	}
	cp := e.client.Cluster().ClientPolicy()
	if cp.Timeout <= 0 || cp.Timeout > connectTimeout {
		cp.Timeout = connectTimeout
	}
	c, aerr = as.NewConnection(&cp, n.GetHost())
	if aerr != nil {
		return nil, false, aerr
	}
	if aerr = c.Login(&cp); aerr != nil {
		c.Close()
		return nil, false, aerr
	}
	return c, false, nil
}

// scanReadBufSize is the per-job read buffer of the scan response stream;
// values larger than it are read straight into the record arena.
const scanReadBufSize = 32 << 10

// scanNode sends one scan request for parts to node n and reads the answer.
// Partitions not reported unavailable are marked done when the stream ends
// normally.
func (e *engine) scanNode(n *as.Node, parts []*partState, j *job, js *jobSink, rp *recParser, byPID *partTable) error {
	var max uint64
	if e.plan.perJob > 0 {
		max = e.plan.perJob - j.records
	}
	for _, p := range parts {
		p.retry = false
	}
	conn, pooled, aerr := e.scanConn(n)
	if aerr != nil {
		return aerr
	}
	release := func(ok bool) {
		switch {
		case !pooled:
			conn.Close()
		case ok:
			n.PutConnection(conn)
		default:
			n.InvalidateConnection(conn)
		}
	}
	_ = conn.SetTimeout(time.Time{}, e.sp.socketTO)
	req := buildScan(nil, &e.sp, parts, max)
	if _, aerr := conn.Write(req); aerr != nil {
		release(false)
		return aerr
	}
	before := j.records
	if rp.rbuf == nil {
		rp.rbuf = make([]byte, scanReadBufSize)
	}
	cr := &connReader{conn: conn, buf: rp.rbuf}
	err := rp.readStream(cr, byPID, js, e.isStopped)
	if err != nil {
		release(false)
		return err
	}
	release(true)
	// A node that returned fewer records than its MAX_RECORDS share (or
	// had none set) has finished every partition not reported unavailable.
	e.cp.mu.RLock()
	for _, p := range parts {
		if !p.retry {
			p.done = true
		}
	}
	e.cp.mu.RUnlock()
	_ = before
	return nil
}

// scanFailure returns the legacy status, message and source position of a
// failed scan (one line: the C client's sub-error list is not printed).
func scanFailure(err error) *ScanError {
	var se *ScanError
	if errors.As(err, &se) {
		return se
	}
	code := clusterconn.StatusClient
	var ae *as.AerospikeError
	if errors.As(err, &ae) {
		code = clusterconn.ErrorStatus(err)
	}
	return &ScanError{Code: code, Msg: clusterconn.StatusName(code), At: "src/main/aerospike/as_command.c:1519"}
}
