// Command asbackup backs up an Aerospike namespace to .asb files with the
// command line, configuration files, messages, exit codes and output of the
// legacy asbackup 4.5.8.
package main

import (
	"errors"
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
	argv0 := "asbackup"
	if len(args) > 0 {
		argv0 = args[0]
	}
	env := toolenv.Env(toolenv.Options{})
	cfg, action, err := compat.ParseBackup(args, env)
	switch action {
	case compat.ActionHelp, compat.ActionVersion:
		compat.Print(compat.HelpMessages("asbackup", action, argv0), log, os.Stdout)
		return 0
	case compat.ActionFail:
		var ce *compat.Error
		if errors.As(err, &ce) {
			if ce.Verbose {
				log.SetVerbose(true)
			}
			compat.Print(ce.Messages, log, os.Stdout)
			if ce.Verbose {
				compat.Print([]compat.Message{compat.ExitMessage(ce.Code)}, log, os.Stdout)
			}
			return ce.Code
		}
		log.Errorf("%s", err.Error())
		return 1
	}
	log.SetVerbose(cfg.Verbose)
	compat.Print(cfg.Messages, log, os.Stdout)

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
	code := backup.Run(opts)
	if cfg.Verbose {
		compat.Print([]compat.Message{compat.ExitMessage(code)}, log, os.Stdout)
	}
	return code
}
