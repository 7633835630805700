package state

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"asbtools/msg"
)

// Strerror returns the C library wording of err's errno ("No such file or
// directory"), or err's text if it carries no errno.
func Strerror(err error) string {
	var en syscall.Errno
	if errors.As(err, &en) {
		s := en.Error()
		if s != "" {
			return strings.ToUpper(s[:1]) + s[1:]
		}
	}
	return err.Error()
}

// errnoText formats the legacy `(error %d: %s)` suffix.
func errnoText(err error) string {
	var en syscall.Errno
	if errors.As(err, &en) {
		return fmt.Sprintf("(error %d: %s)", int(en), Strerror(en))
	}
	return fmt.Sprintf("(error 0: %s)", err.Error())
}

// Load opens and reads the state file at path (Read). A file that cannot be
// opened yields the legacy lines
// `Failed to open file <path> in "r" mode (error N: <strerror>)` and
// `Unable to open file <path> for reading`. In every case the caller logs the
// returned lines and then `Failed to load backup state file <path>`.
func Load(path string) (*State, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, loadErr(err,
			fmt.Sprintf("Failed to open file %s in \"r\" mode %s", path, errnoText(err)),
			fmt.Sprintf("Unable to open file %s for reading", path))
	}
	// Read-only: the state is complete once Read returns.
	defer func() { _ = f.Close() }()
	return Read(f)
}

// Save writes s to path atomically: it writes a temporary file in the same
// directory, syncs it, and renames it over path, so a crash never leaves a
// half-written state behind.
func Save(path string, s *State) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return msg.WithCause(err, "Failed to open state file \"%s\", reason: %s", path, Strerror(err))
	}
	name := tmp.Name()
	fail := func(err error) error {
		// The temporary file is discarded: its close and removal
		// cannot change the outcome, which is err.
		_ = tmp.Close()
		_ = os.Remove(name)
		return msg.WithCause(err, "Error while writing backup state file %s: %s", path, Strerror(err))
	}
	if _, err := s.WriteTo(tmp); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		_ = os.Remove(name)
		return msg.WithCause(err, "Error while closing backup state file %s: %s", path, Strerror(err))
	}
	if err := os.Rename(name, path); err != nil {
		_ = os.Remove(name)
		return msg.WithCause(err, "Error while writing backup state file %s: %s", path, Strerror(err))
	}
	// Sync the directory so that the rename itself is durable.
	if err := syncDir(dir); err != nil {
		return msg.WithCause(err, "Error while writing backup state file %s: %s", path, Strerror(err))
	}
	return nil
}

// syncDir fsyncs a directory. A directory that cannot be opened for
// reading (write and search permission only) is not synced, and EINVAL (the
// file system cannot sync directories) is not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) {
		err = nil
	}
	// Closing a directory opened for reading cannot lose data.
	_ = d.Close()
	return err
}

// OpenAppend reopens the local backup file of a saved entry in append mode,
// as legacy does while loading a state, and checks that its size equals the
// saved FilePos. For the path "-" (stdout) it returns a nil file and requires
// FilePos to be 0. Errors are *msg.Error values with the legacy lines; the
// caller adds `Failed to load backup state file <path>`.
func OpenAppend(e *FileEntry) (*os.File, error) {
	if e.IsS3() {
		return nil, loadErr(nil, fmt.Sprintf("File %s of the backup state file is on S3", e.Path), deserializeIO)
	}
	if e.Path == "-" {
		if e.FilePos != 0 {
			return nil, loadErr(nil, "Expected file pos must be 0 when opening a file in write mode", deserializeIO)
		}
		return nil, nil
	}
	f, err := os.OpenFile(e.Path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o666)
	if err != nil {
		return nil, loadErr(err, fmt.Sprintf("Failed to open file %s in \"a\" mode %s", e.Path, errnoText(err)), deserializeIO)
	}
	pos, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		_ = f.Close() // nothing was written: the seek error is the one to report
		return nil, loadErr(err, fmt.Sprintf("Unable to read file pos from file %s", errnoText(err)), deserializeIO)
	}
	if uint64(pos) != e.FilePos {
		_ = f.Close() // nothing was written: the position is the error to report
		return nil, loadErr(nil, fmt.Sprintf("Expected file pos (%d) did not match file pos (%d) for file (%s) opened in append mode", e.FilePos, pos, e.Path), deserializeIO)
	}
	return f, nil
}
