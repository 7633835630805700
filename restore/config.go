package restore

import (
	"io"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"

	"asbtools/storage"
	"asbtools/stream"
)

// Config is what a restore does: the options of the command line and the
// configuration files, validated and typed (package toolenv builds it from
// the parsed command line).
type Config struct {
	// Input: a directory, a list of directories (relative to
	// ParentDirectory when set) or one file (InputFile; "-" and "-:<size>"
	// are stdin, InputSize its expected size).
	Directory, DirectoryList, ParentDirectory, InputFile Option
	InputStdin                                           bool
	InputSize                                            int64
	// InputErr is the failure of the -i value, reported when the file is
	// opened.
	InputErr error

	// SourceNamespace is the namespace of the backup ("" any) and
	// TargetNamespace the one records are written to ("" the same).
	SourceNamespace, TargetNamespace string
	// Bins and Sets select bins and sets (nil: all).
	Bins, Sets []string
	// ListsErr is the failure of the namespace, bin and set lists,
	// reported first.
	ListsErr error

	// Validate only checks the files (no cluster).
	Validate bool
	// NoRecords, NoIndexes, NoUDFs leave out parts of the backup;
	// IndexesLast creates the indexes after the records; Wait waits for
	// indexes and UDFs to be ready.
	NoRecords, NoIndexes, NoUDFs, IndexesLast, Wait bool
	// Write policy.
	Unique, Replace, NoGeneration, IgnoreRecordError bool
	// ExtraTTL is added to every record's expiry (seconds).
	ExtraTTL int64
	// Parallel is the number of files read at once.
	Parallel int
	// MaxAsyncBatches bounds the batches in flight; BatchSize (when
	// BatchSizeSet) the records of a batch; DisableBatchWrites writes
	// record by record.
	MaxAsyncBatches    int64
	BatchSize          int64
	BatchSizeSet       bool
	DisableBatchWrites bool
	// Timeouts and retries of info requests and writes.
	Timeout, SocketTimeout, TotalTimeout time.Duration
	MaxRetries                           int64
	RetryScaleFactor                     time.Duration
	// Bandwidth (bytes/s) and TPS (records/s) of --nice (both set: on).
	Bandwidth, TPS int64

	// Stream is the decompression and decryption of the backup files.
	Stream stream.Settings
}

// Option is an option value and whether it was given.
type Option struct {
	Value string
	Set   bool
}

// Deps is what a restore uses from its surroundings.
type Deps struct {
	// Connect opens the cluster connection with a pool of connections
	// per node (a failure is a *msg.Error with the legacy lines). It may
	// prompt for the password.
	Connect func(connections int) (*as.Client, error)
	// Reporter receives the events (nil: NopReporter).
	Reporter Reporter
	// Stdin is read for "-i -" (default os.Stdin).
	Stdin io.Reader
	// Clock is used for expiry and progress ticks (default time.Now).
	Clock func() time.Time
	// Store holds the backup files (nil: local files only). asrestore
	// passes a storage.Router that also reaches S3.
	Store storage.Store
	// ReleasePages, when set, releases memory of the process: once the
	// restore of the records starts and every second until it ends
	// (asrestore passes memtrim.Release).
	ReleasePages func()
}
