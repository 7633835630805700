package legacy

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"asbtools/backup"
	"asbtools/infocmd"
	"asbtools/logging"
	"asbtools/msg"
	"asbtools/state"
	"asbtools/storage"
)

// Backup prints the events of a backup as legacy asbackup 4.5.8 does. It
// implements backup.Reporter.
type Backup struct {
	Printer
	// StartLine is the legacy start line (compat's StartMessage).
	StartLine string
	// MachinePath is the --machine file ("" for none), opened by Begin.
	MachinePath string

	mach *os.File

	// progress state (the counter thread's)
	mu                   sync.Mutex
	prev, printPrev      time.Time
	printBytes, printRec uint64
	machPrev             uint64
	iter                 int
}

var _ backup.Reporter = (*Backup)(nil)

// NewBackup returns the legacy presentation of a backup.
func NewBackup(log *logging.Logger, startLine, machinePath string) *Backup {
	return &Backup{Printer: NewPrinter(log), StartLine: startLine, MachinePath: machinePath}
}

func (b *Backup) info(format string, a ...any)    { b.Log.Infof(format, a...) }
func (b *Backup) verbose(format string, a ...any) { b.Log.Verbosef(format, a...) }

// Started prints the start line.
func (b *Backup) Started() { b.info("%s", b.StartLine) }

// ParsingSelection prints the VER line of a partition, digest or node list.
func (b *Backup) ParsingSelection(kind, value string) {
	switch kind {
	case "partition-list":
		b.verbose("Parsing partition-list '%s'", value)
	case "after-digest":
		b.verbose("Parsing after-digest '%s'", value)
	default:
		b.verbose("Parsing node list %s", value)
	}
}

// Connecting prints its VER line.
func (b *Backup) Connecting() { b.verbose("Connecting to cluster") }

// ClientLines prints the client's lines.
func (b *Backup) ClientLines(lines []string) {
	for _, l := range lines {
		b.info("%s", l)
	}
}

// NodesSelected prints the node count.
func (b *Backup) NodesSelected(n int) { b.info("Processing %d node(s)", n) }

// CountingObjects prints the VER line and the header of the node table.
func (b *Backup) CountingObjects() {
	b.verbose("Getting cluster object count")
	b.info("%-20s%-15s%-15s", "Node ID", "Objects", "Replication")
}

// NodeObjects prints a row of the node table.
func (b *Backup) NodeObjects(node string, objects uint64, replication uint32) {
	b.info("%-20s%-15d%-15d", node, objects, replication)
}

// ReplicationMismatch prints the legacy warning.
func (b *Backup) ReplicationMismatch(found, first uint32) {
	b.info("Warning: Inconsistent effective replication factor across nodes. Estimate size may be inaccurate. (found two nodes with replication factors %d and %d)", found, first)
}

// ReplicationZero prints the legacy warning.
func (b *Backup) ReplicationZero() { b.info("Warning: effective replication factor is 0") }

// RecordsSelected prints the expected record count.
func (b *Backup) RecordsSelected(namespace string, sets []string, records uint64) {
	switch len(sets) {
	case 0:
		b.info("Namespace %s contains %d record(s)", namespace, records)
	case 1:
		b.info("Set %s contains %d record(s)", sets[0], records)
	default:
		b.info("Sets %s contain %d record(s)", strings.Join(sets, ","), records)
	}
}

// ServerBuild prints the VER line of the server version.
func (b *Backup) ServerBuild(v infocmd.Version) {
	b.verbose("Connected to server build %d.%d.%d.%d", v.Major, v.Minor, v.Patch, v.Build)
}

// ParallelReduced prints the legacy warning.
func (b *Backup) ParallelReduced(parallel, available int, filters bool) {
	what := "partitions being backed up"
	if filters {
		what = "partition filters given"
	}
	b.info("Warning: --parallel %d is higher than the number of %s (%d), setting number of threads to %d.", parallel, what, available, available)
}

// StateFileDstIgnored prints the legacy warning.
func (b *Backup) StateFileDstIgnored() { b.info("%s", state.IgnoredDstWarning) }

// Begin opens the --machine file.
func (b *Backup) Begin() error {
	if b.MachinePath == "" {
		return nil
	}
	f, err := os.OpenFile(b.MachinePath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
	if err != nil {
		return &msg.Error{Lines: []msg.Line{msg.Err("Error while opening machine-readable file %s%s", b.MachinePath, storage.Errno(err))}, Err: err}
	}
	b.mach = f
	return nil
}

// StorageMessage prints a line of the output preparation.
func (b *Backup) StorageMessage(info bool, text string) {
	if info {
		b.info("%s", text)
	} else {
		b.Log.Errorf("%s", text)
	}
}

// EstimatedFileSize prints the VER line of the pre-run estimate.
func (b *Backup) EstimatedFileSize(bytes uint64) {
	b.verbose("Estimated backup file size: %d bytes", bytes)
}

// DiskSpaceWarning prints the warning.
func (b *Backup) DiskSpaceWarning(text string) { b.info("%s", text) }

// RemainingEstimate prints its VER line.
func (b *Backup) RemainingEstimate(records, perRecord uint64) {
	b.verbose("%d remaining record(s), %d B/rec average size", records, perRecord)
}

// IndexBackupSkipped prints its VER line.
func (b *Backup) IndexBackupSkipped() { b.verbose("Skipping index backup") }

// IndexesFound prints the index count.
func (b *Backup) IndexesFound(n int) {
	if n == 0 {
		b.info("No secondary indexes")
		return
	}
	b.info("Backing up %d secondary index(es)", n)
}

// IndexesSkipped prints the count of indexes of unwanted sets.
func (b *Backup) IndexesSkipped(n int) { b.info("Skipped %d index(es) with unwanted set(s)", n) }

// UDFBackupSkipped prints its VER line.
func (b *Backup) UDFBackupSkipped() { b.verbose("Skipping UDF backup") }

// UDFsFound prints the UDF count.
func (b *Backup) UDFsFound(n int) { b.info("Backing up %d UDF file(s)", n) }

// JobStarted prints the job's start line.
func (b *Backup) JobStarted(desc string) { b.info("Starting backup for %s", desc) }

func perRecord(bytes, records uint64) uint64 {
	if records == 0 {
		return 0
	}
	return bytes / records
}

// JobFinished prints the job's completion line.
func (b *Backup) JobFinished(desc string, records, bytes uint64) {
	b.info("Completed backup for %s, records: %d, size: %d (~%d B/rec)", desc, records, bytes, perRecord(bytes, records))
}

// JobInterrupted prints the job's interruption line.
func (b *Backup) JobInterrupted(desc string, records, bytes uint64) {
	b.info("Backup of %s interrupted, records: %d, size: %d (~%d B/rec)", desc, records, bytes, perRecord(bytes, records))
}

// RackRefreshFailed prints the C client's tend line.
func (b *Backup) RackRefreshFailed(node, status, message string) {
	b.Log.Errorf("[src/main/aerospike/as_cluster.c:1037][as_cluster_tend] Node %s rack refresh failed: %s %s", node, status, message)
}

// Progress prints the progress lines (first after about a second, then
// every ten ticks, while below 100 %) and the machine-readable progress.
func (b *Backup) Progress(p backup.Progress) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p.First {
		b.prev, b.printPrev = p.Time, p.Time
		b.printBytes, b.printRec = p.Bytes, p.Records
		b.machPrev = p.Records
		b.iter = 0
		return
	}
	ms := uint64(p.Time.Sub(b.prev).Milliseconds())
	b.prev = p.Time
	n := p.Expected
	if n == 0 {
		return
	}
	pct := int64(p.Records * 100 / n)
	if pct >= 100 {
		return
	}
	if b.iter%10 == 0 {
		pms := uint64(p.Time.Sub(b.printPrev).Milliseconds())
		b.printPrev = p.Time
		bytes, recs := p.Bytes-b.printBytes, p.Records-b.printRec
		eta := int64(-1)
		if recs > 0 && pms > 0 {
			eta = int64((n - p.Records) * pms / recs / 1000)
		}
		b.printRec, b.printBytes = p.Records, p.Bytes
		var kps, rps uint64
		if pms > 0 {
			kps, rps = bytes*1000/1024/pms, recs*1000/pms
		}
		b.info("%d%% complete (~%d KiB/s, ~%d rec/s, ~%d B/rec)", pct, kps, rps, perRecord(bytes, recs))
		if eta >= 0 {
			b.info("~%s remaining", FormatETA(eta))
		}
	}
	b.iter++
	if b.mach != nil {
		recs := p.Records - b.machPrev
		b.machPrev = p.Records
		if _, err := fmt.Fprintf(b.mach, "PROGRESS:%d\n", pct); err != nil {
			b.Log.Errorf("Error while writing machine-readable progress%s", storage.Errno(err))
		}
		if recs > 0 && ms > 0 {
			if _, err := fmt.Fprintf(b.mach, "REMAINING:%s\n", FormatETA(int64((n-p.Records)*ms/recs/1000))); err != nil {
				b.Log.Errorf("Error while writing machine-readable remaining time%s", storage.Errno(err))
			}
		}
	}
}

// Estimate prints the result of --estimate.
func (b *Backup) Estimate(e backup.Estimate) {
	if e.Compressed {
		b.info("Estimated overall record size before compression is %d byte(s)", e.RecordSize)
		b.info("Approximate compression ratio is %s%%", strconv.FormatFloat(100*e.Ratio, 'g', 6, 64))
	} else {
		b.info("Estimated overall record size is %d byte(s)", e.RecordSize)
	}
	if b.mach != nil {
		if _, err := fmt.Fprintf(b.mach, "ESTIMATE:%d:%d\n", e.Records, e.RecordSize); err != nil {
			b.Log.Errorf("Error while writing machine-readable estimate%s", storage.Errno(err))
		}
	}
	b.info("Estimated total backup file size (for backup-to-file, 99.9%% confidence): %d byte(s)", e.FileSize)
}

// Failed prints the failure's lines.
func (b *Backup) Failed(err error) { b.Error(err) }

// Interrupted prints the legacy interrupt line.
func (b *Backup) Interrupted() { b.Log.Errorf("### Backup interrupted ###") }

// StateFileCreated prints the state file line.
func (b *Backup) StateFileCreated(path string) { b.info("Created backup state file %s", path) }

// ResumeHint prints how to continue the backup.
func (b *Backup) ResumeHint(statePath string) {
	b.info("Backup was interrupted, to resume, run backup with `--continue %s` and all the same arguments (except --remove-files)", statePath)
}

// UploadAfterStop prints the line of a part handed to S3 after the stop.
func (b *Backup) UploadAfterStop(part int) {
	b.info("Upload manager received stop signal, finishing part: %d", part)
}

// Finish prints the end of a run: the lines of err, then, when the run got
// that far, the summary line (and its machine-readable twin). It returns
// the exit code after the exit line of verbose runs, and closes the
// --machine file.
func (b *Backup) Finish(verbose bool, sum backup.Summary, err error) int {
	b.Error(err)
	if sum.Done {
		per := perRecord(sum.Bytes, sum.Records)
		b.info("Backed up %d record(s), %d secondary index(es), %d UDF file(s), %d byte(s) in total (~%d B/rec)",
			sum.Records, sum.Indexes, sum.UDFs, sum.Bytes, per)
		if b.mach != nil {
			if _, werr := fmt.Fprintf(b.mach, "SUMMARY:%d:%d:%d:%d:%d\n", sum.Records, sum.Indexes, sum.UDFs, sum.Bytes, per); werr != nil {
				// Legacy reports it and fails the run.
				b.Log.Errorf("Error while writing machine-readable summary%s", storage.Errno(werr))
				if err == nil {
					err = &msg.Error{Err: werr}
				}
			}
		}
	}
	if b.mach != nil {
		_ = b.mach.Close() // legacy ignores it too
		b.mach = nil
	}
	return b.Exit(verbose, err)
}

// FormatETA formats seconds like the legacy tools: d/h/m/s units, leading
// zero units omitted, all smaller units after the first printed one;
// negative means 0s and more than 100 days ">100d".
func FormatETA(seconds int64) string {
	if seconds > 100*86400 {
		return ">100d"
	}
	if seconds < 0 {
		seconds = 0
	}
	divs := []int64{86400, 3600, 60, 1}
	labels := "dhms"
	out := ""
	printed := false
	for i, d := range divs {
		v := seconds / d
		if v == 0 && !printed && i < 3 {
			continue
		}
		seconds -= v * d
		out += strconv.FormatInt(v, 10) + string(labels[i])
		printed = true
	}
	return out
}
