// Package storage manages the backup files of the tools on local disk.
//
// The output side (this file set, output*.go) implements what asbackup does
// with its outputs: preparing a backup directory (creation, refusal of an
// existing backup without -r, -r removal of *.asb entries), directory-mode
// file naming (<dir>/<prefix>_NNNNN.asb) with rotation and a FIFO reuse queue,
// single-file and stdout outputs, and --remove-artifacts.
package storage

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"

	"asbtools/asb"
	"asbtools/msg"
	"asbtools/state"
	"asbtools/stream"
)

// Errno formats the legacy ` (error N: text)` suffix for err.
func Errno(err error) string {
	var en syscall.Errno
	if errors.As(err, &en) {
		return fmt.Sprintf(" (error %d: %s)", int(en), strerror(en))
	}
	return " (error 0: " + err.Error() + ")"
}

// strerror returns the C library wording of an errno.
func strerror(en syscall.Errno) string {
	s := en.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Logf receives INF lines (info=true) and ERR lines.
type Logf func(info bool, msg string)

// PrepareDirectory creates a missing backup directory (one level, mode 0775
// before umask) and logs the legacy lines `Directory %s does not exist,
// creating` and `Directory %s prepared for backup`.
func PrepareDirectory(dir string, log Logf) error {
	st, err := os.Stat(dir)
	switch {
	case err == nil && !st.IsDir():
		return fmt.Errorf("Error while opening directory %s%s", dir, Errno(syscall.ENOTDIR))
	case err != nil && errors.Is(err, os.ErrNotExist):
		log(true, "Directory "+dir+" does not exist, creating")
		if err := os.Mkdir(dir, 0o775); err != nil {
			return msg.WithCause(err, "Error while creating directory %s%s", dir, Errno(err))
		}
	case err != nil:
		return msg.WithCause(err, "Error while opening directory %s%s", dir, Errno(err))
	}
	log(true, "Directory "+dir+" prepared for backup")
	return nil
}

// BackupEntries returns the names of the directory's *.asb entries.
func BackupEntries(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, msg.WithCause(err, "Error while opening directory %s for scanning/clearing%s", dir, Errno(err))
	}
	var out []string
	for _, e := range ents {
		if IsBackupFileName(e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// ClearDirectory applies the directory check of a fresh backup: with remove
// every *.asb entry is deleted, otherwise any *.asb entry is an error
// (`Directory %s seems to contain an existing backup; use -r to clear
// directory`). Other entries are left alone.
func ClearDirectory(dir string, remove bool) error {
	names, err := BackupEntries(dir)
	if err != nil {
		return err
	}
	for _, n := range names {
		p := dir + "/" + n
		if !remove {
			return fmt.Errorf("Directory %s seems to contain an existing backup; use -r to clear directory", dir)
		}
		if err := os.Remove(p); err != nil {
			return msg.WithCause(err, "Error while removing existing backup file %s%s", p, Errno(err))
		}
	}
	return nil
}

// PrepareOutputFile applies the -o checks of a fresh backup: "-" (stdout)
// always passes; an existing file is an error without remove (`Output file
// %s already exists; use -r to remove`) and is deleted with it.
func PrepareOutputFile(path string, remove bool) error {
	if path == "-" {
		return nil
	}
	if _, err := os.Lstat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return msg.WithCause(err, "Error while checking output file %s%s", path, Errno(err))
	}
	if !remove {
		return fmt.Errorf("Output file %s already exists; use -r to remove", path)
	}
	if err := os.Remove(path); err != nil {
		return msg.WithCause(err, "Error while deleting local file %s%s", path, Errno(err))
	}
	return nil
}

// RemoveArtifacts implements --remove-artifacts. With file != "" the file is
// deleted (`Deleting output file %s`); otherwise every *.asb entry of dir is
// deleted and then the directory itself if nothing else is left in it
// (`Deleting backup directory %s`). A failure to remove the emptied
// directory is logged but not fatal.
func RemoveArtifacts(file, dir string, log Logf) error {
	if file != "" {
		log(true, "Deleting output file "+file)
		if err := os.Remove(file); err != nil {
			return msg.WithCause(err, "Error while deleting local file %s%s", file, Errno(err))
		}
		return nil
	}
	log(true, "Deleting backup directory "+dir)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return msg.WithCause(err, "Error while opening local directory %s for deleting%s", dir, Errno(err))
	}
	empty := true
	for _, e := range ents {
		if !IsBackupFileName(e.Name()) {
			empty = false
			continue
		}
		p := dir + "/" + e.Name()
		if err := os.Remove(p); err != nil {
			return msg.WithCause(err, "Error while deleting local file %s%s", p, Errno(err))
		}
	}
	if empty {
		if err := os.Remove(dir); err != nil {
			log(false, "Error while removing empty directory "+dir+Errno(err))
		}
	}
	return nil
}

// File is one open backup file: the file (or stdout), the legacy stream on
// top of it and an ASB writer on top of the stream. Sizes follow the legacy
// accounting: bytes handed to the file, not counting buffered text.
type File struct {
	// Path is the path as used to create the file ("-" for stdout).
	Path string
	// Records counts the records written to this file (all runs).
	Records uint64

	sink   Sink // nil for a CreateOn writer
	out    io.Writer
	bw     *bufio.Writer // batches the stream's small writes into fewer syscalls
	sw     *stream.Writer
	aw     *asb.Writer
	stdout bool
	// local is set for a file on disk this File opened (Create, Resume).
	local bool
	// unfinished is set once Close failed with ErrUploadIncomplete: the
	// stream is closed, the sink (an open S3 upload) is kept so that the
	// file can be saved in a state (Sync, Upload, Detach) or closed again.
	unfinished bool
}

// fileBufSize is the write buffer between an uncompressed stream and the
// file: the stream hands on 4 KiB blocks (legacy size accounting), the file
// gets fewer, larger writes. Writes of this size or more bypass it. It is
// small because every open file of a directory-mode backup holds one.
// Compressed streams write their frames to the file directly.
const fileBufSize = 16 << 10

// sinkFor returns what the stream writes to: the file itself for a
// compressing stream (it hands on whole frames, a few KiB each) or an S3
// object (a write only copies into the part being filled, so a buffer in
// front of it would only copy the bytes once more), else a write buffer in
// front of it.
func (o *File) sinkFor(opts stream.Options) io.Writer {
	if _, s3 := o.sink.(*s3Writer); opts.Compress || s3 {
		return o.out
	}
	o.bw = bufio.NewWriterSize(o.out, fileBufSize)
	return o.bw
}

// Create creates (truncates) the local file path, or uses stdout for "-",
// and writes the header "Version <v>" / "# namespace <ns>".
func Create(path, ns string, v asb.Version, opts stream.Options) (*File, error) {
	return CreateIn(Local{}, path, 0, ns, v, opts)
}

// CreateIn creates path in store and writes the header. expected is the
// size the file is expected to reach (0: unknown); S3 sizes the parts of
// its upload by it.
func CreateIn(store Store, path string, expected uint64, ns string, v asb.Version, opts stream.Options) (*File, error) {
	sk, err := createSized(store, path, expected)
	if err != nil {
		return nil, err
	}
	_, local := sk.(*localSink)
	out := &File{Path: path, sink: sk, out: sk, stdout: path == "-" && !IsS3Path(path), local: local}
	sw, err := stream.NewWriter(out.sinkFor(opts), opts)
	if err != nil {
		out.discard()
		return nil, err
	}
	out.sw = sw
	out.aw = asb.NewWriter(sw)
	if err := out.aw.WriteHeader(&asb.Header{Version: v, Meta: []asb.Meta{asb.NamespaceMeta(ns)}}); err != nil {
		out.discard()
		return nil, err
	}
	if err := out.aw.Flush(); err != nil {
		out.discard()
		return nil, err
	}
	return out, nil
}

// CreateOn starts a backup stream with its header on w (for example a
// discarding writer in estimate mode); name is only used in messages.
func CreateOn(w io.Writer, name, ns string, v asb.Version, opts stream.Options) (*File, error) {
	out := &File{Path: name, out: w}
	sw, err := stream.NewWriter(w, opts)
	if err != nil {
		return nil, err
	}
	out.sw = sw
	out.aw = asb.NewWriter(sw)
	if err := out.aw.WriteHeader(&asb.Header{Version: v, Meta: []asb.Meta{asb.NamespaceMeta(ns)}}); err != nil {
		return nil, err
	}
	if err := out.aw.Flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// Resume continues a file of an interrupted run: sk is the file reopened
// by Store.Reopen, pos the stream position saved with it, and records the
// records it already holds. Pending legacy buffers, if any, must be drained
// with Stream().WriteCiphertext/WriteCompressed/Write before new entries
// are written.
func Resume(path string, sk Sink, opts stream.Options, pos stream.Position, records uint64) (*File, error) {
	_, local := sk.(*localSink)
	out := &File{Path: path, Records: records, sink: sk, out: sk, local: local}
	if _, ok := sk.(stdoutSink); ok {
		out.stdout = true
	}
	sw, err := stream.ResumeWriter(out.sinkFor(opts), opts, pos)
	if err != nil {
		return nil, err
	}
	out.sw = sw
	out.aw = asb.NewBodyWriter(sw, asb.Version31, int64(pos.RawBytes))
	return out, nil
}

// Stream returns the file's stream writer.
func (o *File) Stream() *stream.Writer { return o.sw }

// ASB returns the file's ASB writer. After writing entries call Commit so
// that the size accounting sees them.
func (o *File) ASB() *asb.Writer { return o.aw }

// Commit hands the ASB writer's buffered text to the stream (which still
// buffers up to 4 KiB, or a zstd frame, by itself).
func (o *File) Commit() error { return o.aw.Flush() }

// Size returns the bytes handed to the file so far.
func (o *File) Size() uint64 { return o.sw.BytesWritten() }

// Flush pushes everything to the file, ending the current zstd frame.
func (o *File) Flush() error {
	if o.unfinished {
		return nil // everything was handed on before the failed Close
	}
	if err := o.aw.Flush(); err != nil {
		return err
	}
	if err := o.sw.Flush(); err != nil {
		return err
	}
	if o.bw != nil {
		return o.bw.Flush()
	}
	return nil
}

// Sync flushes the file and makes its bytes durable (fsync for local
// files, uploaded parts for S3; nothing for stdout).
func (o *File) Sync() error {
	if err := o.Flush(); err != nil {
		return err
	}
	if o.sink != nil {
		return o.sink.Sync()
	}
	return nil
}

// Checkpoint flushes the file and returns a function that makes the bytes
// flushed so far durable (fsync for local files, the parts handed out so
// far uploaded for S3) and returns the S3 upload state describing exactly
// them (nil for local files), and the release of that state (Sink.Mark:
// call it once the state is saved or given up). Only the flush needs the
// writers paused: they may go on while the function waits, so that a
// checkpoint does not hold them for the parts in flight or an fsync.
func (o *File) Checkpoint() (wait func() (*state.S3Upload, error), release func(), err error) {
	if err := o.Flush(); err != nil {
		return nil, nil, err
	}
	if o.sink == nil {
		return func() (*state.S3Upload, error) { return nil, nil }, func() {}, nil
	}
	wait, release = o.sink.Mark()
	return wait, release, nil
}

// UploadLast starts uploading the last part of an S3 file that is about
// to be closed, in the background, so that files closed one after the
// other need not each wait for their last part (see s3Writer.UploadLast).
// It does nothing for other files, or while text is still buffered (the
// file was not flushed: Close would void the upload).
func (o *File) UploadLast() {
	w, ok := o.sink.(*s3Writer)
	if !ok || o.unfinished || o.aw.Buffered() > 0 || o.sw.Buffered() > 0 {
		return
	}
	w.UploadLast()
}

// Upload returns the S3 upload state of the file after a Sync (nil for
// local files).
func (o *File) Upload() *state.S3Upload {
	if o.sink == nil {
		return nil
	}
	return o.sink.Upload()
}

// Position returns the stream position (call after Flush).
func (o *File) Position() stream.Position { return o.sw.Position() }

// IsStdout reports whether the file is standard output.
func (o *File) IsStdout() bool { return o.stdout }

// Close flushes and finishes the file (fsync for local files, multipart
// upload completed for S3). An S3 file whose parts could not all be
// uploaded, or whose upload could not be completed, fails with an error
// wrapping ErrUploadIncomplete and stays resumable: it can be saved in a
// state (Sync, Upload, Detach), or closed again, which only completes the
// upload.
func (o *File) Close() error {
	if o.unfinished {
		if o.sink == nil {
			return nil
		}
		err := o.sink.Close()
		if err == nil {
			o.sink, o.unfinished = nil, false
		}
		return err
	}
	err := o.Flush()
	if e := o.sw.Close(); err == nil {
		err = e
	}
	if o.bw != nil {
		if e := o.bw.Flush(); err == nil {
			err = e
		}
	}
	if o.sink != nil {
		switch {
		case err == nil:
			err = o.sink.Close()
			if errors.Is(err, ErrUploadIncomplete) {
				o.unfinished = true
				return err
			}
		case o.local:
			// A local file is closed and kept (Abort removes it).
			_ = o.sink.Detach()
		default:
			// An S3 upload that cannot be finished is aborted.
			_ = o.sink.Abort()
		}
		o.sink = nil
	}
	return err
}

// Detach syncs the file and ends its use without finishing it: the state
// file that describes it lets --continue append to it (an S3 upload stays
// open).
func (o *File) Detach() error {
	err := o.Sync()
	if o.sink != nil {
		if e := o.sink.Detach(); err == nil {
			err = e
		}
		o.sink = nil
	}
	o.unfinished = false
	return err
}

// Unfinished reports whether Close failed but left the file resumable
// (ErrUploadIncomplete).
func (o *File) Unfinished() bool { return o.unfinished }

// discard drops the file without flushing: a local file is removed, an S3
// upload aborted (never stdout).
func (o *File) discard() {
	if o.sink != nil && !o.stdout {
		_ = o.sink.Abort()
		o.sink = nil
		return
	}
	if o.local {
		// Already closed (a failed Close): remove what is on disk.
		_ = os.Remove(o.Path)
	}
}

// Abort closes the file without flushing pending text and deletes it (a
// partial directory-mode file of an aborted run). Stdout is left alone.
func (o *File) Abort() { o.discard() }

// Dir hands out directory-mode files: new files are named
// <dir>/<prefix>_<index>.asb with the index zero-padded to at least 5 digits
// and assigned at creation; released files below the size limit go to a FIFO
// reuse queue and are handed out again before a new file is created.
type Dir struct {
	Dir, Prefix, Namespace string
	Opts                   stream.Options
	// Limit is the rotation size in bytes.
	Limit uint64
	// Expected, if set, returns the expected size of the rest of the
	// backup; before a new file is created the free space of Dir is
	// compared with it and with its share for the file, and Warn receives
	// the legacy warnings.
	Expected func() uint64
	Warn     func(msg string)
	// Store holds the files (Local{} when nil).
	Store Store

	mu   sync.Mutex
	next uint64
	// createMu is held while a new file is created.
	createMu sync.Mutex
	queue    []*File
	// closedBytes and closedRecords total the files closed so far.
	closedBytes, closedRecords uint64
}

// NewDir returns a Dir whose next file index is next (the saved file count
// when resuming).
func NewDir(dir, prefix, ns string, opts stream.Options, limit uint64, next uint64) *Dir {
	return &Dir{Dir: dir, Prefix: prefix, Namespace: ns, Opts: opts, Limit: limit, next: next}
}

// FileName returns the path of the file with the given index.
func (d *Dir) FileName(i uint64) string {
	return fmt.Sprintf("%s/%s_%05d.asb", d.Dir, d.Prefix, i)
}

// Created returns the number of files created so far (the next index).
func (d *Dir) Created() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.next
}

// Enqueue puts a file (e.g. one reopened for --continue) into the reuse
// queue.
func (d *Dir) Enqueue(f *File) {
	d.mu.Lock()
	d.queue = append(d.queue, f)
	d.mu.Unlock()
}

// Acquire returns the oldest queued file, or creates a new one (with version
// v in its header). fresh reports whether the file was newly created.
func (d *Dir) Acquire(v asb.Version) (f *File, fresh bool, err error) {
	d.mu.Lock()
	if len(d.queue) > 0 {
		f = d.queue[0]
		d.queue[0] = nil
		d.queue = d.queue[1:]
		d.mu.Unlock()
		return f, false, nil
	}
	d.mu.Unlock()
	// Files are created one at a time, and a file that cannot be created
	// takes no index (legacy holds a lock while it creates a file, and
	// counts it once created): the file count saved in a state is the
	// number of files that exist.
	d.createMu.Lock()
	defer d.createMu.Unlock()
	d.mu.Lock()
	i := d.next
	d.mu.Unlock()
	store := d.Store
	if store == nil {
		store = Local{}
	}
	var expect uint64
	size := d.Limit // the size the file is expected to reach
	if d.Expected != nil && d.Warn != nil {
		remaining := d.Expected()
		size = min(remaining, d.Limit)
		if free, ok := store.FreeSpace(d.Dir); ok {
			if free < remaining {
				d.Warn(fmt.Sprintf("Warning: %d bytes of disk space remaining, but the expected total backup size is %d", free, remaining))
			}
			expect = size
		}
	}
	f, err = CreateIn(store, d.FileName(i), size, d.Namespace, v, d.Opts)
	if err != nil {
		return nil, false, &CreateError{Path: d.FileName(i), Err: err}
	}
	d.mu.Lock()
	d.next = i + 1
	d.mu.Unlock()
	if expect > 0 {
		if w := FileSpaceWarning(f.Path, expect); w != "" {
			d.Warn(w)
		}
	}
	return f, true, nil
}

// CreateError is the failure of Dir.Acquire to create file Path.
type CreateError struct {
	Path string
	Err  error
}

func (e *CreateError) Error() string { return e.Err.Error() }
func (e *CreateError) Unwrap() error { return e.Err }

// Release ends a job's use of f: it is flushed (ending the zstd frame) and
// queued for reuse if still below the limit, else closed. A file whose
// flush fails is queued too (as legacy does), so that an aborted backup
// finds and deletes it (see Drain and File.Abort), and so is a file whose
// close left it resumable (ErrUploadIncomplete), for the state.
func (d *Dir) Release(f *File) error {
	if err := f.Flush(); err != nil {
		d.Enqueue(f)
		return err
	}
	if f.Size() < d.Limit {
		d.Enqueue(f)
		return nil
	}
	err := d.CloseFile(f)
	if errors.Is(err, ErrUploadIncomplete) {
		d.Enqueue(f) // saved in the state (legacy queues it too)
	}
	return err
}

// CloseFile closes f and counts it as committed.
func (d *Dir) CloseFile(f *File) error {
	err := f.Close()
	d.mu.Lock()
	d.closedBytes += f.Size()
	d.closedRecords += f.Records
	d.mu.Unlock()
	return err
}

// Committed returns the bytes and records of the files closed so far.
func (d *Dir) Committed() (bytes, records uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.closedBytes, d.closedRecords
}

// Drain removes and returns every queued file.
func (d *Dir) Drain() []*File {
	d.mu.Lock()
	defer d.mu.Unlock()
	q := d.queue
	d.queue = nil
	return q
}

// Queued returns the queued files without removing them.
func (d *Dir) Queued() []*File {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]*File(nil), d.queue...)
}
