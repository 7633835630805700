package backup

import (
	"time"

	"asbtools/infocmd"
)

// Reporter receives the events of a backup in the order the legacy tool
// reports them. Package legacy turns them into the legacy log lines and
// --machine output. Methods may be called from several goroutines.
type Reporter interface {
	// Started: the run starts.
	Started()
	// ParsingSelection: a partition list (kind "partition-list"), an
	// after-digest ("after-digest") or a node list ("node-list") is parsed.
	ParsingSelection(kind, value string)
	// Connecting: the connection to the cluster is opened.
	Connecting()
	// ClientLines are the lines the client logs once connected (Add node).
	ClientLines(lines []string)
	// NodesSelected: the backup reads from n nodes.
	NodesSelected(n int)
	// CountingObjects: the object count of every node is read next.
	CountingObjects()
	// NodeObjects is one node's object count and replication factor.
	NodeObjects(node string, objects uint64, replication uint32)
	// ReplicationMismatch: two nodes report different replication factors.
	ReplicationMismatch(found, first uint32)
	// ReplicationZero: the replication factor is 0 (1 is used).
	ReplicationZero()
	// RecordsSelected is the expected record count of the namespace or sets.
	RecordsSelected(namespace string, sets []string, records uint64)
	// ServerBuild is the server version.
	ServerBuild(v infocmd.Version)
	// ParallelReduced: --parallel is higher than the partitions (filters
	// false) or partition filters (filters true) to back up.
	ParallelReduced(parallel, available int, filters bool)
	// StateFileDstIgnored: --state-file-dst has no effect with --estimate.
	StateFileDstIgnored()

	// Begin: the backup proper begins (the legacy tool opens its
	// --machine file here). An error ends the run before it starts.
	Begin() error
	// StorageMessage is a line of the output preparation (directory
	// creation, artifact removal): INF when info, else ERR.
	StorageMessage(info bool, text string)
	// EstimatedFileSize is the result of the silent pre-run estimate.
	EstimatedFileSize(bytes uint64)
	// DiskSpaceWarning: the file system may be too small (legacy text).
	DiskSpaceWarning(text string)
	// RemainingEstimate is the expected size of the rest of a directory
	// backup, computed before a new file is opened.
	RemainingEstimate(records, perRecord uint64)

	// IndexBackupSkipped: --no-indexes.
	IndexBackupSkipped()
	// IndexesFound: n secondary indexes are backed up.
	IndexesFound(n int)
	// IndexesSkipped: n indexes belong to sets that are not backed up.
	IndexesSkipped(n int)
	// UDFBackupSkipped: --no-udfs.
	UDFBackupSkipped()
	// UDFsFound: n UDF files are backed up.
	UDFsFound(n int)

	// JobStarted: a job starts scanning its partitions.
	JobStarted(desc string)
	// JobFinished: a job finished with records records and bytes bytes
	// (the job's, or the shared file's for -o and --estimate).
	JobFinished(desc string, records, bytes uint64)
	// JobInterrupted: a job stopped early.
	JobInterrupted(desc string, records, bytes uint64)
	// RackRefreshFailed: a node refused its rack ids (--prefer-racks).
	RackRefreshFailed(node, status, message string)
	// Progress is called when the backup begins, then about every second,
	// and once more (Last) when it ends.
	Progress(p Progress)
	// Estimate is the result of --estimate.
	Estimate(e Estimate)

	// Failed is a failure reported at once while the run goes on (other
	// jobs finish, the state is saved); the run's result is an error.
	Failed(err error)
	// Interrupted: the caller cancelled the run (SIGINT/SIGTERM).
	Interrupted()
	// StateFileCreated: the backup stopped and will save its state.
	StateFileCreated(path string)
	// ResumeHint: the state was saved; the backup can be continued.
	ResumeHint(statePath string)
	// UploadAfterStop: part number part of an S3 file is uploaded after the
	// backup stopped.
	UploadAfterStop(part int)
}

// Progress is a progress tick.
type Progress struct {
	// Records and Bytes are the totals backed up so far, Expected the
	// records expected in all (0: unknown).
	Records, Bytes, Expected uint64
	Time                     time.Time
	// First is the tick taken when the backup begins, Last the one when
	// it ends.
	First, Last bool
}

// Estimate is the result of an --estimate run.
type Estimate struct {
	// Records is the expected record count.
	Records uint64
	// RecordSize is the estimated upper bound of a record's size (before
	// compression when Compressed).
	RecordSize uint64
	Compressed bool
	// Ratio is the compression ratio (compressed/raw) when Compressed.
	Ratio float64
	// FileSize is the expected size of a backup file with every record.
	FileSize uint64
}

// Summary is the result of a backup.
type Summary struct {
	Records, Bytes uint64
	Indexes, UDFs  uint32
	// Done reports that the backup ran (successfully or not) far enough
	// for the legacy tool to print its summary line.
	Done bool
}

// NopReporter ignores every event. Embed it to implement only some.
type NopReporter struct{}

func (NopReporter) Started()                                 {}
func (NopReporter) ParsingSelection(string, string)          {}
func (NopReporter) Connecting()                              {}
func (NopReporter) ClientLines([]string)                     {}
func (NopReporter) NodesSelected(int)                        {}
func (NopReporter) CountingObjects()                         {}
func (NopReporter) NodeObjects(string, uint64, uint32)       {}
func (NopReporter) ReplicationMismatch(uint32, uint32)       {}
func (NopReporter) ReplicationZero()                         {}
func (NopReporter) RecordsSelected(string, []string, uint64) {}
func (NopReporter) ServerBuild(infocmd.Version)              {}
func (NopReporter) ParallelReduced(int, int, bool)           {}
func (NopReporter) StateFileDstIgnored()                     {}
func (NopReporter) Begin() error                             { return nil }
func (NopReporter) StorageMessage(bool, string)              {}
func (NopReporter) EstimatedFileSize(uint64)                 {}
func (NopReporter) DiskSpaceWarning(string)                  {}
func (NopReporter) RemainingEstimate(uint64, uint64)         {}
func (NopReporter) IndexBackupSkipped()                      {}
func (NopReporter) IndexesFound(int)                         {}
func (NopReporter) IndexesSkipped(int)                       {}
func (NopReporter) UDFBackupSkipped()                        {}
func (NopReporter) UDFsFound(int)                            {}
func (NopReporter) JobStarted(string)                        {}
func (NopReporter) JobFinished(string, uint64, uint64)       {}
func (NopReporter) JobInterrupted(string, uint64, uint64)    {}
func (NopReporter) RackRefreshFailed(string, string, string) {}
func (NopReporter) Progress(Progress)                        {}
func (NopReporter) Estimate(Estimate)                        {}
func (NopReporter) Failed(error)                             {}
func (NopReporter) Interrupted()                             {}
func (NopReporter) StateFileCreated(string)                  {}
func (NopReporter) ResumeHint(string)                        {}
func (NopReporter) UploadAfterStop(int)                      {}

// errorsOnly passes on only the failures (the silent pre-run estimate
// shows only ERR lines).
type errorsOnly struct {
	NopReporter
	r Reporter
}

func (s errorsOnly) Failed(err error) { s.r.Failed(err) }
