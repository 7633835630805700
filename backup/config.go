package backup

import (
	"net/netip"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"

	"asbtools/storage"
	"asbtools/stream"
)

// Config is what a backup does: the options of the command line and the
// configuration files, validated and typed (package toolenv builds it from
// the parsed command line).
type Config struct {
	Namespace string
	// Sets to back up (none: all; more than one: a multi-set backup).
	Sets []string

	// Output: a directory, a single file ("-" is stdout) or, with
	// Estimate, none.
	Directory, OutputFile Option
	Estimate              bool
	// OutputPrefix names the directory-mode files (default: namespace).
	OutputPrefix Option
	// FileLimit is the size, in bytes, at which a directory-mode file is
	// closed and a new one opened.
	FileLimit int64
	// RemoveFiles (-r) clears existing backup files; RemoveArtifacts only
	// deletes them and exits.
	RemoveFiles, RemoveArtifacts bool
	// Continue is the state file of the backup to continue; StateFileDst
	// where the state is saved.
	Continue, StateFileDst Option
	// EstimateSamples records are sampled by --estimate and by the silent
	// pre-run estimate of -o.
	EstimateSamples int64

	// Selection. The raw texts are reported when they are parsed; the
	// parsed forms follow (TargetsErr holds their failure).
	PartitionList, AfterDigest, NodeList Option
	// Partitions from --partition-list or --after-digest (nil: the whole
	// namespace, or the partitions mastered by Nodes).
	Partitions []PartitionRange
	// Nodes from --node-list.
	Nodes []NodeAddr
	// FilterExp (Set) is the --filter-exp expression, FilterExpBytes its
	// decoded form.
	FilterExp      Option
	FilterExpBytes []byte
	// RackIDs are the preferred racks (nil: none).
	RackIDs []int
	// ModifiedBefore and ModifiedAfter select by last-update time (zero:
	// no bound).
	ModifiedBefore, ModifiedAfter time.Time
	NoTTLOnly                     bool
	// BinList (Set) selects bins; Bins is its parsed form (BinListErr
	// its failure).
	BinList Option
	Bins    []string
	NoBins  bool
	// NoRecords, NoIndexes, NoUDFs leave out parts of the backup.
	NoRecords, NoIndexes, NoUDFs bool
	// MaxRecords (0: all), RecordsPerSecond (0: unlimited, held by the
	// server) and Bandwidth (--nice, bytes per second, 0: unlimited).
	MaxRecords, RecordsPerSecond, Bandwidth int64
	// Parallel is the number of jobs run at once (1 or more).
	Parallel int
	// Compact writes blob keys and values in compact form.
	Compact bool

	// Scan timeouts and retries.
	SocketTimeout, TotalTimeout time.Duration
	MaxRetries                  int64
	SleepBetweenRetries         time.Duration

	// Stream is the compression and encryption of the backup files.
	Stream stream.Settings

	// CheckpointInterval is the period of the in-run .state checkpoints;
	// 0 means the default (5 s), negative disables them.
	CheckpointInterval time.Duration

	// TargetsErr is the failure of the options the legacy tool checks once
	// the backup runs (partition, digest, node, host and rack lists, the
	// filter expression, the client policy); reported after the start
	// line and the selection is parsed. BinListErr likewise, when the
	// scan is prepared.
	TargetsErr, BinListErr error
}

// Option is an option value and whether it was given.
type Option struct {
	Value string
	Set   bool
}

// PartitionRange is Count partitions from Begin; with Digest, the records
// of partition Begin after that digest.
type PartitionRange struct {
	Begin, Count int
	Digest       []byte
}

// NodeAddr is a --node-list entry.
type NodeAddr struct {
	Addr netip.Addr
	Port int
}

// String returns the address as seed hosts are written ("[v6]" for IPv6).
func (n NodeAddr) String() string {
	if n.Addr.Is6() {
		return "[" + n.Addr.String() + "]"
	}
	return n.Addr.String()
}

// Deps is what a backup uses from its surroundings.
type Deps struct {
	// Connect opens the cluster connection (a failure is a *msg.Error
	// with the client's legacy lines).
	Connect func() (*as.Client, error)
	// Reporter receives the events (nil: NopReporter).
	Reporter Reporter
	// Clock is the time source of progress ticks (nil: time.Now).
	Clock func() time.Time
	// Interruptible, when set, is called once the backup can be
	// interrupted (cancelling the context before has no effect until
	// then): the legacy tool installs its SIGINT/SIGTERM handler there and
	// is killed by a signal before.
	Interruptible func()
	// Store holds the backup files and the state file (nil: local files
	// only). asbackup passes a storage.Router that also reaches S3.
	Store storage.Store
	// ReleasePages, when set, releases memory of the process: once start-up
	// is over, when the jobs start and every second while they run
	// (asbackup passes memtrim.Release).
	ReleasePages func()
}

// releasePages calls Deps.ReleasePages if set.
func (e *engine) releasePages() {
	if e.deps.ReleasePages != nil {
		e.deps.ReleasePages()
	}
}
