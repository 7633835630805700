package backup

import (
	"errors"
	"fmt"
	"sort"
	"syscall"

	"asbtools/asb"
	"asbtools/msg"
	"asbtools/storage"
)

// writeFailure follows a backup file after a write to it failed (typically
// the disk is full), to report what the legacy tool reports. The legacy
// tool writes a record in pieces (asb.LegacyCall) into a buffer that goes to
// the file whenever it is full; once the disk is full every such flush
// fails and logs "Failed writing data to file (error N: ...)", but the
// encoder only notices a failure in the payload write of a string, GeoJSON
// or bytes value that the flush cut short: it then logs "Error while
// writing data to backup file [2]" and "Error while writing record bin X"
// (or "... record key"), and the backup is aborted. A failure in any other
// piece goes unnoticed, the records that follow are taken (and counted) as
// if written, and the next flush, one buffer later, fails again.
//
// The bytes of the failed file are lost either way: the backup is aborted,
// never saved for --continue (see engine.finish).
type writeFailure struct {
	err error
	// size is the text buffer size of the stream (a flush every size
	// bytes).
	size int
	// next is the offset of the next failing flush from the start of the
	// next record's text.
	next  int
	calls []asb.LegacyCall
	// noticed is set once a failure was noticed (the file takes no more
	// records).
	noticed bool
}

// isWriteFailure reports whether err is a failed write to the file (an
// errno), not a record the encoder refused.
func isWriteFailure(err error) bool {
	var en syscall.Errno
	return errors.As(err, &en)
}

// newWriteFailure starts following a file whose write of r failed: at is
// the offset, in r's text, of the byte that filled the buffer whose flush
// failed.
func newWriteFailure(err error, size int, r *asb.Record, at int) (*writeFailure, []msg.Line) {
	f := &writeFailure{err: err, size: max(size, 1)}
	return f, f.walk(r, max(at, 0))
}

// record takes the next record of a failed file: the lines the legacy tool
// logs while writing it.
func (f *writeFailure) record(r *asb.Record) []msg.Line {
	return f.walk(r, f.next)
}

// walk logs the failing flushes from offset at of r's text on, up to the
// first one the encoder notices.
func (f *writeFailure) walk(r *asb.Record, at int) []msg.Line {
	f.calls = asb.AppendLegacyCalls(f.calls[:0], r)
	n := 0
	if len(f.calls) > 0 {
		n = f.calls[len(f.calls)-1].End
	}
	var lines []msg.Line
	for ; at < n; at += f.size {
		lines = append(lines, msg.Err("Failed writing data to file%s", storage.Errno(f.err)))
		i := sort.Search(len(f.calls), func(i int) bool { return f.calls[i].End > at })
		if c := f.calls[i]; c.Data && at < c.End-1 {
			lines = append(lines, msg.Err("Error while writing data to backup file [2]"))
			if c.Bin == asb.LegacyKey {
				lines = append(lines, msg.Err("Error while writing record key"))
			} else {
				lines = append(lines, msg.Err("Error while writing record bin %s", r.Bins[c.Bin].Name))
			}
			f.noticed = true
			return lines
		}
	}
	f.next = at - n
	return lines
}

// noticedErr is the error of a record once the failure is noticed: the
// backup is aborted.
func (f *writeFailure) noticedErr() error {
	if !f.noticed {
		return nil
	}
	return fmt.Errorf("%w: %w", errWrite, f.err)
}
