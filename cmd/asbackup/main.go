// Command asbackup backs up an Aerospike namespace to .asb files with the
// command line, configuration files, messages, exit codes and output of the
// legacy asbackup 4.5.8.
package main

import (
	"os"
	"runtime/debug"
	"strconv"
	"time"

	"asbtools/backup"
	"asbtools/compat"
	"asbtools/logging"
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
	os.Exit(run(os.Args))
}

func run(args []string) int {
	log := logging.New(os.Stderr)
	cfg, code, ok := toolenv.Parse("asbackup", args, log, compat.ParseBackup,
		func(c *compat.BackupConfig) (bool, []compat.Message) { return c.Verbose, c.Messages })
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
	opts := backup.Options{Config: cfg, Log: log, Password: password}
	// ASBACKUP_CHECKPOINT_MS overrides the in-run checkpoint period
	// (milliseconds; negative disables checkpoints).
	if v := os.Getenv("ASBACKUP_CHECKPOINT_MS"); v != "" {
		if ms, err := strconv.Atoi(v); err == nil {
			if ms < 0 {
				opts.CheckpointInterval = -1
			} else {
				opts.CheckpointInterval = time.Duration(ms) * time.Millisecond
			}
		}
	}
	return toolenv.Exit(log, cfg.Verbose, backup.Run(opts))
}
