package storage

import (
	"io"
	"strings"
	"sync"

	"asbtools/state"
)

// Store is where backup files live. Local files and S3 objects both
// implement it, so the engines never know which one they use: paths are
// the legacy ones (a local path, or s3://bucket/key), and the Router
// returned by New sends each path to its backend.
type Store interface {
	// PrepareDirectory readies a backup directory (local: created when
	// missing; S3: nothing to do) and logs the legacy lines.
	PrepareDirectory(dir string, log Logf) error
	// BackupEntries returns the names, relative to dir, of its backup
	// files (*.asb entries; S3: objects and incomplete uploads under the
	// prefix).
	BackupEntries(dir string) ([]string, error)
	// ClearDirectory refuses (remove false) or deletes (remove true) the
	// existing backup files of a fresh directory-mode backup.
	ClearDirectory(dir string, remove bool) error
	// PrepareOutputFile applies the -o existence check of a fresh backup.
	PrepareOutputFile(path string, remove bool) error
	// RemoveArtifacts implements --remove-artifacts.
	RemoveArtifacts(file, dir string, log Logf) error
	// Remove deletes one backup file (a partial output of a crashed run).
	Remove(path string) error
	// Create creates (truncates) a backup file for writing.
	Create(path string) (Sink, error)
	// Reopen continues a file saved in a state file: its bytes beyond the
	// saved position are dropped and writes append to the saved content.
	Reopen(ent *state.FileEntry) (Sink, error)
	// FreeSpace returns the free bytes where dir lives; ok is false where
	// the notion does not apply (S3).
	FreeSpace(dir string) (free uint64, ok bool)
	// ListInput returns the backup files of a restore directory and the
	// sum of their sizes.
	ListInput(dir string) ([]InputFile, int64, error)
	// Open opens a backup file for reading.
	Open(path string) (Object, error)
	// OpenListed opens a file that ListInput returned, trusting the size
	// the listing gave (S3: no HEAD request per object).
	OpenListed(f InputFile) (Object, error)
}

// Sink receives the bytes of one backup file.
type Sink interface {
	io.Writer
	// Sync makes every byte written so far durable (local: fsync; S3:
	// every full part uploaded, the rest is in Upload().Pending).
	Sync() error
	// Close finishes the file (S3: completes the multipart upload).
	Close() error
	// Abort discards the file (local: deleted; S3: upload aborted).
	Abort() error
	// Upload returns the S3 upload state to save with the file after a
	// Sync (nil for local files).
	Upload() *state.S3Upload
	// Detach ends the use of a file that a state file describes, after a
	// Sync: a local file is closed, an S3 upload is left open (neither
	// completed nor aborted) for --continue.
	Detach() error
	// Mark notes the bytes written so far without waiting for anything;
	// wait makes them durable and returns the upload state that describes
	// exactly them (nil for local files), while the writer may go on;
	// release ends the use of that state (its pending bytes may be the
	// writer's own buffer, kept from reuse until then): call it once the
	// state is saved or given up, whether or not wait was called. See
	// File.Checkpoint.
	Mark() (wait func() (*state.S3Upload, error), release func())
}

// Object is a backup file opened for reading.
type Object interface {
	// Read reads the file sequentially from the start (S3: ranged
	// downloads ahead of the reader, resumed after errors).
	io.ReadCloser
	// ReadAt reads an arbitrary range.
	io.ReaderAt
	// Size returns the file's size.
	Size() int64
}

// IsS3Path reports whether a path names an S3 object or prefix.
func IsS3Path(p string) bool { return strings.HasPrefix(p, S3Prefix) }

// Router sends s3:// paths to an S3 store, created on first use from its
// options, and every other path to the local file system.
type Router struct {
	Local Local
	S3    S3Options
	// OnInit, if set, is called when the S3 backend is first needed.
	OnInit func()

	once  sync.Once
	s3    *S3Store
	err   error
	hooks *UploadHooks
}

// EntryChecker is implemented by stores whose directory listing can miss
// a backup file: HasEntry reports whether path exists, as a file or (S3)
// as an object or an incomplete upload. (MinIO lists incomplete uploads
// for an exact key, but for a whole bucket only those started since it
// was last restarted.)
type EntryChecker interface {
	HasEntry(path string) (bool, error)
}

// HasEntry implements EntryChecker for S3 paths (false for local ones,
// whose listing is complete).
func (r *Router) HasEntry(path string) (bool, error) {
	if !IsS3Path(path) {
		return false, nil
	}
	s, err := r.S3Store()
	if err != nil {
		return false, err
	}
	return s.HasEntry(path)
}

// UploadHookSetter is implemented by stores whose files upload in the
// background (S3): the hooks tell the backup what the uploads meet.
type UploadHookSetter interface {
	SetUploadHooks(h *UploadHooks)
}

// SetUploadHooks implements UploadHookSetter: the hooks apply to the S3
// store, now or once it is created. Call it before the store is used.
func (r *Router) SetUploadHooks(h *UploadHooks) {
	r.hooks = h
	if r.s3 != nil {
		r.s3.SetUploadHooks(h)
	}
}

// New returns the store of the tools: local paths and, configured by opts,
// s3:// paths.
func New(opts S3Options) *Router { return &Router{S3: opts} }

// S3Store returns the S3 backend, creating it on first use.
func (r *Router) S3Store() (*S3Store, error) {
	r.once.Do(func() {
		if r.OnInit != nil {
			r.OnInit()
		}
		r.s3, r.err = NewS3Store(r.S3)
		if r.s3 != nil && r.hooks != nil {
			r.s3.SetUploadHooks(r.hooks)
		}
	})
	return r.s3, r.err
}

// Used reports whether the S3 backend was created.
func (r *Router) Used() bool { return r.s3 != nil }

func (r *Router) pick(path string) (Store, error) {
	if !IsS3Path(path) {
		return r.Local, nil
	}
	s, err := r.S3Store()
	if err != nil {
		return nil, err
	}
	return s, nil
}

// PrepareDirectory implements Store.
func (r *Router) PrepareDirectory(dir string, log Logf) error {
	s, err := r.pick(dir)
	if err != nil {
		return err
	}
	return s.PrepareDirectory(dir, log)
}

// BackupEntries implements Store.
func (r *Router) BackupEntries(dir string) ([]string, error) {
	s, err := r.pick(dir)
	if err != nil {
		return nil, err
	}
	return s.BackupEntries(dir)
}

// ClearDirectory implements Store.
func (r *Router) ClearDirectory(dir string, remove bool) error {
	s, err := r.pick(dir)
	if err != nil {
		return err
	}
	return s.ClearDirectory(dir, remove)
}

// PrepareOutputFile implements Store.
func (r *Router) PrepareOutputFile(path string, remove bool) error {
	s, err := r.pick(path)
	if err != nil {
		return err
	}
	return s.PrepareOutputFile(path, remove)
}

// RemoveArtifacts implements Store.
func (r *Router) RemoveArtifacts(file, dir string, log Logf) error {
	p := dir
	if file != "" {
		p = file
	}
	s, err := r.pick(p)
	if err != nil {
		return err
	}
	return s.RemoveArtifacts(file, dir, log)
}

// Remove implements Store.
func (r *Router) Remove(path string) error {
	s, err := r.pick(path)
	if err != nil {
		return err
	}
	return s.Remove(path)
}

// Create implements Store.
func (r *Router) Create(path string) (Sink, error) {
	s, err := r.pick(path)
	if err != nil {
		return nil, err
	}
	return s.Create(path)
}

// CreateSized creates a file expected to grow to about expected bytes: S3
// sizes the parts of its upload by it, a local file ignores it.
func (r *Router) CreateSized(path string, expected uint64) (Sink, error) {
	if !IsS3Path(path) {
		return r.Local.Create(path)
	}
	s, err := r.S3Store()
	if err != nil {
		return nil, err
	}
	return s.CreateSized(path, expected)
}

// createSized creates path in store, sized for expected bytes where the
// store lays files out by their size (0: unknown).
func createSized(store Store, path string, expected uint64) (Sink, error) {
	if sc, ok := store.(interface {
		CreateSized(string, uint64) (Sink, error)
	}); ok && expected > 0 {
		return sc.CreateSized(path, expected)
	}
	return store.Create(path)
}

// Reopen implements Store.
func (r *Router) Reopen(ent *state.FileEntry) (Sink, error) {
	s, err := r.pick(ent.Path)
	if err != nil {
		return nil, err
	}
	return s.Reopen(ent)
}

// FreeSpace implements Store.
func (r *Router) FreeSpace(dir string) (uint64, bool) {
	if IsS3Path(dir) {
		return 0, false
	}
	return r.Local.FreeSpace(dir)
}

// ListInput implements Store.
func (r *Router) ListInput(dir string) ([]InputFile, int64, error) {
	s, err := r.pick(dir)
	if err != nil {
		return nil, 0, inputError(err, err.Error())
	}
	return s.ListInput(dir)
}

// Open implements Store.
func (r *Router) Open(path string) (Object, error) {
	s, err := r.pick(path)
	if err != nil {
		return nil, err
	}
	return s.Open(path)
}

// OpenListed implements Store.
func (r *Router) OpenListed(f InputFile) (Object, error) {
	s, err := r.pick(f.Path)
	if err != nil {
		return nil, err
	}
	return s.OpenListed(f)
}
