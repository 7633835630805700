package backup

import (
	"errors"
	"fmt"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"
)

// scanJob scans the job's unfinished partitions, node by node, retrying
// partitions reported unavailable or cut off by a connection failure from
// their last digest (like the client's partition tracker).
func (e *engine) scanJob(j *job, js *jobSink) error {
	byPID := new(partTable)
	for _, p := range j.parts {
		byPID[p.id] = p
	}
	rp := &recParser{compact: e.cfg.Compact, binOrder: e.sp.bins}
	retries := 0
	var lastErr error
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
		if e.perJob > 0 && j.records >= e.perJob {
			for _, p := range pending {
				p.done = true
			}
			return nil
		}
		if retries > int(e.cfg.MaxRetries) {
			return lastErr
		}
		groups := map[*as.Node][]*partState{}
		var order []*as.Node
		for _, p := range pending {
			n := e.nodeFor(p.id)
			if n == nil {
				lastErr = &ScanError{Code: 11, Msg: fmt.Sprintf("Partition %d unavailable", p.id)}
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
			case errors.Is(err, errStopped), errors.Is(err, errWrite), errors.Is(err, errFile):
				return err
			case retryable(err):
				retry, lastErr = true, err
			default:
				return err
			}
		}
		if retry {
			retries++
			if d := e.cfg.SleepBetweenRetries; d > 0 {
				select {
				case <-time.After(d):
				case <-e.ctx.Done():
					return errStopped
				}
			}
		}
		if e.isStopped() {
			return errStopped
		}
	}
}

func retryable(err error) bool {
	var se *ScanError
	if errors.As(err, &se) {
		switch se.Code {
		case 9, 11, 14, 201, 202:
			return true
		}
		return false
	}
	return true // network errors
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

// scanReadBufSize is the per-job read buffer of the scan response stream;
// values larger than it are read straight into the record arena.
const scanReadBufSize = 32 << 10

// scanNode sends one scan request for parts to node n and reads the answer.
// Partitions not reported unavailable are marked done when the stream ends
// normally.
func (e *engine) scanNode(n *as.Node, parts []*partState, j *job, js *jobSink, rp *recParser, byPID *partTable) error {
	var max uint64
	if e.perJob > 0 {
		max = e.perJob - j.records
	}
	for _, p := range parts {
		p.retry = false
	}
	conn, aerr := n.GetConnection(connectTimeout)
	if aerr != nil {
		return aerr
	}
	_ = conn.SetTimeout(time.Time{}, e.sp.socketTO)
	req := buildScan(nil, &e.sp, parts, max)
	if _, aerr := conn.Write(req); aerr != nil {
		n.InvalidateConnection(conn)
		return aerr
	}
	before := j.records
	if rp.rbuf == nil {
		rp.rbuf = make([]byte, scanReadBufSize)
	}
	cr := &connReader{conn: conn, buf: rp.rbuf}
	err := rp.readStream(cr, byPID, js, e.isStopped)
	if err != nil {
		n.InvalidateConnection(conn)
		return err
	}
	n.PutConnection(conn)
	// A node that returned fewer records than its MAX_RECORDS share (or
	// had none set) has finished every partition not reported unavailable.
	e.ckpt.RLock()
	for _, p := range parts {
		if !p.retry {
			p.done = true
		}
	}
	e.ckpt.RUnlock()
	_ = before
	return nil
}
