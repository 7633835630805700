package backup

import (
	"context"

	"asbtools/storage"
)

// dirRemaining is the expected size of the rest of a directory-mode backup
// (legacy directory_backup_remaining_estimate): the records still expected
// times the average size of the records in the files closed so far, or the
// file limit before any record was written.
func (e *engine) dirRemaining() uint64 {
	recs := e.count.records.Load()
	if recs == 0 {
		return uint64(e.cfg.FileLimit)
	}
	bytes, committed := e.out.dir.Committed()
	remain := uint64(0)
	if recs < e.count.estimate {
		remain = e.count.estimate - recs
	}
	per := uint64(0)
	if committed > 0 {
		per = bytes / committed
	}
	e.rep.RemainingEstimate(remain, per)
	return remain * per
}

// preRunEstimate is the silent estimate run that precedes a fresh -o backup
// (legacy §8.2): --estimate-samples records of the same selection, one
// thread, no throttling and no --max-records, written through the same
// compression and encryption to a discarding output. It prints only ERR
// lines and returns the expected size of the backup file.
func (e *engine) preRunEstimate() (uint64, error) {
	c := *e.cfg
	c.Estimate = true
	c.OutputFile = Option{}
	c.Bandwidth = 0
	c.RecordsPerSecond = 0
	c.MaxRecords = 0
	c.Parallel = 1
	sub := &engine{cfg: &c, deps: e.deps, rep: errorsOnly{r: e.rep},
		client: e.client, sp: e.sp, version: e.version, streamO: e.streamO,
		indexes: e.indexes, firstVer: e.firstVer,
		gates: gates{oneShot: make(chan struct{})},
		out:   outputs{openFiles: map[*storage.File]struct{}{}, estW: &countWriter{}}}
	sub.count.estimate = e.count.estimate
	sub.life.callerStopped = e.life.callerStopped
	// The estimate stops with the run.
	sub.life.ctx, sub.life.cancel = context.WithCancel(e.life.ctx)
	defer sub.life.cancel()
	sub.sp.rps = 0
	sub.makeJobs(e.plan.filters)
	n := uint64(len(sub.plan.jobs))
	sub.plan.perJob = (uint64(c.EstimateSamples) + n - 1) / n
	for _, j := range sub.plan.jobs {
		if sub.isStopped() {
			break
		}
		if err := sub.runJob(j); err != nil {
			sub.stop()
			return 0, err
		}
	}
	if sub.isStopped() {
		return 0, errStopped
	}
	sub.estFlush()
	total, mean, variance := recordStats(sub.count.samples)
	return sub.estimatedFileSize(total, mean, variance), nil
}
