package backup

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"asbtools/asb"
	"asbtools/infocmd"
	"asbtools/internal/memtrim"
	"asbtools/msg"
	"asbtools/state"
	"asbtools/storage"
	"asbtools/stream"
)

// countWriter discards data and counts it (estimate output).
type countWriter struct{ n uint64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += uint64(len(p)); return len(p), nil }

func (e *engine) prefix() string {
	if e.cfg.OutputPrefix.Set {
		return e.cfg.OutputPrefix.Value
	}
	return e.cfg.Namespace
}

// execute is legacy start_backup after backup_status_init. Once the run
// has begun, the legacy summary follows on every path (e.sum.Done).
func (e *engine) execute(parent context.Context) error {
	c := e.cfg
	defer e.client.Close()
	if err := e.rep.Begin(); err != nil {
		return err
	}
	so, err := e.cfg.Stream.Options()
	if err != nil {
		return msg.Wrap(err)
	}
	e.streamO = so

	// From here on the backup can be interrupted: the caller's
	// cancellation (SIGINT/SIGTERM) is reported, then stops the run.
	if e.deps.Interruptible != nil {
		e.deps.Interruptible()
	}
	var interruptOnce sync.Once
	interrupt := func() {
		interruptOnce.Do(func() {
			e.rep.Interrupted()
			e.stop()
		})
	}
	e.life.callerStopped = func() bool {
		if parent.Err() == nil {
			return false
		}
		interrupt()
		return true
	}
	if parent.Err() != nil {
		interrupt()
	} else {
		defer context.AfterFunc(parent, interrupt)()
	}

	defer func() {
		e.sum = Summary{Records: e.count.records.Load(), Bytes: e.count.bytes.Load(),
			Indexes: e.count.indexes, UDFs: e.count.udfs, Done: true}
	}()
	if hs, ok := e.out.store.(storage.UploadHookSetter); ok && !c.Estimate {
		hs.SetUploadHooks(&storage.UploadHooks{Failed: e.uploadFailed, Stopped: e.isStopped, Late: e.rep.UploadAfterStop})
		defer hs.SetUploadHooks(nil)
	}
	if err := e.prepare(); err != nil {
		return err
	}
	if err := e.openOutputs(); err != nil {
		return err
	}
	if !c.Estimate {
		r, err := state.ResolveStatePath(state.PathInput{
			Directory: c.Directory.Value, OutputFile: c.OutputFile.Value,
			Prefix: c.OutputPrefix.Value, Namespace: c.Namespace,
			StateFileDst: c.StateFileDst.Value,
		})
		if err != nil {
			return msg.Wrap(err, e.abortOutputs()...)
		}
		e.cp.path = r.Path
	} else if c.StateFileDst.Set {
		e.rep.StateFileDstIgnored()
	}

	if e.cfg.Bandwidth > 0 {
		e.throttle = newThrottle(uint64(e.cfg.Bandwidth), e.count.bytes.Load())
	}
	e.life.started.Store(true)
	if c.Continue.Set {
		e.gates.openOneShot()
	}

	// The background work (progress, checkpoints, rack refresh, page
	// trimming) runs until the workers are done.
	finished := make(chan struct{})
	var bg errgroup.Group
	bg.Go(func() error { e.counter(finished); return nil })
	if !c.Estimate {
		iv := e.cfg.CheckpointInterval
		if iv == 0 {
			iv = DefaultCheckpointInterval
		}
		if iv > 0 {
			bg.Go(func() error { e.checkpointLoop(iv, finished); return nil })
		}
	}
	if e.racks != nil {
		bg.Go(func() error { e.rackTend(finished); return nil })
	}
	if e.deps.ReleasePages != nil {
		e.deps.ReleasePages()
		bg.Go(func() error { memtrim.Repeat(e.deps.ReleasePages, firstTrim, trimInterval, finished); return nil })
	}

	failedAny := e.runWorkers() != nil
	if c.Estimate {
		// Legacy prints the estimate before the counter's last evaluation.
		e.showEstimate()
	}
	close(finished)
	_ = bg.Wait()

	return e.finish(failedAny)
}

// uploadFailed is legacy UploadManager::UploadPartFinished for a part that
// could not be uploaded after the retries: the store's message, then the
// backup stops as on an interrupt (the state file line) and saves its
// state, which holds the part's bytes for --continue.
func (e *engine) uploadFailed(err error) {
	e.rep.Failed(msg.New(msg.Err("%s", storage.S3ErrorText(err))))
	e.stop()
}

// unfinishedLines are the lines of a close that left an S3 file resumable
// (storage.ErrUploadIncomplete): legacy FinishUpload logs a failed
// completion (a failed part was logged when it failed), then close_file
// logs the failed close.
func unfinishedLines(err error) []msg.Line {
	var lines []msg.Line
	var ce *storage.CompleteError
	if errors.As(err, &ce) {
		lines = append(lines, msg.Err("%s", ce.Error()))
	}
	return append(lines, msg.Err("Error while closing backup io proxy"))
}

// prepare loads the state to continue, sizes the jobs and checks the
// settings the legacy tool checks when it prepares the first scan or the
// first file; it reads the index list, which decides the first file's
// version (3.2 with expression indexes).
func (e *engine) prepare() error {
	c := e.cfg
	if c.Continue.Set {
		if err := e.loadState(); err != nil {
			return err
		}
	}
	e.plan.perJob = 0
	maxRec := uint64(c.MaxRecords)
	if c.Estimate {
		maxRec = uint64(c.EstimateSamples)
	}
	if maxRec > 0 {
		n := uint64(len(e.plan.jobs))
		e.plan.perJob = (maxRec + n - 1) / n
	}
	if c.RecordsPerSecond > 0 {
		rps := c.RecordsPerSecond / int64(e.plan.threads)
		if rps == 0 {
			rps = 1
		}
		e.sp.rps = uint32(rps)
	}
	// Failures the legacy tool reports from its silent pre-run estimate
	// (-o) or from the first scan job.
	preEstimate := c.OutputFile.Set && !c.Continue.Set
	if c.BinList.Set && !c.NoRecords {
		if c.BinListErr != nil {
			f := msg.Wrap(c.BinListErr)
			f.Lines = append(f.Lines, msg.Err("Error while setting scan bin list"), msg.Err("Failed to prepare scan object"))
			if preEstimate || c.Estimate {
				f.Lines = append(f.Lines, msg.Err("Backup was aborted, meaning the state is unrecoverable"),
					msg.Err("Backup aborted, backup state is likely unrecoverable"))
			}
			if preEstimate {
				f.Lines = append(f.Lines, msg.Err("Error while running backup estimate"))
			}
			return f
		}
		e.sp.bins = c.Bins
	}
	if e.streamO.Compress {
		if err := stream.CheckLevel(e.streamO.Level); err != nil {
			f := msg.Wrap(err)
			switch {
			case preEstimate || c.Estimate:
				f.Lines = append(f.Lines, msg.Err("Error while opening \"/dev/null\""))
				if preEstimate {
					f.Lines = append(f.Lines, msg.Err("Error while running backup estimate"))
				}
			default:
				f.Lines = append(f.Lines, msg.Err("Error while opening first backup file"))
			}
			return f
		}
	}
	e.firstVer = asb.Version31
	if !c.Continue.Set && !c.NoIndexes {
		if err := e.fetchIndexes(); err != nil {
			return err
		}
	}
	return nil
}

// errJobFailed is returned by a worker whose job failed (its lines are
// logged); the run is stopped.
var errJobFailed = errors.New("backup job failed")

// runWorkers runs the jobs on e.plan.threads workers until every job is done or
// the run stops. A failed job stops the run; the result is then
// errJobFailed.
func (e *engine) runWorkers() error {
	queue := make(chan *job, len(e.plan.jobs))
	for _, j := range e.plan.jobs {
		queue <- j
	}
	close(queue)
	if e.out.dir != nil && !e.cp.resumed {
		e.gates.startFirstWave(e.plan.threads)
	}
	var g errgroup.Group
	for i := 0; i < e.plan.threads; i++ {
		g.Go(func() error {
			first := e.gates.firstWave != nil
			arrive := func() {
				if first {
					first = false
					e.gates.arrived()
				}
			}
			defer arrive()
			for j := range queue {
				if e.isStopped() {
					return nil
				}
				j.acquired = arrive
				if err := e.runJob(j); err != nil {
					e.rep.Failed(err)
					e.stop()
					return errJobFailed
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// ErrStopped is the cause of the failure of a backup that stopped early
// (interrupted, or a job failed) after reporting why.
var ErrStopped = errors.New("backup stopped")

// stopped is the result of a backup that stopped after reporting why.
func stopped() error { return &msg.Error{Err: ErrStopped} }

// finish closes the outputs and saves or removes the state.
func (e *engine) finish(failedAny bool) error {
	c := e.cfg
	if c.Estimate {
		if failedAny || e.isStopped() {
			return stopped()
		}
		return nil
	}
	if e.life.aborted.Load() {
		// No state: an in-run checkpoint describes files that are deleted
		// (directory mode) or continue past it with lost bytes (-o).
		e.removeCheckpoint()
		f := msg.New(e.abortOutputs()...)
		f.Lines = append(f.Lines, msg.Err("Backup was aborted, meaning the state is unrecoverable"),
			msg.Err("Backup aborted, backup state is likely unrecoverable"))
		return f
	}
	if !e.isStopped() && !failedAny {
		err := e.closeOutputs(false)
		if errors.Is(err, errUnfinished) {
			return e.saveFinal()
		}
		if err != nil {
			// Legacy keeps no state either.
			e.removeCheckpoint()
			return msg.Wrap(err)
		}
		e.removeCheckpoint()
		return nil
	}
	// Stopped: save the state if the one-shot work is done and something
	// is left to do.
	st := e.snapshot()
	if !e.gates.oneShotDone.Load() {
		e.closeAll() // the run failed already
		e.removeCheckpoint()
		return stopped()
	}
	if st.IsComplete() {
		err := e.closeOutputs(true)
		if errors.Is(err, errUnfinished) {
			return e.saveFinal()
		}
		if err != nil {
			return msg.Wrap(err)
		}
		e.removeCheckpoint()
		return nil
	}
	return e.saveFinal()
}

// saveFinal saves the state of a stopped run and reports how to continue
// it.
func (e *engine) saveFinal() error {
	if err := e.saveState(); err != nil {
		return &msg.Error{Lines: []msg.Line{msg.Err("Failed to save backup state, aborting backup"),
			msg.Err("Backup aborted, backup state is likely unrecoverable")}, Err: err}
	}
	e.rep.ResumeHint(e.cp.path)
	return stopped()
}

// fetchIndexes reads the namespace's secondary index list once, before the
// outputs are opened.
func (e *engine) fetchIndexes() error {
	n := e.anyNode()
	if n == nil {
		return nil
	}
	cmd := infocmd.SIndexListCmd(e.cfg.Namespace, e.version.AtLeast(6, 1))
	resp, err := e.info(n, cmd)
	if err != nil {
		return msg.Errorf("Error while retrieving secondary index info - code -1: %w at backup:0", err)
	}
	list, perr := infocmd.ParseSIndexList(resp)
	if perr != nil {
		return msg.Wrap(perr, msg.Err("Error while parsing secondary index info string %s", resp))
	}
	for _, ix := range list {
		if !ix.SetIndex {
			e.indexes = append(e.indexes, ix)
		}
	}
	for _, ix := range e.indexes {
		if ix.Expression != "" && e.selected(ix.Set) {
			e.firstVer = asb.Version32
		}
	}
	return nil
}

func (e *engine) selected(set string) bool {
	if len(e.cfg.Sets) == 0 {
		return true
	}
	for _, s := range e.cfg.Sets {
		if s == set && set != "" {
			return true
		}
	}
	return false
}

// openOutputs prepares -o / -d / -e outputs (fresh or resumed).
func (e *engine) openOutputs() error {
	c := e.cfg
	switch {
	case c.Estimate:
		e.out.estW = &countWriter{}
		return nil
	case c.OutputFile.Set:
		if e.cp.loaded != nil {
			f, err := e.reopen(&e.cp.loaded.Files[0])
			if err != nil {
				return err
			}
			e.out.single = f
			return nil
		}
		if err := e.out.store.PrepareOutputFile(c.OutputFile.Value, c.RemoveFiles); err != nil {
			return msg.Wrap(err)
		}
		est, err := e.preRunEstimate()
		if err != nil {
			if errors.Is(err, errStopped) {
				err = nil // nothing was reported
			}
			return msg.Wrap(err, msg.Err("Error while running backup estimate"))
		}
		e.rep.EstimatedFileSize(est)
		f, err := storage.CreateIn(e.out.store, c.OutputFile.Value, est, c.Namespace, e.firstVer, e.streamO)
		if err != nil {
			return msg.Wrap(err, msg.Err("Error while opening shared backup file \"%s\"", c.OutputFile.Value))
		}
		if w := storage.FileSpaceWarning(f.Path, est); w != "" {
			e.rep.DiskSpaceWarning(w)
		}
		e.out.single = f
		return nil
	}
	dir := c.Directory.Value
	if err := e.out.store.PrepareDirectory(dir, e.rep.StorageMessage); err != nil {
		return msg.Wrap(err)
	}
	next := uint64(0)
	if e.cp.loaded != nil {
		next = e.cp.loaded.FileCount
		if err := e.checkResumeDir(); err != nil {
			return err
		}
	} else if err := e.out.store.ClearDirectory(dir, c.RemoveFiles); err != nil {
		return msg.Wrap(err)
	}
	e.out.dir = storage.NewDir(dir, e.prefix(), c.Namespace, e.streamO, uint64(c.FileLimit), next)
	e.out.dir.Store = e.out.store
	e.out.dir.Expected = e.dirRemaining
	e.out.dir.Warn = e.rep.DiskSpaceWarning
	if e.cp.loaded != nil {
		for i := range e.cp.loaded.Files {
			f, err := e.reopen(&e.cp.loaded.Files[i])
			if err != nil {
				return err
			}
			e.out.dir.Enqueue(f)
		}
	}
	return nil
}

// abortOutputs deletes partial directory-mode files of an aborted run and
// flushes a single file (legacy keeps it, and counts what the flush hands
// to it, e.g. the header of a file that got no records, in the summary). It
// returns the lines of a failed flush.
func (e *engine) abortOutputs() []msg.Line {
	if e.out.single != nil {
		var lines []msg.Line
		if err := e.out.single.Close(); err != nil {
			lines = append(lines, msg.Err("Error while flushing shared backup file \"%s\"", e.out.single.Path))
			if errors.Is(err, storage.ErrUploadIncomplete) {
				e.out.single.Abort() // no state will describe it
			}
		}
		e.accountSingle()
		return lines
	}
	if e.out.dir != nil {
		for _, f := range e.out.dir.Drain() {
			f.Abort()
		}
	}
	return nil
}

// errUnfinished: closing the outputs left S3 files resumable
// (storage.ErrUploadIncomplete); they are queued (directory mode) or kept
// (-o) for the state.
var errUnfinished = errors.New("backup files left unfinished")

// closeOutputs closes the files at the end of a run. A file that stays
// resumable (storage.ErrUploadIncomplete: a part that could not be
// uploaded, a failed completion) makes the run save a state, as legacy
// does: it logs the failed close and stops, saves the file and those not
// closed yet, then, the state being complete, closes them once more, the
// last first, up to the first that fails; the result is then
// errUnfinished. With stopped the files went to the state first (the run
// stopped with every partition done): only that second pass runs.
func (e *engine) closeOutputs(stopped bool) error {
	var first error
	if f := e.out.single; f != nil {
		if stopped {
			err := f.Close()
			e.accountSingle()
			if errors.Is(err, storage.ErrUploadIncomplete) {
				e.rep.Failed(msg.New(msg.Err("Failed to flush/close backup file %s, saving the backup state", f.Path)))
				return errUnfinished
			}
			if err != nil {
				first = fmt.Errorf("Error while closing shared backup file \"%s\"", f.Path)
			}
			return first
		}
		// As legacy: the flush (which fails after a write failure that
		// went unnoticed, see writeFailure), then the close.
		if err := f.Flush(); err != nil {
			first = fmt.Errorf("Error while flushing shared backup file \"%s\"", f.Path)
		}
		err := f.Close()
		e.accountSingle()
		if first == nil && errors.Is(err, storage.ErrUploadIncomplete) {
			e.rep.Failed(msg.New(append(unfinishedLines(err), msg.Err("Error while closing shared backup file \"%s\"", f.Path))...))
			e.stop()
			return e.closeOutputs(true)
		}
		if err != nil && first == nil {
			first = fmt.Errorf("Error while closing shared backup file \"%s\"", f.Path)
		}
	}
	if e.out.dir != nil {
		files := e.out.dir.Drain()
		if stopped {
			return e.closeAgain(files, 0)
		}
		// The last parts of S3 files are uploaded at once; each close
		// then only waits for its own and completes the upload, in order.
		for _, f := range files {
			f.UploadLast()
		}
		for i, f := range files {
			before := f.Size()
			err := e.out.dir.CloseFile(f)
			e.count.bytes.Add(f.Size() - before)
			if errors.Is(err, storage.ErrUploadIncomplete) {
				e.rep.Failed(msg.New(unfinishedLines(err)...))
				e.stop()
				return e.closeAgain(files[i:], 1)
			}
			if err != nil && first == nil {
				first = fmt.Errorf("Failed to flush io proxy %s", f.Path)
			}
		}
	}
	return first
}

// closeAll closes the files of a run that ends without a state (it failed
// before its one-shot work was done); a file that cannot be finished is
// discarded (its upload aborted).
func (e *engine) closeAll() {
	if f := e.out.single; f != nil {
		if err := f.Close(); errors.Is(err, storage.ErrUploadIncomplete) {
			f.Abort()
		}
		e.accountSingle()
	}
	if e.out.dir != nil {
		for _, f := range e.out.dir.Drain() {
			before := f.Size()
			if err := e.out.dir.CloseFile(f); errors.Is(err, storage.ErrUploadIncomplete) {
				f.Abort()
			}
			e.count.bytes.Add(f.Size() - before)
		}
	}
}

// closeAgain is legacy's last attempt to close the files of a complete
// state, the last first, up to the first that stays unfinished; those
// left are queued for the state. The first tried of them were already
// counted as committed.
func (e *engine) closeAgain(files []*storage.File, tried int) error {
	for k := len(files) - 1; k >= 0; k-- {
		f := files[k]
		before := f.Size()
		var err error
		if k < tried {
			err = f.Close()
		} else {
			err = e.out.dir.CloseFile(f)
		}
		e.count.bytes.Add(f.Size() - before)
		if errors.Is(err, storage.ErrUploadIncomplete) {
			e.rep.Failed(msg.New(msg.Err("Failed to flush/close backup file %s, saving the backup state", f.Path)))
			for _, q := range files[:k+1] {
				e.out.dir.Enqueue(q)
			}
			return errUnfinished
		}
		if err != nil {
			return fmt.Errorf("Failed to flush io proxy %s", f.Path)
		}
	}
	return nil
}

// runJob runs one job; an error (with the legacy lines) means the backup
// must stop.
func (e *engine) runJob(j *job) error {
	c := e.cfg
	j.started.Store(true)
	var file *storage.File
	if e.out.dir != nil {
		v := asb.Version31
		if j.index == 0 && !e.cp.resumed {
			v = e.firstVer
		}
		f, _, err := e.acquireDirFile(v)
		if err != nil {
			return msg.Wrap(err, msg.Err("Error while opening first backup file"))
		}
		file = f
		if j.acquired != nil {
			j.acquired()
		}
	}
	js := &jobSink{e: e, j: j, file: file}
	var fail *msg.Error
	if j.index == 0 && !e.cp.resumed {
		if err := e.oneShotWork(js); err != nil {
			fail = msg.Wrap(err)
		}
		e.gates.waitFirstWave(e.life.ctx.Done())
		e.gates.openOneShot()
	} else {
		e.gates.waitOneShot(e.life.ctx.Done())
	}
	if fail == nil && !e.isStopped() {
		e.rep.JobStarted(j.desc)
		var err error
		if !c.NoRecords {
			err = e.scanJob(j, js)
		} else {
			for _, p := range j.parts {
				p.done = true
			}
		}
		size := js.bytes
		if e.out.single != nil || e.out.estW != nil {
			if c.Estimate {
				e.estFlush()
			}
			size = e.count.bytes.Load()
		}
		switch {
		case err == nil:
			e.rep.JobFinished(j.desc, j.records, size)
		case errors.Is(err, errStopped):
			e.rep.JobInterrupted(j.desc, j.records, size)
			fail = &msg.Error{Err: errStopped}
			if errors.Is(err, errNoFile) {
				// A rotation stopped the job without a file (legacy sets
				// its file to NULL): legacy stops, then fails to close it.
				e.stop()
				fail.Lines = []msg.Line{msg.Err("Attempting to close a NULL file descriptor"), msg.Err("Error while closing backup file")}
			}
		case errors.Is(err, errWrite), errors.Is(err, errFile):
			// Legacy aborts at once (the other jobs stop), then reports the
			// job as interrupted and closes its file. (After a failed
			// rotation legacy stops and saves a state instead, which
			// would resume into a file missing its last bytes.)
			// A failed record write was reported (abortWrite).
			if errors.Is(err, errFile) {
				e.life.aborted.Store(true)
				e.rep.Failed(err)
				e.stop()
			}
			e.rep.JobInterrupted(j.desc, j.records, size)
			fail = &msg.Error{Err: err}
		default:
			se := scanFailure(err)
			if se.Code == 22 {
				fail = &msg.Error{Lines: []msg.Line{msg.Err("Failed to start scan job for %s, potentially not enough available scan/query threads on the server - code %d: %s at %s", j.desc, se.Code, se.Msg, se.At)}, Err: err}
			} else {
				fail = &msg.Error{Lines: []msg.Line{msg.Err("Error while running scan for %s - code %d: %s at %s", j.desc, se.Code, se.Msg, se.At)}, Err: err}
			}
		}
	}
	if file = js.file; file != nil {
		e.cp.mu.RLock()
		err := e.releaseDirFile(file, js)
		e.cp.mu.RUnlock()
		if errors.Is(err, storage.ErrUploadIncomplete) {
			// Legacy close_dir_file: the failed close stops the backup,
			// the file is queued for the state.
			e.rep.Failed(msg.New(unfinishedLines(err)...))
			e.stop()
			if fail == nil {
				fail = &msg.Error{Err: errStopped}
			}
			fail.Lines = append(fail.Lines, msg.Err("Error while closing backup file"))
		} else if err != nil {
			if isWriteFailure(err) {
				// The file is incomplete: the backup cannot be saved
				// for --continue.
				e.life.aborted.Store(true)
			}
			if fail == nil {
				fail = &msg.Error{Err: err}
			}
			fail.Lines = append(fail.Lines, msg.Verbose("%v", err), msg.Err("Error while flushing backup file %s", file.Path),
				msg.Err("Error while closing backup file"))
		}
	}
	if fail != nil {
		return fail
	}
	return nil
}

func (e *engine) acquireDirFile(v asb.Version) (*storage.File, bool, error) {
	e.cp.mu.RLock()
	defer e.cp.mu.RUnlock()
	f, fresh, err := e.out.dir.Acquire(v)
	if err != nil {
		return nil, false, err
	}
	e.out.track(f)
	if fresh {
		e.count.bytes.Add(f.Size())
	}
	return f, fresh, nil
}

// releaseDirFile releases the job's file (caller holds ckpt shared).
func (e *engine) releaseDirFile(f *storage.File, js *jobSink) error {
	before := f.Size()
	err := e.out.dir.Release(f)
	e.addBytes(js, f.Size()-before)
	e.out.untrack(f)
	return err
}

func (e *engine) addBytes(js *jobSink, n uint64) {
	if n == 0 {
		return
	}
	js.bytes += n
	e.count.bytes.Add(n)
}

// oneShotWork writes "# first-file", the index definitions and the UDFs.
func (e *engine) oneShotWork(js *jobSink) error {
	c := e.cfg
	err := js.write(func(w *asb.Writer) error { return w.WriteMeta(asb.FirstFileMeta()) })
	if err != nil {
		return &msg.Error{Lines: []msg.Line{msg.Err("Error while writing meta data to backup file")}, Err: err}
	}
	if c.NoIndexes {
		e.rep.IndexBackupSkipped()
	} else {
		e.rep.IndexesFound(len(e.indexes))
		if len(e.indexes) > 0 {
			skipped := 0
			for i := range e.indexes {
				ix := &e.indexes[i]
				if !e.selected(ix.Set) {
					skipped++
					continue
				}
				if err := js.write(func(w *asb.Writer) error { return w.WriteIndex(&ix.Index) }); err != nil {
					return msg.Wrap(err, msg.Err("Error while storing secondary index in backup file"))
				}
			}
			e.count.indexes = uint32(len(e.indexes))
			if skipped > 0 {
				e.rep.IndexesSkipped(skipped)
			}
		}
	}
	if c.NoUDFs {
		e.rep.UDFBackupSkipped()
	} else if err := e.backupUDFs(js); err != nil {
		return msg.Wrap(err, msg.Err("Error while processing UDFs"))
	}
	if c.Estimate {
		e.count.header = uint64(e.estFile().ASB().Offset())
	}
	return nil
}

func (e *engine) backupUDFs(js *jobSink) error {
	n := e.anyNode()
	resp, err := e.info(n, infocmd.UDFList)
	if err != nil {
		return msg.Errorf("Error while listing UDFs - code -1: %w at backup:0", err)
	}
	list, perr := infocmd.ParseUDFList(resp)
	if perr != nil {
		return msg.Errorf("Error while listing UDFs - code -1: %w at backup:0", perr)
	}
	e.rep.UDFsFound(len(list))
	for _, u := range list {
		r, err := e.info(n, infocmd.UDFGetCmd(u.Name))
		var content []byte
		if err == nil {
			content, err = infocmd.ParseUDFGet(r)
		}
		if err != nil {
			return msg.Errorf("Error while fetching UDF file %s - code -1: %w at backup:0", u.Name, err)
		}
		udf := asb.UDF{Type: 'L', Name: u.Name, Content: content}
		if err := js.write(func(w *asb.Writer) error { return w.WriteUDF(&udf) }); err != nil {
			return &msg.Error{Lines: []msg.Line{msg.Err("Error while storing UDF file in backup file")}, Err: err}
		}
	}
	e.count.udfs = uint32(len(list))
	return nil
}

// errWrite is the failure of a record write, errFile that of a file
// operation between records (rotation); both abort the backup. errNoFile
// (with errStopped) stops a job whose rotation failed in a way legacy
// resumes: the old file could not be finished but stays resumable (an S3
// upload), or the new file could not be created; the state is saved.
var (
	errWrite  = errors.New("write to backup file failed")
	errFile   = errors.New("backup file operation failed")
	errNoFile = errors.New("rotation left the job without a file")
)

// jobSink writes a job's records to its file (directory mode) or the
// shared file.
type jobSink struct {
	e     *engine
	j     *job
	file  *storage.File
	bytes uint64
	cur   *partState
	// fail follows file once a write to it failed.
	fail *writeFailure
}

// write runs fn on the job's ASB writer and accounts the bytes handed on.
func (s *jobSink) write(fn func(w *asb.Writer) error) error {
	e := s.e
	if e.out.estW != nil || e.out.single != nil {
		e.out.writeMu.Lock()
		defer e.out.writeMu.Unlock()
		f := e.out.single
		if e.out.estW != nil {
			f = e.estFile()
		}
		before := f.Size()
		if err := fn(f.ASB()); err != nil {
			return err
		}
		if err := f.Commit(); err != nil {
			return err
		}
		e.addBytes(s, f.Size()-before)
		return nil
	}
	before := s.file.Size()
	if err := fn(s.file.ASB()); err != nil {
		return err
	}
	if err := s.file.Commit(); err != nil {
		return err
	}
	e.addBytes(s, s.file.Size()-before)
	return nil
}

func (s *jobSink) record(r *asb.Record, p *partState) error {
	e := s.e
	s.cur = p
	// The file's size is read under ckpt: a checkpoint flushes the file.
	e.cp.mu.RLock()
	if e.out.dir != nil && s.fail == nil && s.file.Size() >= e.out.dir.Limit {
		e.cp.mu.RUnlock()
		if err := s.rotate(); err != nil {
			return err
		}
		e.cp.mu.RLock()
	}
	var werr error
	// failed: the record went to a file whose writes failed; it is
	// counted (as legacy does) but not stored, and failLines are what
	// legacy logs while writing it.
	var failLines []msg.Line
	failed := false
	if e.out.estW != nil {
		werr = e.estRecord(s, r)
	} else if e.out.single != nil {
		failLines, failed, werr = s.singleRecord(r)
	} else {
		failLines, failed, werr = s.dirRecord(r)
	}
	if werr == nil || failed {
		s.j.records++
		e.count.records.Add(1)
	}
	if werr == nil && !failed {
		p := s.cur
		p.digest, p.hasDig = r.Digest, true
		p.records++
		e.gates.stored()
	}
	e.cp.mu.RUnlock()
	switch {
	case failed && werr != nil:
		return werr // reported by dirRecord or singleRecord
	case failed && len(failLines) > 0:
		e.rep.Failed(msg.New(failLines...))
	case werr != nil && errors.Is(werr, errStopped):
		return werr
	case werr != nil:
		e.abortWrite(msg.Lines(werr))
		return fmt.Errorf("%w: %w", errWrite, werr)
	}
	if e.throttle != nil {
		e.throttle.wait(e.count.bytes.Load(), e.life.ctx.Done())
	}
	return nil
}

// dirRecord writes a record to the job's file (directory mode). failed
// reports that the file's writes failed (now or before): lines are then the
// legacy lines of the failure, and err is set once legacy would notice it.
func (s *jobSink) dirRecord(r *asb.Record) (lines []msg.Line, failed bool, err error) {
	if s.fail != nil {
		lines = s.fail.record(r)
		return s.noticed(s.fail, lines)
	}
	f := s.file
	before, w0 := f.Size(), f.ASB().Offset()
	err = f.ASB().WriteRecord(r)
	if err == nil {
		err = f.Commit()
	}
	s.e.addBytes(s, f.Size()-before)
	f.Records++
	if err != nil && isWriteFailure(err) {
		s.fail, lines = newWriteFailure(err, f.Stream().BufferSize(), r, failedAt(f, w0))
		return s.noticed(s.fail, lines)
	}
	return nil, false, err
}

// noticed returns the result of a record written to the failed file of wf
// (lines are what legacy logs while writing it); once legacy would notice
// the failure, it is reported and the backup aborted before any other job
// can see it.
func (s *jobSink) noticed(wf *writeFailure, lines []msg.Line) ([]msg.Line, bool, error) {
	if err := wf.noticedErr(); err != nil {
		s.e.abortWrite(lines)
		return nil, true, err
	}
	return lines, true, nil
}

// abortWrite reports a failed record write at once, as legacy does (the
// write's lines, then the abort of the scan), and aborts the backup: the
// other jobs stop, no state is kept.
func (e *engine) abortWrite(lines []msg.Line) {
	e.life.aborted.Store(true)
	e.rep.Failed(msg.New(append(lines, msg.Err("Error while storing record in backup file, aborting scan. The backup state is currently unrecoverable in this state, so backup resumption is not possible."))...))
	e.stop()
}

// singleRecord writes a record to the single output file (-o), like
// dirRecord. Once a failure was noticed the file takes no more records: the
// job stops (errStopped).
func (s *jobSink) singleRecord(r *asb.Record) (lines []msg.Line, failed bool, err error) {
	e := s.e
	e.out.writeMu.Lock()
	defer e.out.writeMu.Unlock()
	if sf := e.out.singleFail; sf != nil {
		if sf.noticed {
			return nil, false, errStopped
		}
		return s.noticed(sf, sf.record(r))
	}
	f := e.out.single
	before, w0 := f.Size(), f.ASB().Offset()
	err = f.ASB().WriteRecord(r)
	if err == nil {
		err = f.Commit()
	}
	e.addBytes(s, f.Size()-before)
	if err != nil && isWriteFailure(err) {
		e.out.singleFail, lines = newWriteFailure(err, f.Stream().BufferSize(), r, failedAt(f, w0))
		return s.noticed(e.out.singleFail, lines)
	}
	return nil, false, err
}

// failedAt returns the offset, in the text of the record whose write to f
// failed, of the byte that filled the buffer whose flush failed; w0 is the
// writer's offset before the record.
func failedAt(f *storage.File, w0 int64) int {
	w := f.ASB()
	return int(w.Offset()-int64(w.Buffered())-w0) - 1
}

func (s *jobSink) rotate() error {
	e := s.e
	e.cp.mu.RLock()
	defer e.cp.mu.RUnlock()
	before := s.file.Size()
	err := e.out.dir.CloseFile(s.file)
	e.addBytes(s, s.file.Size()-before)
	e.out.untrack(s.file)
	old := s.file
	s.file = nil // closed (or failed): not released again
	if err != nil && errors.Is(err, storage.ErrUploadIncomplete) {
		// Legacy close_dir_file: the failed close stops the backup and
		// queues the file, which the state saves with its failed parts.
		e.out.dir.Enqueue(old)
		e.rep.Failed(msg.New(unfinishedLines(err)...))
		e.stop()
		e.rep.Failed(msg.New(msg.Err("Error while closing old backup file")))
		return fmt.Errorf("%w: %w: %w", errStopped, errNoFile, err)
	}
	if err != nil {
		// Queued, the incomplete file is deleted when the backup aborts
		// (legacy queues it too).
		e.out.dir.Enqueue(old)
		return &msg.Error{Lines: []msg.Line{msg.Err("Error while flushing backup file %s", old.Path),
			msg.Err("Error while closing old backup file")}, Err: fmt.Errorf("%w: %w", errFile, err)}
	}
	f, fresh, err := e.out.dir.Acquire(asb.Version31)
	if err != nil {
		// Legacy open_dir_file fails and the job stops; the backup is
		// stopped (not aborted) and saves its state.
		lines := msg.Lines(err)
		if ce := (*storage.CreateError)(nil); errors.As(err, &ce) {
			lines = append(lines, msg.Err("Failed to open directory file %s", ce.Path))
		}
		e.rep.Failed(msg.New(append(lines, msg.Err("Error while opening new backup file"))...))
		return fmt.Errorf("%w: %w: %w", errStopped, errNoFile, err)
	}
	if fresh {
		e.addBytes(s, f.Size())
	}
	e.out.track(f)
	s.file = f
	return nil
}

// accountSingle adds the bytes a final flush of the single file handed on.
func (e *engine) accountSingle() {
	if e.out.single == nil {
		return
	}
	if sz := e.out.single.Size(); sz > e.count.bytes.Load() {
		e.count.bytes.Store(sz)
	}
}

// removeCheckpoint deletes the in-run checkpoint of a run that needs no
// state. A loaded state that was never overwritten is left alone (legacy).
func (e *engine) removeCheckpoint() {
	if e.cp.path != "" && e.cp.written {
		_ = e.out.store.Remove(e.cp.path)
	}
}

// Page trimming during the run: the first trim comes once the scans are
// under way, then one every trimInterval.
const (
	firstTrim    = 50 * time.Millisecond
	trimInterval = time.Second
)

// checkpointLoop saves the state FirstCheckpointDelay (at most iv) after
// the first record is stored, then every iv, until finished.
func (e *engine) checkpointLoop(iv time.Duration, finished <-chan struct{}) {
	select {
	case <-finished:
		return
	case <-e.life.ctx.Done():
		return
	case <-e.gates.firstStored:
	}
	t := time.NewTimer(min(FirstCheckpointDelay, iv))
	defer t.Stop()
	for {
		select {
		case <-finished:
			return
		case <-e.life.ctx.Done():
			return
		case <-t.C:
			if e.gates.oneShotDone.Load() {
				_ = e.checkpoint(finished)
			}
			t.Reset(iv)
		}
	}
}
