package legacy

import (
	"fmt"
	"os"
	"sync"
	"time"

	"asbtools/logging"
	"asbtools/msg"
	"asbtools/restore"
	"asbtools/storage"
)

// Restore prints the events of a restore as legacy asrestore 4.5.8 does. It
// implements restore.Reporter.
type Restore struct {
	Printer
	// StartLine is the legacy start line (compat's StartMessage).
	StartLine string
	// MachinePath is the --machine file ("" for none), opened by Begin.
	MachinePath string

	mach *os.File
	// progressLog prints the progress lines with the thread id of the
	// legacy counter thread.
	progressLog *logging.Logger

	mu                                   sync.Mutex
	prev, printPrev                      time.Time
	prevBytes, machPrevBytes, prevRecord uint64
	iter                                 int
}

var _ restore.Reporter = (*Restore)(nil)

// NewRestore returns the legacy presentation of a restore.
func NewRestore(log *logging.Logger, startLine, machinePath string) *Restore {
	return &Restore{Printer: NewPrinter(log), StartLine: startLine, MachinePath: machinePath,
		progressLog: log.WithTID(os.Getpid() + 1)}
}

func (r *Restore) info(format string, a ...any)    { r.Log.Infof(format, a...) }
func (r *Restore) verbose(format string, a ...any) { r.Log.Verbosef(format, a...) }

// ClientLines prints the client's lines.
func (r *Restore) ClientLines(lines []string) {
	for _, l := range lines {
		r.info("%s", l)
	}
}

// ServerBuild prints the VER line of the server build.
func (r *Restore) ServerBuild(build string) { r.verbose("Connected to server build %s", build) }

// Started prints the start line.
func (r *Restore) Started() { r.info("%s", r.StartLine) }

// Begin opens the --machine file.
func (r *Restore) Begin() error {
	if r.MachinePath == "" {
		return nil
	}
	f, err := os.OpenFile(r.MachinePath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
	if err != nil {
		return &msg.Error{Lines: []msg.Line{msg.Err("Error while opening machine-readable file %s%s", r.MachinePath, storage.Errno(err))}, Err: err}
	}
	r.mach = f
	return nil
}

// NodesSelected prints the node count.
func (r *Restore) NodesSelected(n int) { r.info("Processing %d node(s)", n) }

// FilesFound prints the file count of a directory.
func (r *Restore) FilesFound(n int, dir string) { r.info("Found %d backup file(s) in %s", n, dir) }

// Validating prints its line.
func (r *Restore) Validating() { r.info("Validating backup files") }

// RestoringRecords prints its line.
func (r *Restore) RestoringRecords() { r.info("Restoring records") }

func verb(validate bool) string {
	if validate {
		return "validating"
	}
	return "restoring"
}

// FileStarted prints the line of a directory's file.
func (r *Restore) FileStarted(path string, validate bool) { r.info("%s %s", verb(validate), path) }

// InputStarted prints the line of the -i input.
func (r *Restore) InputStarted(path string, validate bool) {
	if validate {
		r.info("Validating %s", path)
	} else {
		r.info("Restoring %s", path)
	}
}

// FileOpened prints its line.
func (r *Restore) FileOpened(path string) { r.info("Opened backup file %s", path) }

// FilesDispatched prints its line.
func (r *Restore) FilesDispatched(validate bool) {
	r.info("Finished %s backup file(s)", verb(validate))
}

// FileEnd prints its VER line.
func (r *Restore) FileEnd() { r.verbose("End of backup file reached") }

// IndexValidated prints its VER line.
func (r *Restore) IndexValidated() { r.verbose("Validated Secondary Index") }

// UDFValidated prints its VER line.
func (r *Restore) UDFValidated() { r.verbose("Validated UDF") }

// IndexIgnored prints its VER line.
func (r *Restore) IndexIgnored() { r.verbose("Ignoring index block") }

// UDFIgnored prints its VER line.
func (r *Restore) UDFIgnored() { r.verbose("Ignoring UDF file block") }

// IndexSkipped prints its VER line.
func (r *Restore) IndexSkipped(ix restore.IndexName) {
	r.verbose("Skipping index with unwanted set %s:%s:%s (%s)", ix.Namespace, ix.Set, ix.Name, ix.Path)
}

// IndexRestoring prints its VER line.
func (r *Restore) IndexRestoring(ix restore.IndexName) {
	r.verbose("Restoring index %s:%s:%s (%s)", ix.Namespace, ix.Set, ix.Name, ix.Path)
}

// IndexRemoving prints its VER line.
func (r *Restore) IndexRemoving(namespace, name string) {
	r.verbose("Removing mismatched index %s:%s", namespace, name)
}

// IndexMatched prints its VER line.
func (r *Restore) IndexMatched(ix restore.IndexName) {
	r.verbose("Skipping matched index %s:%s:%s (%s)", ix.Namespace, ix.Set, ix.Name, ix.Path)
}

// IndexCreating prints its VER line.
func (r *Restore) IndexCreating(ix restore.IndexName, ctx string) {
	r.verbose("Creating index %s:%s:%s (%s):[%s]", ix.Namespace, ix.Set, ix.Name, ix.Path, ctx)
}

// IndexesSkipped prints the totals that are not zero.
func (r *Restore) IndexesSkipped(unwanted, matched, mismatched uint32) {
	if unwanted > 0 {
		r.info("Skipped %d index(es) with unwanted set(s)", unwanted)
	}
	if matched > 0 {
		r.info("Skipped %d matched index(es)", matched)
	}
	if mismatched > 0 {
		r.Log.Errorf("Skipped %d mismatched index(es)", mismatched)
	}
}

// IndexWaiting prints its VER line.
func (r *Restore) IndexWaiting(namespace, name string) {
	r.verbose("Waiting for index %s:%s", namespace, name)
}

// UDFRestoring prints its line.
func (r *Restore) UDFRestoring(name string, size int) {
	r.info("Restoring UDF file %s (size %d)", name, size)
}

// UDFWaiting prints its VER line.
func (r *Restore) UDFWaiting(name string) { r.verbose("Waiting for UDF file %s", name) }

// Progress prints the progress lines (after about a second, then every ten
// ticks, and at the end) and the machine-readable progress and summary.
func (r *Restore) Progress(p restore.Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.First {
		r.prev, r.printPrev = p.Time, p.Time
		r.prevBytes, r.machPrevBytes, r.prevRecord = 0, 0, 0
		r.iter = 0
		return
	}
	ms := uint64(p.Time.Sub(r.prev).Milliseconds())
	r.prev = p.Time
	s := p.Counts
	est := uint64(p.Estimated)
	percent := int64(-1)
	if est != 0 {
		percent = int64(s.Bytes * 100 / est)
	}
	log := r.progressLog
	if p.Last || r.iter%10 == 0 {
		bytes := s.Bytes - r.prevBytes
		records := s.Records - r.prevRecord
		pms := uint64(p.Time.Sub(r.printPrev).Milliseconds())
		r.printPrev = p.Time
		var rps, kps, bpr uint64
		if pms != 0 {
			rps = records * 1000 / pms
			kps = bytes * 1000 / 1024 / pms
		}
		if records != 0 {
			bpr = bytes / records
		}
		log.Infof("%d UDF file(s), %d secondary index(es), %d record(s) (%d rec/s, %d KiB/s, %d B/rec, retries: %d)",
			s.UDFs, s.Indexes, s.Records, rps, kps, bpr, s.Retries)
		log.Infof("Expired %d : skipped %d : err_ignored %d : inserted %d: failed %d (existed %d , fresher %d)",
			s.Expired, s.Skipped, s.ErrIgnored, s.Inserted, s.Existed+s.Fresher+s.Failed, s.Existed, s.Fresher)
		eta := int64(-1)
		if bytes != 0 && est != 0 {
			eta = int64((est - min(s.Bytes, est)) * pms / bytes / 1000)
			if s.Bytes > est {
				eta = 0
			}
		}
		if percent >= 0 && eta >= 0 {
			log.Infof("%d%% complete, ~%s remaining", percent, FormatETA(eta))
		}
		r.prevBytes = s.Bytes
		r.prevRecord = s.Records
	}
	r.iter++
	if r.mach != nil {
		if percent >= 0 {
			if _, err := fmt.Fprintf(r.mach, "PROGRESS:%d\n", percent); err != nil {
				log.Errorf("Error while writing machine-readable progress%s", storage.Errno(err))
			}
		}
		bytes := s.Bytes - r.machPrevBytes
		if bytes != 0 && est != 0 && ms != 0 {
			eta := int64(0)
			if s.Bytes < est {
				eta = int64((est - s.Bytes) * ms / bytes / 1000)
			}
			if _, err := fmt.Fprintf(r.mach, "REMAINING:%s\n", FormatETA(eta)); err != nil {
				log.Errorf("Error while writing machine-readable remaining time%s", storage.Errno(err))
			}
		}
		r.machPrevBytes = s.Bytes
		if p.Last {
			// Legacy reports a failure and goes on (the exit code stays).
			if _, err := fmt.Fprintf(r.mach, "SUMMARY:%d:%d:%d:%d:%d:%d :%d:%d:%d\n", s.UDFs, s.Indexes, s.Records,
				s.Expired, s.Skipped, s.ErrIgnored, s.Inserted, s.Existed, s.Fresher); err != nil {
				log.Errorf("Error while writing machine-readable summary%s", storage.Errno(err))
			}
		}
	}
}

// Failed prints the failure's lines.
func (r *Restore) Failed(err error) { r.Error(err) }

// Interrupted prints the legacy interrupt line.
func (r *Restore) Interrupted() { r.Log.Errorf("### Restore interrupted ###") }

// Finish prints the lines of err (those not reported while the restore
// ran), closes the --machine file and returns the exit code after the exit
// line of verbose runs.
func (r *Restore) Finish(verbose bool, err error) int {
	r.Error(err)
	if r.mach != nil {
		_ = r.mach.Close() // legacy ignores it too
		r.mach = nil
	}
	return r.Exit(verbose, err)
}
