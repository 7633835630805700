package backup

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"asbtools/msg"
	"asbtools/state"
	"asbtools/storage"
	"asbtools/stream"
)

// snapshot builds the partition table and counters of the current progress
// (legacy A.4). Callers hold e.cp.mu exclusively or run after the workers.
func (e *engine) snapshot() *state.State {
	st := &state.State{}
	for _, j := range e.plan.jobs {
		for _, p := range j.parts {
			ps := &st.Partitions[p.id]
			switch {
			case p.done && p.hasDig:
				ps.Status, ps.Digest = state.Complete, p.digest
			case p.done:
				ps.Status = state.CompleteEmpty
			case p.hasDig:
				ps.Status, ps.Digest = state.Incomplete, p.digest
			default:
				ps.Status = state.NotStarted
			}
		}
	}
	st.IndexCount, st.UDFCount = e.count.indexes, e.count.udfs
	st.RecTotal, st.ByteTotal = e.count.records.Load(), e.count.bytes.Load()
	if e.out.dir != nil {
		st.FileCount = e.out.dir.Created()
		st.ByteCommitted, st.RecCommitted = e.out.dir.Committed()
	}
	return st
}

// openOutputFiles returns every backup file still open: the single file or
// the directory-mode files held by jobs and those in the reuse queue.
func (e *engine) openOutputFiles() []*storage.File {
	if e.out.single != nil {
		return []*storage.File{e.out.single}
	}
	if e.out.dir == nil {
		return nil
	}
	return append(e.out.dir.Queued(), e.out.held()...)
}

// legacyZstdBufSize is the capacity legacy records for the text buffer of a
// compressing writer (state-and-streams.md A.3.3).
const legacyZstdBufSize = 131591

// fileEntry describes f as of its last flush; up is its S3 upload state
// (nil for a local file). The file's record count is saved in directory
// mode only (legacy saves 0 for an -o file).
func (e *engine) fileEntry(f *storage.File, up *state.S3Upload) state.FileEntry {
	recs := f.Records
	if e.out.single != nil {
		recs = 0
	}
	pos := f.Position()
	// Buffer capacities as legacy records them (its text buffer is 4 KiB,
	// or libzstd's streaming buffer size); nothing is pending after the
	// flush, so they only tell a legacy reader what to allocate.
	bufSize := uint64(4096)
	if e.streamO.Compress {
		bufSize = legacyZstdBufSize
	}
	ent := state.FileEntry{
		ByteCount: pos.BytesWritten, RawByteCount: pos.RawBytes, Num: pos.Num,
		Flags: e.streamO.LegacyFlags(), IV: pos.IV,
		Main:     state.Buffer{Size: bufSize},
		Path:     f.Path,
		RecCount: recs,
	}
	if e.streamO.Compress {
		ent.Compressed = &state.Buffer{Size: bufSize + bufSize/8}
	}
	if e.streamO.Cipher != stream.None {
		ent.Encrypted = &state.Buffer{Size: bufSize + bufSize/8}
	}
	if !f.IsStdout() {
		ent.FilePos = pos.BytesWritten
	}
	if up != nil {
		ent.FileFlags |= state.FileS3
		ent.S3 = up
	}
	return ent
}

// saveState flushes every open file, writes the state of the ending run
// atomically, and then leaves the files resumable: local files are closed,
// S3 uploads are left open (not completed) for --continue. (An in-run
// state is written by checkpoint, while the run goes on.)
func (e *engine) saveState() error {
	if e.cp.path == "" {
		return errors.New("no state path")
	}
	e.cp.mu.Lock()
	defer e.cp.mu.Unlock()
	e.out.writeMu.Lock()
	defer e.out.writeMu.Unlock()
	files := e.openOutputFiles()
	for _, f := range files {
		before := f.Size()
		if err := f.Sync(); err != nil {
			return err
		}
		if d := f.Size() - before; d > 0 {
			e.count.bytes.Add(d)
		}
	}
	st := e.snapshot()
	for _, f := range files {
		st.Files = append(st.Files, e.fileEntry(f, f.Upload()))
	}
	if err := e.writeState(st); err != nil {
		return err
	}
	e.cp.written = true
	for _, f := range files {
		_ = f.Detach()
	}
	if e.out.dir != nil {
		e.out.dir.Drain()
	}
	e.out.single = nil
	return nil
}

// checkpoint writes an in-run state. The writers are paused only while
// the open files are flushed and the state is taken, so that it describes
// exactly the bytes handed to the files; making those bytes durable (the
// S3 parts handed out so far uploaded, fsync) and writing the state
// happen while the run goes on. A file the run writes on, or even closes
// (rotation), meanwhile only gets longer than the state says, which
// --continue handles as after a crash that followed the checkpoint. The
// run's end waits for a checkpoint under way (the background loop is
// waited for before the files are closed or the final state is saved).
// A checkpoint still waiting when finished is closed (the workers are
// done) writes nothing and returns at once: the run's end closes the files
// or saves the state.
func (e *engine) checkpoint(finished <-chan struct{}) error {
	if e.cp.path == "" {
		return errors.New("no state path")
	}
	e.cp.mu.Lock()
	e.out.writeMu.Lock()
	st, waits, releases, err := e.markFiles()
	e.out.writeMu.Unlock()
	e.cp.mu.Unlock()
	// The state's pending S3 bytes are the writers' part buffers, pinned
	// until the state is written or given up.
	defer func() {
		for _, r := range releases {
			r()
		}
	}()
	if err != nil || st.IsComplete() {
		return err
	}
	durable := make(chan error, 1)
	go func() {
		for i, wait := range waits {
			up, err := wait()
			if err != nil {
				durable <- err
				return
			}
			if up != nil {
				st.Files[i].FileFlags |= state.FileS3
				st.Files[i].S3 = up
			}
		}
		durable <- nil
	}()
	select {
	case <-finished:
		// The files are closed or saved next; the waits end with them.
		return nil
	case err := <-durable:
		if err != nil {
			return err
		}
	}
	select {
	case <-finished:
		return nil
	default:
	}
	if err := e.writeState(st); err != nil {
		return err
	}
	e.cp.written = true
	return nil
}

// markFiles flushes the open files and takes the state (the writers
// paused); waits[i] makes the flushed bytes of st.Files[i] durable and
// returns its upload state; the releases (also returned with an error)
// end the use of those states.
func (e *engine) markFiles() (st *state.State, waits []func() (*state.S3Upload, error), releases []func(), err error) {
	files := e.openOutputFiles()
	waits = make([]func() (*state.S3Upload, error), len(files))
	for i, f := range files {
		before := f.Size()
		wait, release, err := f.Checkpoint()
		if err != nil {
			return nil, nil, releases, err
		}
		waits[i] = wait
		releases = append(releases, release)
		if d := f.Size() - before; d > 0 {
			e.count.bytes.Add(d)
		}
	}
	st = e.snapshot()
	for _, f := range files {
		st.Files = append(st.Files, e.fileEntry(f, nil))
	}
	return st, waits, releases, nil
}

// loadFailure is the failure to load a state file (legacy lines of err,
// then the legacy line naming the file).
func loadFailure(err error, path string) *msg.Error {
	return msg.Wrap(err, msg.Err("Failed to load backup state file %s", path))
}

// loadState loads the --continue state and narrows the jobs (legacy A.5).
func (e *engine) loadState() error {
	c := e.cfg
	path := c.Continue.Value
	st, err := e.readState(path)
	if err != nil {
		return loadFailure(err, path)
	}
	for i := range st.Files {
		if err := state.CheckFlags(&st.Files[i], e.streamO.LegacyFlags()); err != nil {
			return loadFailure(err, path)
		}
	}
	filters := make([]state.Filter, len(e.plan.jobs))
	for i, j := range e.plan.jobs {
		filters[i] = state.Filter{Begin: j.filter.Begin, Count: j.filter.Count}
		if j.filter.Digest != nil {
			var d [20]byte
			copy(d[:], j.filter.Digest)
			filters[i].Digest = &d
		}
	}
	res, err := state.Narrow(st, filters, c.NodeList.Set)
	if err != nil {
		return msg.Wrap(err)
	}
	for i, j := range e.plan.jobs {
		for k, pr := range res[i] {
			p := j.parts[k]
			p.hasDig, p.digest = false, [20]byte{}
			if pr.After != nil {
				p.hasDig, p.digest = true, *pr.After
			}
			if pr.Skip {
				p.done = true
			}
			switch st.Partitions[pr.ID].Status {
			case state.Complete, state.CompleteEmpty:
				p.done = true
			}
		}
	}
	e.count.records.Store(st.RecTotal)
	e.count.bytes.Store(st.ByteTotal)
	e.count.indexes, e.count.udfs = st.IndexCount, st.UDFCount
	if c.MaxRecords > 0 {
		rem, err := state.CheckMaxRecords(st, uint64(c.MaxRecords))
		if err != nil {
			return msg.Wrap(err)
		}
		c.MaxRecords = int64(rem)
	}
	if c.OutputFile.Set {
		if err := state.CheckOutputFile(st, c.OutputFile.Value); err != nil {
			return msg.Wrap(err)
		}
	}
	e.cp.loaded = st
	e.cp.resumed = true
	return nil
}

// reopen reopens a saved file in append mode. A file longer than the saved
// position (bytes written after an in-run checkpoint, before a crash) is cut
// back to it: those bytes are not covered by the state and are written again.
func (e *engine) reopen(ent *state.FileEntry) (*storage.File, error) {
	sk, err := e.out.store.Reopen(ent)
	if err != nil {
		return nil, loadFailure(err, e.cfg.Continue.Value)
	}
	pos := stream.Position{BytesWritten: ent.ByteCount, RawBytes: ent.RawByteCount, IV: ent.IV, Num: ent.Num}
	sf, err := storage.Resume(ent.Path, sk, e.streamO, pos, ent.RecCount)
	if err != nil {
		return nil, msg.Wrap(err)
	}
	sw := sf.Stream()
	if ent.Encrypted != nil && len(ent.Encrypted.Pending()) > 0 {
		if err := sw.WriteCiphertext(ent.Encrypted.Pending()); err != nil {
			return nil, msg.Wrap(err)
		}
	}
	if ent.Compressed != nil && len(ent.Compressed.Pending()) > 0 {
		if err := sw.WriteCompressed(ent.Compressed.Pending()); err != nil {
			return nil, msg.Wrap(err)
		}
	}
	if p := ent.Main.Pending(); len(p) > 0 {
		if _, err := sw.Write(p); err != nil {
			return nil, msg.Wrap(err)
		}
	}
	// Bytes of the pending buffers handed to the file count like any other.
	e.count.bytes.Add(sf.Size() - ent.ByteCount)
	return sf, nil
}

// checkResumeDir applies the -d checks of a resumed run. Files created after
// the last in-run checkpoint (index ≥ the saved file count, not in the
// state) are partial outputs of the crashed run and are removed first.
func (e *engine) checkResumeDir() error {
	c := e.cfg
	dir := c.Directory.Value
	names, err := e.out.store.BackupEntries(dir)
	if err != nil {
		return msg.Wrap(err)
	}
	saved := map[string]bool{}
	for _, f := range e.cp.loaded.Files {
		saved[f.Path] = true
	}
	var keep []string
	pre := e.prefix() + "_"
	for _, n := range names {
		p := dir + "/" + n
		if !saved[p] && strings.HasPrefix(n, pre) && strings.HasSuffix(n, ".asb") {
			idx, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(n, pre), ".asb"), 10, 64)
			if err == nil && idx >= e.cp.loaded.FileCount {
				if err := e.out.store.Remove(p); err == nil {
					continue
				}
			}
		}
		keep = append(keep, n)
	}
	if hc, ok := e.out.store.(storage.EntryChecker); ok {
		// Saved files the listing missed (incomplete uploads of a store
		// that lists them only for an exact key).
		listed := map[string]bool{}
		for _, n := range keep {
			listed[dir+"/"+n] = true
		}
		for _, f := range e.cp.loaded.Files {
			if n, in := strings.CutPrefix(f.Path, dir+"/"); in && !listed[f.Path] {
				if has, err := hc.HasEntry(f.Path); err == nil && has {
					keep = append(keep, n)
				}
			}
		}
	}
	if err := state.CheckDirectory(e.cp.loaded, dir, keep); err != nil {
		return msg.Wrap(err)
	}
	return nil
}

// writeState saves the state at e.cp.path: a local file is replaced
// atomically (state.Save); an s3:// state is uploaded as one object.
func (e *engine) writeState(st *state.State) error {
	if !storage.IsS3Path(e.cp.path) {
		return state.Save(e.cp.path, st)
	}
	sk, err := e.out.store.Create(e.cp.path)
	if err != nil {
		return fmt.Errorf("Failed to open state file \"%s\", reason: %w", e.cp.path, err)
	}
	if _, err := st.WriteTo(sk); err != nil {
		_ = sk.Abort()
		return fmt.Errorf("Error while writing backup state file %s: %w", e.cp.path, err)
	}
	if err := sk.Close(); err != nil {
		_ = sk.Abort() // a failed part leaves the upload open
		return fmt.Errorf("Error while writing backup state file %s: %w", e.cp.path, err)
	}
	return nil
}

// readState loads a --continue state from a local file or an S3 object.
func (e *engine) readState(path string) (*state.State, error) {
	if !storage.IsS3Path(path) {
		return state.Load(path)
	}
	o, err := e.out.store.Open(path)
	if err != nil {
		return nil, &msg.Error{Lines: []msg.Line{msg.Err("%s", err.Error()), msg.Err("Unable to open file %s for reading", path)}, Err: err}
	}
	// Read-only: the state is complete once Read returns.
	defer func() { _ = o.Close() }()
	return state.Read(o)
}
