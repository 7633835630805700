// Command asbackup backs up an Aerospike namespace to .asb files with the
// command line, configuration files, messages, exit codes and output of the
// legacy asbackup 4.5.8.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"

	"asbtools/backup"
	"asbtools/compat"
	"asbtools/internal/memtrim"
	"asbtools/legacy"
	"asbtools/logging"
	"asbtools/msg"
	"asbtools/storage"
	"asbtools/stream"
	"asbtools/toolenv"
)

// memoryLimit is the soft heap limit: the backup streams records through
// small fixed buffers, so a tight limit keeps the peak RSS low without
// costing much GC time.
const memoryLimit = 14 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	// The client's own per-connection buffer only serves info requests and
	// logins here (scans are read through the job's buffer): start it at
	// the smallest size, it grows when a reply needs more.
	as.DefaultBufferSize = as.MinBufferSize
	os.Exit(run(os.Args))
}

func run(args []string) int {
	log := logging.New(os.Stderr)
	cfg, code, ok := toolenv.Parse("asbackup", args, log, compat.ParseBackup,
		func(c *compat.BackupConfig) (bool, []msg.Line) { return c.Verbose, c.Messages })
	if !ok {
		return code
	}

	var password string
	if cfg.Cluster.User != "" && !cfg.RemoveArtifacts {
		_, pw, perr := cfg.Cluster.Credentials(compat.TerminalPrompt)
		if perr != nil {
			log.Errorf("%s", perr)
			return 1
		}
		password = pw
	}
	bc, connect := toolenv.BackupConfig(cfg, password)
	// ASBACKUP_CHECKPOINT_MS overrides the in-run checkpoint period
	// (milliseconds; negative disables checkpoints).
	if v := os.Getenv("ASBACKUP_CHECKPOINT_MS"); v != "" {
		if ms, err := strconv.Atoi(v); err == nil {
			if ms < 0 {
				bc.CheckpointInterval = -1
			} else {
				bc.CheckpointInterval = time.Duration(ms) * time.Millisecond
			}
		}
	}
	machine := ""
	if cfg.Machine.Set {
		machine = cfg.Machine.Value
	}
	out := legacy.NewBackup(log, cfg.StartMessage(), machine)
	store := toolenv.Store(cfg.S3, func(m string) { log.Infof("%s", m) })
	// When parts carry their CRC-32C (storage.S3Options.PartChecksums).
	store.S3.PartChecksums = os.Getenv("ASBACKUP_S3_CHECKSUM")
	if os.Getenv("GOMEMLIMIT") == "" {
		setMemoryLimit(cfg, store)
	}
	// SIGINT and SIGTERM interrupt the backup (its state is saved) once
	// the engine says it can be interrupted; before, they end the process
	// as with the legacy tool.
	ctx, interruptible := signalContext()
	sum, err := backup.Run(ctx, bc, backup.Deps{Connect: connect, Reporter: out,
		Interruptible: interruptible, ReleasePages: memtrim.Release, Store: store})
	return out.Finish(cfg.Verbose, sum, err)
}

// codecMemory is what compression adds to the memory limit: each file
// being written holds a zstd encoder while its frame is open, one file per
// scan thread in directory mode, the one output file otherwise.
func codecMemory(cfg *compat.BackupConfig) int64 {
	if cfg.Compress != compat.CompressZstd {
		return 0
	}
	files := 1
	if cfg.Directory.Set {
		files = cfg.EffectiveParallel()
	}
	return int64(files) * stream.EncoderMemory(cfg.CompressionLevel)
}

// setMemoryLimit sets the soft memory limit of a backup: the record
// buffers, the zstd encoders and, for S3, the part buffers (one part being
// filled per open file, a job's file and a queued one per thread, plus the
// parts being uploaded). The limit starts with the parts of
// --s3-min-part-size (5 MiB) and follows the part size in use when it
// grows (a large -o backup, parts past the 8,000th).
func setMemoryLimit(cfg *compat.BackupConfig, store *storage.Router) {
	base := memoryLimit + codecMemory(cfg)
	if !storage.IsS3Path(cfg.Directory.Value) && !storage.IsS3Path(cfg.OutputFile.Value) {
		debug.SetMemoryLimit(base)
		return
	}
	files := 1
	if cfg.Directory.Set {
		files = 2 * max(cfg.Parallel, 1)
	}
	o := store.S3
	debug.SetMemoryLimit(base + o.UploadMemoryBound(files, o.PartSize()))
	store.S3.OnPartSize = func(size int64) {
		debug.SetMemoryLimit(base + o.UploadMemoryBound(files, max(size, o.PartSize())))
	}
}

// signalContext returns a context that SIGINT and SIGTERM cancel once
// catch has been called; later signals are ignored.
func signalContext() (ctx context.Context, catch func()) {
	ctx, cancel := context.WithCancel(context.Background())
	return ctx, func() {
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
		go func() {
			<-sigs
			cancel()
		}()
	}
}
