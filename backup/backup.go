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
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"

	"asbtools/asb"
	"asbtools/clusterconn"
	"asbtools/compat"
	"asbtools/infocmd"
	"asbtools/logging"
	"asbtools/state"
	"asbtools/storage"
	"asbtools/stream"
)

// Options configure a run.
type Options struct {
	Config *compat.BackupConfig
	// Log receives the legacy log lines.
	Log *logging.Logger
	// Password is the cluster password after prompting (Config.Cluster.User
	// set); TLSKeyPassword likewise.
	Password string
	// CheckpointInterval is the period of the in-run .state checkpoints;
	// 0 means the default (5 s), negative disables them.
	CheckpointInterval time.Duration
}

// DefaultCheckpointInterval is the default period of in-run checkpoints.
const DefaultCheckpointInterval = 5 * time.Second

// job is one partition filter scanned by one worker.
type job struct {
	index  int
	desc   string
	filter compat.PartitionFilter
	parts  []*partState
	// started is set when a worker picked the job up.
	started atomic.Bool
	records uint64
	// acquired, when set, is called once the job holds its backup file.
	acquired func()
}

type engine struct {
	cfg  *compat.BackupConfig
	log  *logging.Logger
	opts Options

	client  *as.Client
	sp      scanSpec
	version infocmd.Version
	streamO stream.Options

	jobs    []*job
	threads int
	// filters are the partition filters the jobs were made from.
	filters []compat.PartitionFilter
	perJob  uint64 // max records per job, 0 = none

	// outputs
	single *storage.File // -o and -e
	dir    *storage.Dir
	estW   *countWriter

	statePath string
	loaded    *state.State
	resumed   bool

	indexes    []infocmd.SIndex
	indexCount uint32
	udfCount   uint32
	firstVer   asb.Version

	// counters
	recTotal    atomic.Uint64
	byteTotal   atomic.Uint64
	recEstimate uint64

	// writeMu serialises writes to the single output file.
	writeMu sync.Mutex
	// ckpt is held shared while a record is written and its partition
	// digest updated, and exclusively while a checkpoint is taken.
	ckpt sync.RWMutex

	// openFiles are the directory-mode files currently held by jobs.
	openMu    sync.Mutex
	openFiles map[*storage.File]struct{}

	oneShot     chan struct{}
	oneShotDone atomic.Bool
	// firstWave is closed once every worker holds the file of its first
	// job (directory mode). Job 0 waits for it before the other jobs may
	// scan, so no job releases a file into the reuse queue while another
	// is still picking its first one: every worker starts on a file of its
	// own, as with the legacy tool.
	firstWave   chan struct{}
	firstWaveWG sync.WaitGroup
	aborted     atomic.Bool
	started     atomic.Bool
	// ctx is the run's context: cancelled when the caller's context is
	// (SIGINT/SIGTERM) or when a job fails; cancel stops the run.
	ctx    context.Context
	cancel context.CancelFunc

	throttle *throttle
	// racks is the --prefer-racks state (nil without the option).
	racks *rackTable

	checkpointed bool

	samples []uint64
	header  uint64

	// silent drops INF and VER lines (the pre-run estimate of -o).
	silent bool
}

// Run executes asbackup with a validated configuration and returns the
// process exit code. Cancelling ctx interrupts the backup as SIGINT does
// with the legacy tool: the jobs stop and the state is saved.
func Run(ctx context.Context, opts Options) int {
	e := &engine{cfg: opts.Config, log: opts.Log, opts: opts,
		oneShot: make(chan struct{}), openFiles: map[*storage.File]struct{}{}}
	e.ctx, e.cancel = context.WithCancel(ctx)
	defer e.cancel()
	return e.run(ctx)
}

func (e *engine) infof(format string, a ...any) {
	if !e.silent {
		e.log.Infof(format, a...)
	}
}

func (e *engine) verbosef(format string, a ...any) {
	if !e.silent {
		e.log.Verbosef(format, a...)
	}
}
func (e *engine) errf(format string, a ...any) { e.log.Errorf(format, a...) }

// stop stops the run (idempotent).
func (e *engine) stop() { e.cancel() }

func (e *engine) isStopped() bool { return e.ctx.Err() != nil }

func (e *engine) logLines(err *compat.Error) {
	compat.Print(err.Messages, e.log, os.Stdout)
}

func (e *engine) logf(info bool, msg string) {
	if info {
		e.infof("%s", msg)
	} else {
		e.errf("%s", msg)
	}
}

func (e *engine) run(parent context.Context) int {
	c := e.cfg
	if c.RemoveArtifacts {
		file, dir := "", c.Directory.Value
		if c.OutputFile.Set {
			file = c.OutputFile.Value
		}
		if err := storage.RemoveArtifacts(file, dir, e.logf); err != nil {
			e.errf("%s", err)
			return 1
		}
		return 0
	}
	e.logStart()
	// Start-up (package initialisation, option parsing) is over.
	releaseStartupPages()
	if !e.init() {
		return 1
	}
	return e.execute(parent)
}

func (e *engine) logStart() {
	e.infof("%s", e.cfg.StartMessage())
}

// init is legacy backup_status_init: option values parsed late, the
// connection, the object count and the server checks. It returns false
// after logging the failure (no summary line follows).
func (e *engine) init() bool {
	c := e.cfg
	switch {
	case c.PartitionList.Set:
		e.verbosef("Parsing partition-list '%s'", c.PartitionList.Value)
	case c.AfterDigest.Set:
		e.verbosef("Parsing after-digest '%s'", c.AfterDigest.Value)
	case c.NodeList.Set:
		e.verbosef("Parsing node list %s", c.NodeList.Value)
	}
	t, perr := c.PrepareTargets()
	if perr != nil {
		e.logLines(perr)
		return false
	}
	filters, nodes, racks := t.Partitions, t.Nodes, t.RackIDs
	host, port := t.SeedText, t.SeedPort
	e.sp = scanSpec{namespace: c.Namespace, noBins: c.NoBins, socketTO: c.SocketTimeout}
	if e.sp.socketTO == 0 {
		e.sp.socketTO = c.TotalTimeout
	}
	if c.FilterExp.Set {
		e.sp.filterExp = t.FilterExp
		if len(c.Sets) == 1 {
			e.sp.set = c.Sets[0]
		}
	} else {
		exp, set := buildFilter(c)
		e.sp.set = set
		if exp != nil {
			s, err := exp.Base64()
			if err != nil {
				e.errf("Error while building the filter expression: %v", err)
				return false
			}
			e.sp.filterExp, _ = base64.StdEncoding.DecodeString(s)
		}
	}
	hosts := t.Seeds
	if len(hosts) == 0 {
		e.logLines(compat.HostListError("asbackup", host))
		return false
	}
	// The client's rack awareness stays off (see racks.go).
	cp, err := clusterconn.ClientPolicy(&c.Cluster, clusterconn.Settings{
		Auth: t.Auth, User: c.Cluster.User, Password: e.opts.Password, ConnectionQueueSize: 256,
	})
	if err != nil {
		e.errf("%s", err)
		return false
	}
	e.verbosef("Connecting to cluster")
	client, lines := clusterconn.Connect(cp, hosts, host, port)
	if client == nil {
		for _, l := range lines {
			e.errf("%s", l)
		}
		return false
	}
	e.client = client
	clNodes := client.GetNodes()
	for _, l := range clusterconn.AddNodeLines(client) {
		e.infof("%s", l)
	}
	if racks != nil {
		e.racks = &rackTable{ids: racks, racks: map[string]int{}}
		e.refreshRacks()
	}
	if c.NodeList.Set {
		sel, ok := matchNodes(clNodes, nodes)
		if !ok {
			e.errf("Invalid node list. Potentially caused by duplicate nodes, nodes from different clusters, or if --node-list entries are IPv6, Aerospike server nodes may not have IPv6 configured.")
			return false
		}
		clNodes = sel
		if !c.Continue.Set {
			filters = e.nodePartitions(sel)
		}
	}
	e.infof("Processing %d node(s)", len(clNodes))
	if !e.countObjects(clNodes) {
		e.errf("Error while counting cluster objects")
		return false
	}
	if !e.checkBuild(clNodes) {
		return false
	}
	if c.MaxRecords > 0 && e.recEstimate > uint64(c.MaxRecords) {
		e.recEstimate = uint64(c.MaxRecords)
	}
	e.makeJobs(filters)
	return true
}

// matchNodes returns the cluster nodes named by the --node-list entries.
func matchNodes(cl []*as.Node, specs []compat.NodeSpec) ([]*as.Node, bool) {
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
func (e *engine) nodePartitions(sel []*as.Node) []compat.PartitionFilter {
	want := map[*as.Node]bool{}
	for _, n := range sel {
		want[n] = true
	}
	var out []compat.PartitionFilter
	for p := 0; p < state.NumPartitions; p++ {
		if !want[e.masterOf(p)] {
			continue
		}
		if k := len(out); k > 0 && out[k-1].Begin+out[k-1].Count == p {
			out[k-1].Count++
		} else {
			out = append(out, compat.PartitionFilter{Begin: p, Count: 1})
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

func (e *engine) countObjects(nodes []*as.Node) bool {
	c := e.cfg
	e.verbosef("Getting cluster object count")
	e.infof("%-20s%-15s%-15s", "Node ID", "Objects", "Replication")
	var total uint64
	var rf uint32
	for i, n := range nodes {
		resp, err := e.info(n, infocmd.NamespaceCmd(c.Namespace))
		if err != nil {
			e.errf("Error while getting namespace object count for node %s", n.GetName())
			return false
		}
		nc, perr := infocmd.ParseNamespaceCounts(resp)
		if perr != nil {
			e.errf("%s", perr)
			return false
		}
		count := nc.Objects
		if len(c.Sets) > 0 {
			count = 0
			for _, s := range c.Sets {
				r, err := e.info(n, infocmd.SetCmd(c.Namespace, s))
				if err != nil {
					e.errf("Error while getting set object count for node %s", n.GetName())
					return false
				}
				k, perr := infocmd.ParseSetObjects(r)
				if perr != nil {
					e.errf("%s", perr)
					return false
				}
				count += k
			}
		}
		if i == 0 {
			rf = nc.ReplicationFactor
		} else if nc.ReplicationFactor != rf {
			e.infof("Warning: Inconsistent effective replication factor across nodes. Estimate size may be inaccurate. (found two nodes with replication factors %d and %d)", nc.ReplicationFactor, rf)
		}
		e.infof("%-20s%-15d%-15d", n.GetName(), count, nc.ReplicationFactor)
		total += count
	}
	if rf == 0 {
		e.infof("Warning: effective replication factor is 0")
		rf = 1
	}
	e.recEstimate = total / uint64(rf)
	if len(c.Sets) > 0 {
		if len(c.Sets) == 1 {
			e.infof("Set %s contains %d record(s)", c.Sets[0], e.recEstimate)
		} else {
			e.infof("Sets %s contain %d record(s)", strings.Join(c.Sets, ","), e.recEstimate)
		}
	} else {
		e.infof("Namespace %s contains %d record(s)", c.Namespace, e.recEstimate)
	}
	return true
}

func (e *engine) checkBuild(nodes []*as.Node) bool {
	c := e.cfg
	if len(nodes) == 0 {
		return true
	}
	resp, err := e.info(nodes[0], infocmd.Build)
	if err != nil {
		e.errf("Error while getting server build: %v", err)
		return false
	}
	v, perr := infocmd.ParseBuild(resp)
	if perr != nil {
		e.errf("%s", perr)
		return false
	}
	e.version = v
	e.verbosef("Connected to server build %d.%d.%d.%d", v.Major, v.Minor, v.Patch, v.Build)
	if !v.AtLeast(4, 9) {
		e.errf("Aerospike Server version 4.9 or greater is required to run asbackup, but version %d.%d is in use.", v.Major, v.Minor)
		return false
	}
	if (compat.DateActive(c.ModifiedBefore) || compat.DateActive(c.ModifiedAfter)) && !v.AtLeast(5, 2) {
		e.errf("Aerospike Server version 5.2 or greater is required for --modified-before and --modified-after, but version %d.%d is in use", v.Major, v.Minor)
		return false
	}
	if len(c.Sets) > 1 && !v.AtLeast(5, 2) {
		e.errf("Aerospike Server version 5.2 or greater is required for multi-set backup, but version %d.%d is in use", v.Major, v.Minor)
		return false
	}
	if c.NoTTLOnly && !v.AtLeast(5, 2) {
		e.errf("Aerospike Server version 5.2 or greater is required for --no-ttl-only, but version %d.%d is in use", v.Major, v.Minor)
		return false
	}
	return true
}

// buildFilter builds the selection expression of a run without -f:
// multi-set (OR of set names), modified-before/after (last update time) and
// no-ttl-only, joined with AND. It returns the single set to scan, if any.
func buildFilter(c *compat.BackupConfig) (*as.Expression, string) {
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
	if compat.DateActive(c.ModifiedBefore) {
		parts = append(parts, as.ExpLess(as.ExpLastUpdate(), as.ExpIntVal(c.ModifiedBefore.UnixNano())))
	}
	if compat.DateActive(c.ModifiedAfter) {
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
func (e *engine) makeJobs(filters []compat.PartitionFilter) {
	c := e.cfg
	e.filters = append([]compat.PartitionFilter(nil), filters...)
	n := c.EffectiveParallel()
	if len(filters) <= 1 {
		r := compat.PartitionFilter{Begin: 0, Count: state.NumPartitions}
		if len(filters) == 1 {
			r = filters[0]
		}
		if n > r.Count {
			e.infof("Warning: --parallel %d is higher than the number of partitions being backed up (%d), setting number of threads to %d.", n, r.Count, r.Count)
			n = r.Count
		}
		if n > 1 {
			filters = filters[:0]
			for i := 0; i < n; i++ {
				b := r.Begin + r.Count*i/n
				end := r.Begin + r.Count*(i+1)/n
				filters = append(filters, compat.PartitionFilter{Begin: b, Count: end - b})
			}
		} else {
			filters = []compat.PartitionFilter{r}
		}
	} else if n > len(filters) {
		e.infof("Warning: --parallel %d is higher than the number of partition filters given (%d), setting number of threads to %d.", n, len(filters), len(filters))
		n = len(filters)
	}
	if n < 1 {
		n = 1
	}
	e.threads = n
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
		e.jobs = append(e.jobs, j)
	}
}
