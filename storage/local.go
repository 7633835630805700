package storage

import (
	"errors"
	"os"

	"asbtools/state"
)

// Local is the Store of local files.
type Local struct{}

// ErrIsDirectory is returned by Local.Open for a directory.
var ErrIsDirectory = errors.New("is a directory")

// PrepareDirectory implements Store.
func (Local) PrepareDirectory(dir string, log Logf) error { return PrepareDirectory(dir, log) }

// BackupEntries implements Store.
func (Local) BackupEntries(dir string) ([]string, error) { return BackupEntries(dir) }

// ClearDirectory implements Store.
func (Local) ClearDirectory(dir string, remove bool) error { return ClearDirectory(dir, remove) }

// PrepareOutputFile implements Store.
func (Local) PrepareOutputFile(path string, remove bool) error {
	return PrepareOutputFile(path, remove)
}

// RemoveArtifacts implements Store.
func (Local) RemoveArtifacts(file, dir string, log Logf) error {
	return RemoveArtifacts(file, dir, log)
}

// Remove implements Store.
func (Local) Remove(path string) error { return os.Remove(path) }

// FreeSpace implements Store.
func (Local) FreeSpace(dir string) (uint64, bool) { return DiskSpace(dir), true }

// ListInput implements Store.
func (Local) ListInput(dir string) ([]InputFile, int64, error) { return ListInputDirectory(dir) }

// Create implements Store: the file is created or truncated; "-" is
// standard output.
func (Local) Create(path string) (Sink, error) {
	if path == "-" {
		return stdoutSink{}, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		return nil, &OpenError{Path: path, Err: err}
	}
	return &localSink{f: f, path: path}, nil
}

// OpenError is a failure to create a backup file; its text is the legacy
// `Failed to open %s for writing (error N: text)`.
type OpenError struct {
	Path string
	Err  error
}

func (e *OpenError) Error() string {
	if IsS3Path(e.Path) {
		return e.Err.Error()
	}
	return "Failed to open " + e.Path + " for writing" + Errno(e.Err)
}

// Unwrap returns the cause.
func (e *OpenError) Unwrap() error { return e.Err }

// Reopen implements Store: the saved file is cut back to its saved
// position if it is longer (bytes written after an in-run checkpoint) and
// reopened in append mode with the legacy checks (state.OpenAppend).
func (Local) Reopen(ent *state.FileEntry) (Sink, error) {
	if ent.Path == "-" {
		if _, err := state.OpenAppend(ent); err != nil {
			return nil, err
		}
		return stdoutSink{}, nil
	}
	if fi, err := os.Stat(ent.Path); err == nil && uint64(fi.Size()) > ent.FilePos {
		if err := os.Truncate(ent.Path, int64(ent.FilePos)); err != nil {
			return nil, errors.New("Failed to truncate " + ent.Path + " to " + utoa(ent.FilePos) + " bytes" + Errno(err))
		}
	}
	f, err := state.OpenAppend(ent)
	if err != nil {
		return nil, err
	}
	return &localSink{f: f, path: ent.Path}, nil
}

// Open implements Store.
func (Local) Open(path string) (Object, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close() // read-only, never read: the stat error is the one to report
		return nil, err
	}
	if st.IsDir() {
		_ = f.Close() // read-only, never read
		return nil, ErrIsDirectory
	}
	return &localObject{File: f, size: st.Size()}, nil
}

// OpenListed implements Store: a local file is opened as by Open (its
// size is that of the open file, the listing's may be stale).
func (l Local) OpenListed(f InputFile) (Object, error) { return l.Open(f.Path) }

type localObject struct {
	*os.File
	size int64
}

func (o *localObject) Size() int64 { return o.size }

type localSink struct {
	f    *os.File
	path string
}

func (s *localSink) Write(p []byte) (int, error) { return s.f.Write(p) }
func (s *localSink) Sync() error                 { return s.f.Sync() }
func (s *localSink) Upload() *state.S3Upload     { return nil }

func (s *localSink) Close() error {
	err := s.f.Sync()
	if e := s.f.Close(); err == nil {
		err = e
	}
	return err
}

func (s *localSink) Detach() error { return s.f.Close() }

// Mark returns an fsync of the file. A file closed since was synced by its
// Close (Detach closes only after a Sync).
func (s *localSink) Mark() (func() (*state.S3Upload, error), func()) {
	return func() (*state.S3Upload, error) {
		if err := s.f.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
			return nil, err
		}
		return nil, nil
	}, func() {}
}

func (s *localSink) Abort() error {
	_ = s.f.Close()
	return os.Remove(s.path)
}

type stdoutSink struct{}

func (stdoutSink) Write(p []byte) (int, error) { return os.Stdout.Write(p) }
func (stdoutSink) Sync() error                 { return nil }
func (stdoutSink) Close() error                { return nil }
func (stdoutSink) Abort() error                { return nil }
func (stdoutSink) Detach() error               { return nil }
func (stdoutSink) Upload() *state.S3Upload     { return nil }

func (stdoutSink) Mark() (func() (*state.S3Upload, error), func()) {
	return func() (*state.S3Upload, error) { return nil, nil }, func() {}
}
