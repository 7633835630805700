package restore

import (
	"time"

	"asbtools/asb"
	"asbtools/infocmd"
	"asbtools/msg"
)

// sameIndex reports whether the server's definition e matches ix: same
// set, collection type, bin, data type, context and expression.
func sameIndex(e *asb.Index, ix *asb.Index) bool {
	if e.Set != ix.Set || e.Type != ix.Type || e.Context != ix.Context || e.Expression != ix.Expression {
		return false
	}
	if len(e.Paths) == 0 || len(ix.Paths) == 0 {
		return len(e.Paths) == len(ix.Paths)
	}
	return e.Paths[0].Bin == ix.Paths[0].Bin && e.Paths[0].Type == ix.Paths[0].Type
}

// indexTask is a created index to wait for.
type indexTask struct {
	ns, name string
}

// restoreIndex creates one index following the legacy rules (skip indexes
// of unwanted sets, keep identical ones, drop and recreate different ones).
// An error (with the legacy lines) means the restore must fail.
func (r *run) restoreIndex(ix *asb.Index) error {
	// Servers 8.x list an index without a set as set "null" and the
	// legacy backup tool writes that literally; it means "no set".
	if ix.Set == "null" {
		ix.Set = ""
	}
	ns := ix.Namespace
	if r.cfg.TargetNamespace != "" {
		ns = r.cfg.TargetNamespace
	}
	path := ""
	if len(ix.Paths) > 0 {
		path = ix.Paths[0].Bin
	}
	name := IndexName{Namespace: ns, Set: ix.Set, Name: ix.Name, Path: path}
	if !r.wantSet(ix.Set) {
		r.rep.IndexSkipped(name)
		r.c.SkippedIndexes.Add(1)
		return nil
	}
	r.rep.IndexRestoring(name)
	checkFailed := func(err error) error {
		return &msg.Error{Lines: []msg.Line{msg.Err("Error while checking index %s:%s:%s (%s)", ns, ix.Set, ix.Name, path)}, Err: err}
	}
	listCmd := infocmd.SIndexListCmd(ns, r.version.AtLeast(6, 1))
	// check looks the index up by name on the server: its definition,
	// whether it exists, or why the server could not be asked.
	check := func() (*asb.Index, bool, error) {
		reply, err := infoRequest(r.client, r.cfg.Timeout, nil, listCmd)
		if err != nil {
			return nil, false, err
		}
		list, err := infocmd.ParseSIndexList(reply)
		if err != nil {
			return nil, false, err
		}
		for i := range list {
			if list[i].Name == ix.Name && !list[i].SetIndex {
				return &list[i].Index, true, nil
			}
		}
		return nil, false, nil
	}
	e, exists, cerr := check()
	if cerr != nil {
		return checkFailed(cerr)
	}
	mismatched := false
	if exists && !sameIndex(e, ix) {
		mismatched = true
		r.rep.IndexRemoving(ns, ix.Name)
		reply, err := infoRequest(r.client, r.cfg.Timeout, nil, infocmd.SIndexDeleteCommand(ns, ix.Name, r.version))
		if err == nil {
			err = infocmd.CheckInfoReply(reply)
		}
		if err != nil {
			return &msg.Error{Lines: []msg.Line{msg.Err("Error while removing index %s:%s - %s", ns, ix.Name, err.Error())}, Err: err}
		}
		for tries := 0; tries < 10; tries++ {
			time.Sleep(time.Second)
			e, exists, cerr = check()
			if cerr != nil {
				return checkFailed(cerr)
			}
			if !exists || sameIndex(e, ix) {
				break
			}
		}
	}
	if exists {
		if !sameIndex(e, ix) {
			return msg.New(msg.Err("Error while removing mismatched index %s:%s", ns, ix.Name))
		}
		r.rep.IndexMatched(name)
		if mismatched {
			r.c.MismatchedIndexes.Add(1)
		} else {
			r.c.MatchedIndexes.Add(1)
		}
		return nil
	}
	cmd, err := infocmd.SIndexCreateCommand(ix, ns, r.version)
	if err == nil {
		r.rep.IndexCreating(name, ix.Context)
		var reply string
		reply, err = infoRequest(r.client, r.cfg.Timeout, nil, cmd)
		if err == nil {
			err = infocmd.CheckInfoReply(reply)
		}
	}
	if err != nil {
		return &msg.Error{Lines: []msg.Line{msg.Err("Error while creating index %s:%s:%s (%s) - %s", ns, ix.Set, ix.Name, path, err.Error())}, Err: err}
	}
	r.mu.Lock()
	r.tasks = append(r.tasks, indexTask{ns: ns, name: ix.Name})
	r.mu.Unlock()
	return nil
}

// waitIndexes waits until every created index is built on every node.
func (r *run) waitIndexes() bool {
	ok := true
	for _, t := range r.tasks {
		r.rep.IndexWaiting(t.ns, t.name)
		cmd := infocmd.SIndexStatCommand(t.ns, t.name, r.version)
		for {
			done := true
			for _, n := range r.client.GetNodes() {
				reply, err := infoRequest(r.client, r.cfg.Timeout, n, cmd)
				if err != nil {
					done = false
					continue
				}
				if pct, found := infocmd.SIndexLoadPercent(reply); !found || pct < 100 {
					if !found {
						if ie := infocmd.CheckInfoReply(reply); ie != nil {
							r.rep.Failed(&msg.Error{Lines: []msg.Line{msg.Err("Error while waiting for index %s:%s - %s", t.ns, t.name, ie.Error())}, Err: ie})
							ok = false
							break
						}
					}
					done = false
				}
			}
			if done || !ok || r.interrupted() {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	return ok
}

// restoreUDF uploads one UDF module.
func (r *run) restoreUDF(u *asb.UDF) error {
	r.rep.UDFRestoring(u.Name, len(u.Content))
	reply, err := infoRequest(r.client, r.cfg.Timeout, nil, infocmd.UDFPutCommand(u.Name, u.Content))
	if err == nil {
		err = infocmd.CheckUDFPutReply(reply)
	}
	if err != nil {
		return &msg.Error{Lines: []msg.Line{msg.Err("Error while putting UDF file %s - %s", u.Name, err.Error())}, Err: err}
	}
	r.mu.Lock()
	r.udfs = append(r.udfs, u.Name)
	r.mu.Unlock()
	return nil
}

// waitUDFs waits until every uploaded module is listed by every node.
func (r *run) waitUDFs() bool {
	for _, name := range r.udfs {
		r.rep.UDFWaiting(name)
		for {
			done := true
			for _, n := range r.client.GetNodes() {
				reply, err := infoRequest(r.client, r.cfg.Timeout, n, "udf-list")
				if err != nil || !infocmd.UDFPresent(reply, name) {
					done = false
				}
			}
			if done {
				break
			}
			if r.interrupted() {
				r.rep.Failed(msg.New(msg.Err("Error while waiting for UDF upload")))
				return false
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	return true
}
