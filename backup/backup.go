// Package backup is the asbackup engine: it connects to the cluster with
// aerospike-client-go (tending, authentication, TLS, partition map), issues
// partition scans itself over pooled client connections and parses the
// record stream straight into ASB records (bins in the server's order, raw
// particle bytes), and writes them through the legacy stream (zstd, AES-CTR)
// into directory-mode or single-file outputs, with the legacy log lines,
// progress, summary, throttling and .state handling. Beyond the legacy tool
// it checkpoints the .state file periodically during the run so that a
// backup killed without warning can still be continued exactly once.
package backup

import (
	"context"
	"encoding/base64"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"

	"asbtools/asb"
	"asbtools/clusterconn"
	"asbtools/infocmd"
	"asbtools/msg"
	"asbtools/state"
	"asbtools/storage"
	"asbtools/stream"
)

// DefaultCheckpointInterval is the default period of in-run checkpoints.
const DefaultCheckpointInterval = 5 * time.Second

// FirstCheckpointDelay is the time from the first record stored to the first
// in-run checkpoint (the period, if that is shorter): a backup killed early
// can be continued too. The period counts from that checkpoint.
const FirstCheckpointDelay = time.Second

// job is one partition filter scanned by one worker.
type job struct {
	index  int
	desc   string
	filter PartitionRange
	parts  []*partState
	// started is set when a worker picked the job up.
	started atomic.Bool
	records uint64
	// acquired, when set, is called once the job holds its backup file.
	acquired func()
}

// engine is one backup run. Its state is split into parts that each own
// their locking: the job plan (fixed before the workers start), the
// outputs and their rotation (out), the counters (count), the stop
// lifecycle (life), the start-up ordering of the jobs (gates) and the
// checkpoint state (cp).
type engine struct {
	cfg  *Config
	deps Deps
	rep  Reporter

	client  *as.Client
	sp      scanSpec
	version infocmd.Version
	streamO stream.Options
	// indexes are the secondary indexes to back up; firstVer is the
	// version of the first file (3.2 with expression indexes).
	indexes  []infocmd.SIndex
	firstVer asb.Version

	plan  plan
	out   outputs
	count counters
	life  lifecycle
	gates gates
	cp    checkpointState

	throttle *throttle
	// racks is the --prefer-racks state (nil without the option).
	racks *rackTable

	// sum is the result of the run.
	sum Summary
}

// plan is the jobs of the run, fixed before the workers start (no
// locking).
type plan struct {
	jobs    []*job
	threads int
	// filters are the partition filters the jobs were made from.
	filters []PartitionRange
	perJob  uint64 // max records per job, 0 = none
}

// outputs are the backup files of the run: the single file (-o), the
// directory-mode files and their rotation (-d), or the discarding output of
// an estimate (-e).
type outputs struct {
	store  storage.Store
	single *storage.File // -o and -e
	dir    *storage.Dir
	estW   *countWriter

	// writeMu serialises writes to the single output file; singleFail
	// follows that file once a write to it failed (under writeMu).
	writeMu    sync.Mutex
	singleFail *writeFailure

	// openFiles are the directory-mode files currently held by jobs.
	openMu    sync.Mutex
	openFiles map[*storage.File]struct{}
}

// track records a directory-mode file a job holds; untrack forgets it.
func (o *outputs) track(f *storage.File) {
	o.openMu.Lock()
	o.openFiles[f] = struct{}{}
	o.openMu.Unlock()
}

func (o *outputs) untrack(f *storage.File) {
	o.openMu.Lock()
	delete(o.openFiles, f)
	o.openMu.Unlock()
}

// held returns the directory-mode files held by jobs.
func (o *outputs) held() []*storage.File {
	o.openMu.Lock()
	defer o.openMu.Unlock()
	files := make([]*storage.File, 0, len(o.openFiles))
	for f := range o.openFiles {
		files = append(files, f)
	}
	return files
}

// counters are the run's totals (atomics, or set before or after the
// workers run).
type counters struct {
	records  atomic.Uint64
	bytes    atomic.Uint64
	estimate uint64 // records expected
	indexes  uint32
	udfs     uint32
	// samples and header are the encoded record sizes and the header size
	// of an estimate run (under out.writeMu).
	samples []uint64
	header  uint64
}

// lifecycle is the stop state of the run.
type lifecycle struct {
	// ctx is the run's context, cancelled by stop: when the caller's
	// context is cancelled (SIGINT/SIGTERM) or when a job fails.
	ctx    context.Context
	cancel context.CancelFunc
	// stopEvent reports the stop once (legacy prints the state file line
	// before anything stops).
	stopEvent sync.Once
	// callerStopped, set once the run can be interrupted, reports whether
	// the caller's context is cancelled; the first goroutine that notices
	// reports the interrupt and stops the run.
	callerStopped func() bool
	// aborted: the backup cannot be continued (no state is saved);
	// started: the jobs may run (the state file line is reported on a
	// stop).
	aborted atomic.Bool
	started atomic.Bool
}

// gates order the start of the jobs: the one-shot work (first-file meta
// line, indexes, UDFs) before any scan, the first file of every worker
// before the other jobs scan, and the first stored record before the first
// checkpoint.
type gates struct {
	// oneShot is closed once job 0 did the one-shot work (or a resumed
	// run needs none); oneShotDone tells without blocking.
	oneShot     chan struct{}
	oneShotDone atomic.Bool
	// firstStored is closed once the first record has been handed to a
	// backup file (the first checkpoint is timed from it).
	firstStored     chan struct{}
	firstStoredOnce sync.Once
	// firstWave is closed once every worker holds the file of its first
	// job (directory mode). Job 0 waits for it before the other jobs may
	// scan, so no job releases a file into the reuse queue while another
	// is still picking its first one: every worker starts on a file of its
	// own, as with the legacy tool.
	firstWave   chan struct{}
	firstWaveWG sync.WaitGroup
}

// openOneShot marks the one-shot work done and lets the jobs scan.
func (g *gates) openOneShot() {
	g.oneShotDone.Store(true)
	close(g.oneShot)
}

// waitOneShot waits for the one-shot work or for done.
func (g *gates) waitOneShot(done <-chan struct{}) {
	select {
	case <-g.oneShot:
	case <-done:
	}
}

// stored notes that a record was stored.
func (g *gates) stored() {
	g.firstStoredOnce.Do(func() {
		if g.firstStored != nil {
			close(g.firstStored)
		}
	})
}

// startFirstWave arms the first-wave gate for n workers.
func (g *gates) startFirstWave(n int) {
	g.firstWave = make(chan struct{})
	g.firstWaveWG.Add(n)
	go func() { g.firstWaveWG.Wait(); close(g.firstWave) }()
}

// arrived notes that one worker holds its first file.
func (g *gates) arrived() { g.firstWaveWG.Done() }

// waitFirstWave waits until every worker holds its first file, or done.
func (g *gates) waitFirstWave(done <-chan struct{}) {
	if g.firstWave == nil {
		return
	}
	select {
	case <-g.firstWave:
	case <-done:
	}
}

// checkpointState is the .state of the run: where it goes, the state a
// --continue run loaded, and the lock that pauses the writers while a
// checkpoint is taken.
type checkpointState struct {
	// mu is held shared while a record is written and its partition
	// digest updated, and exclusively while a checkpoint is taken.
	mu   sync.RWMutex
	path string
	// loaded is the state of a --continue run (resumed: its files are
	// reopened); written is set once this run wrote a state file.
	loaded  *state.State
	resumed bool
	written bool
}

// Run runs a backup. Cancelling ctx interrupts it as SIGINT does with the
// legacy tool: the jobs stop and the state is saved. Failures are
// *msg.Error values with the legacy lines; sum.Done tells whether the
// legacy summary line follows them.
func Run(ctx context.Context, cfg Config, deps Deps) (sum Summary, err error) {
	if deps.Clock == nil {
		deps.Clock = time.Now
	}
	e := &engine{cfg: &cfg, deps: deps, rep: deps.Reporter,
		gates: gates{oneShot: make(chan struct{}), firstStored: make(chan struct{})},
		out:   outputs{openFiles: map[*storage.File]struct{}{}, store: deps.Store}}
	if e.rep == nil {
		e.rep = NopReporter{}
	}
	if e.out.store == nil {
		e.out.store = storage.Local{}
	}
	// The caller's cancellation reaches the run through execute, which
	// reports it first.
	e.life.ctx, e.life.cancel = context.WithCancel(context.WithoutCancel(ctx))
	defer e.life.cancel()
	err = e.run(ctx)
	return e.sum, err
}

// stop stops the run (idempotent); once the backup has started, the
// legacy tool reports the state file it will write.
func (e *engine) stop() {
	e.life.stopEvent.Do(func() {
		// An aborted backup keeps no state (legacy says nothing either).
		if e.life.started.Load() && e.cp.path != "" && !e.life.aborted.Load() {
			e.rep.StateFileCreated(e.cp.path)
		}
	})
	e.life.cancel()
}

// isStopped reports whether the run stopped; a cancelled caller context is
// reported and stops it here, so that a worker that checks sees the stop at
// once.
func (e *engine) isStopped() bool {
	if e.life.ctx.Err() != nil {
		return true
	}
	return e.life.callerStopped != nil && e.life.callerStopped()
}

func (e *engine) run(parent context.Context) error {
	c := e.cfg
	if c.RemoveArtifacts {
		file, dir := "", c.Directory.Value
		if c.OutputFile.Set {
			file = c.OutputFile.Value
		}
		if err := e.out.store.RemoveArtifacts(file, dir, e.rep.StorageMessage); err != nil {
			return msg.Wrap(err)
		}
		return nil
	}
	e.rep.Started()
	// Start-up (package initialisation, option parsing) is over.
	e.releasePages()
	if err := e.init(); err != nil {
		return err
	}
	return e.execute(parent)
}

// init is legacy backup_status_init: option values parsed late, the
// connection, the object count and the server checks. A failure ends the
// run without a summary line.
func (e *engine) init() error {
	c := e.cfg
	switch {
	case c.PartitionList.Set:
		e.rep.ParsingSelection("partition-list", c.PartitionList.Value)
	case c.AfterDigest.Set:
		e.rep.ParsingSelection("after-digest", c.AfterDigest.Value)
	case c.NodeList.Set:
		e.rep.ParsingSelection("node-list", c.NodeList.Value)
	}
	if c.TargetsErr != nil {
		return c.TargetsErr
	}
	filters, nodes, racks := c.Partitions, c.Nodes, c.RackIDs
	e.sp = scanSpec{namespace: c.Namespace, noBins: c.NoBins, socketTO: c.SocketTimeout}
	if e.sp.socketTO == 0 {
		e.sp.socketTO = c.TotalTimeout
	}
	if c.FilterExp.Set {
		e.sp.filterExp = c.FilterExpBytes
		if len(c.Sets) == 1 {
			e.sp.set = c.Sets[0]
		}
	} else {
		exp, set := buildFilter(c)
		e.sp.set = set
		if exp != nil {
			s, err := exp.Base64()
			if err != nil {
				return msg.Errorf("Error while building the filter expression: %w", err)
			}
			e.sp.filterExp, _ = base64.StdEncoding.DecodeString(s)
		}
	}
	e.rep.Connecting()
	if e.deps.Connect == nil {
		return msg.New(msg.Err("No cluster connection"))
	}
	client, err := e.deps.Connect()
	if err != nil {
		return err
	}
	e.client = client
	clNodes := client.GetNodes()
	e.rep.ClientLines(clusterconn.AddNodeLines(client))
	if racks != nil {
		e.racks = &rackTable{ids: racks, racks: map[string]int{}}
		e.refreshRacks()
	}
	if c.NodeList.Set {
		sel, ok := matchNodes(clNodes, nodes)
		if !ok {
			return msg.New(msg.Err("Invalid node list. Potentially caused by duplicate nodes, nodes from different clusters, or if --node-list entries are IPv6, Aerospike server nodes may not have IPv6 configured."))
		}
		clNodes = sel
		if !c.Continue.Set {
			filters = e.nodePartitions(sel)
		}
	}
	e.rep.NodesSelected(len(clNodes))
	if err := e.countObjects(clNodes); err != nil {
		return msg.Wrap(err, msg.Err("Error while counting cluster objects"))
	}
	if err := e.checkBuild(clNodes); err != nil {
		return err
	}
	if c.MaxRecords > 0 && e.count.estimate > uint64(c.MaxRecords) {
		e.count.estimate = uint64(c.MaxRecords)
	}
	e.makeJobs(filters)
	return nil
}

// matchNodes returns the cluster nodes named by the --node-list entries.
func matchNodes(cl []*as.Node, specs []NodeAddr) ([]*as.Node, bool) {
	var out []*as.Node
	seen := map[*as.Node]bool{}
	for _, s := range specs {
		var found *as.Node
		for _, n := range cl {
			for _, h := range append([]*as.Host{n.GetHost()}, n.GetAliases()...) {
				if h.Port == s.Port && (h.Name == s.Addr.String() || h.Name == s.String()) {
					found = n
				}
			}
		}
		if found == nil || seen[found] {
			return nil, false
		}
		seen[found] = true
		out = append(out, found)
	}
	return out, true
}

// masterOf returns the node that masters partition p of ns.
func (e *engine) masterOf(p int) *as.Node {
	var d [20]byte
	d[0], d[1] = byte(p), byte(p>>8)
	key, err := as.NewKeyWithDigest(e.cfg.Namespace, "", nil, d[:])
	if err != nil {
		return nil
	}
	pol := as.NewPolicy()
	pol.ReplicaPolicy = as.MASTER
	pt, err := as.PartitionForRead(e.client.Cluster(), pol, key)
	if err != nil {
		return nil
	}
	n, err := pt.GetNodeRead(e.client.Cluster())
	if err != nil {
		return nil
	}
	return n
}

// nodePartitions turns the partitions mastered by the selected nodes into
// ranges of consecutive partitions.
func (e *engine) nodePartitions(sel []*as.Node) []PartitionRange {
	want := map[*as.Node]bool{}
	for _, n := range sel {
		want[n] = true
	}
	var out []PartitionRange
	for p := 0; p < state.NumPartitions; p++ {
		if !want[e.masterOf(p)] {
			continue
		}
		if k := len(out); k > 0 && out[k-1].Begin+out[k-1].Count == p {
			out[k-1].Count++
		} else {
			out = append(out, PartitionRange{Begin: p, Count: 1})
		}
	}
	return out
}

func (e *engine) info(n *as.Node, cmd string) (string, error) {
	pol := as.NewInfoPolicy()
	pol.Timeout = connectTimeout
	m, err := n.RequestInfo(pol, cmd)
	if err != nil {
		return "", err
	}
	return m[cmd], nil
}

func (e *engine) anyNode() *as.Node {
	nodes := e.client.GetNodes()
	if len(nodes) == 0 {
		return nil
	}
	return nodes[0]
}

func (e *engine) countObjects(nodes []*as.Node) error {
	c := e.cfg
	e.rep.CountingObjects()
	var total uint64
	var rf uint32
	for i, n := range nodes {
		resp, err := e.info(n, infocmd.NamespaceCmd(c.Namespace))
		if err != nil {
			return &msg.Error{Lines: []msg.Line{msg.Err("Error while getting namespace object count for node %s", n.GetName())}, Err: err}
		}
		nc, perr := infocmd.ParseNamespaceCounts(resp)
		if perr != nil {
			return msg.Wrap(perr)
		}
		count := nc.Objects
		if len(c.Sets) > 0 {
			count = 0
			for _, s := range c.Sets {
				r, err := e.info(n, infocmd.SetCmd(c.Namespace, s))
				if err != nil {
					return &msg.Error{Lines: []msg.Line{msg.Err("Error while getting set object count for node %s", n.GetName())}, Err: err}
				}
				k, perr := infocmd.ParseSetObjects(r)
				if perr != nil {
					return msg.Wrap(perr)
				}
				count += k
			}
		}
		if i == 0 {
			rf = nc.ReplicationFactor
		} else if nc.ReplicationFactor != rf {
			e.rep.ReplicationMismatch(nc.ReplicationFactor, rf)
		}
		e.rep.NodeObjects(n.GetName(), count, nc.ReplicationFactor)
		total += count
	}
	if rf == 0 {
		e.rep.ReplicationZero()
		rf = 1
	}
	e.count.estimate = total / uint64(rf)
	e.rep.RecordsSelected(c.Namespace, c.Sets, e.count.estimate)
	return nil
}

func (e *engine) checkBuild(nodes []*as.Node) error {
	c := e.cfg
	if len(nodes) == 0 {
		return nil
	}
	resp, err := e.info(nodes[0], infocmd.Build)
	if err != nil {
		return msg.Errorf("Error while getting server build: %w", err)
	}
	v, perr := infocmd.ParseBuild(resp)
	if perr != nil {
		return msg.Wrap(perr)
	}
	e.version = v
	e.rep.ServerBuild(v)
	if !v.AtLeast(4, 9) {
		return msg.New(msg.Err("Aerospike Server version 4.9 or greater is required to run asbackup, but version %d.%d is in use.", v.Major, v.Minor))
	}
	if (!c.ModifiedBefore.IsZero() || !c.ModifiedAfter.IsZero()) && !v.AtLeast(5, 2) {
		return msg.New(msg.Err("Aerospike Server version 5.2 or greater is required for --modified-before and --modified-after, but version %d.%d is in use", v.Major, v.Minor))
	}
	if len(c.Sets) > 1 && !v.AtLeast(5, 2) {
		return msg.New(msg.Err("Aerospike Server version 5.2 or greater is required for multi-set backup, but version %d.%d is in use", v.Major, v.Minor))
	}
	if c.NoTTLOnly && !v.AtLeast(5, 2) {
		return msg.New(msg.Err("Aerospike Server version 5.2 or greater is required for --no-ttl-only, but version %d.%d is in use", v.Major, v.Minor))
	}
	return nil
}

// buildFilter builds the selection expression of a run without -f:
// multi-set (OR of set names), modified-before/after (last update time) and
// no-ttl-only, joined with AND. It returns the single set to scan, if any.
func buildFilter(c *Config) (*as.Expression, string) {
	var parts []*as.Expression
	set := ""
	if len(c.Sets) == 1 {
		set = c.Sets[0]
	} else if len(c.Sets) > 1 {
		var ors []*as.Expression
		for _, s := range c.Sets {
			ors = append(ors, as.ExpEq(as.ExpSetName(), as.ExpStringVal(s)))
		}
		parts = append(parts, as.ExpOr(ors...))
	}
	if !c.ModifiedBefore.IsZero() {
		parts = append(parts, as.ExpLess(as.ExpLastUpdate(), as.ExpIntVal(c.ModifiedBefore.UnixNano())))
	}
	if !c.ModifiedAfter.IsZero() {
		parts = append(parts, as.ExpGreaterEq(as.ExpLastUpdate(), as.ExpIntVal(c.ModifiedAfter.UnixNano())))
	}
	if c.NoTTLOnly {
		parts = append(parts, as.ExpEq(as.ExpTTL(), as.ExpIntVal(-1)))
	}
	switch len(parts) {
	case 0:
		return nil, set
	case 1:
		return parts[0], set
	}
	return as.ExpAnd(parts...), set
}

// makeJobs splits the filters into jobs (legacy §8.3).
func (e *engine) makeJobs(filters []PartitionRange) {
	c := e.cfg
	e.plan.filters = append([]PartitionRange(nil), filters...)
	n := c.Parallel
	if len(filters) <= 1 {
		r := PartitionRange{Begin: 0, Count: state.NumPartitions}
		if len(filters) == 1 {
			r = filters[0]
		}
		if n > r.Count {
			e.rep.ParallelReduced(n, r.Count, false)
			n = r.Count
		}
		if n > 1 {
			filters = filters[:0]
			for i := 0; i < n; i++ {
				b := r.Begin + r.Count*i/n
				end := r.Begin + r.Count*(i+1)/n
				filters = append(filters, PartitionRange{Begin: b, Count: end - b})
			}
		} else {
			filters = []PartitionRange{r}
		}
	} else if n > len(filters) {
		e.rep.ParallelReduced(n, len(filters), true)
		n = len(filters)
	}
	if n < 1 {
		n = 1
	}
	e.plan.threads = n
	for i, f := range filters {
		j := &job{index: i, filter: f}
		switch {
		case f.Digest != nil:
			j.desc = fmt.Sprintf("partition %d after %s", f.Begin, base64.StdEncoding.EncodeToString(f.Digest))
		case f.Count == 1:
			j.desc = fmt.Sprintf("partition %d", f.Begin)
		default:
			j.desc = fmt.Sprintf("%d partitions from %d to %d", f.Count, f.Begin, f.Begin+f.Count-1)
		}
		for p := f.Begin; p < f.Begin+f.Count; p++ {
			ps := &partState{id: p}
			if f.Digest != nil {
				copy(ps.digest[:], f.Digest)
				ps.hasDig = true
			}
			j.parts = append(j.parts, ps)
		}
		e.plan.jobs = append(e.plan.jobs, j)
	}
}
