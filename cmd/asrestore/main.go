// Command asrestore restores Aerospike backups written by asbackup (this
// project's or the legacy 4.5.8 tool's), with the legacy command line,
// configuration files, messages and exit codes.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"asbtools/compat"
	"asbtools/internal/memtrim"
	"asbtools/legacy"
	"asbtools/logging"
	"asbtools/msg"
	"asbtools/restore"
	"asbtools/toolenv"
)

func main() {
	os.Exit(run(os.Args))
}

func run(args []string) int {
	log := logging.New(os.Stderr)
	cfg, code, ok := toolenv.Parse("asrestore", args, log, compat.ParseRestore,
		func(c *compat.RestoreConfig) (bool, []msg.Line) { return c.Verbose, c.Messages })
	if !ok {
		return code
	}

	// SIGINT and SIGTERM interrupt the restore.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	machine := ""
	if cfg.Machine.Set {
		machine = cfg.Machine.Value
	}
	out := legacy.NewRestore(log, cfg.StartMessage(), machine)
	rc, connect := toolenv.RestoreConfig(cfg, compat.TerminalPrompt)
	_, err := restore.Run(ctx, rc, restore.Deps{Connect: connect, Reporter: out, Stdin: os.Stdin,
		Store:        toolenv.Store(cfg.S3, func(m string) { log.Infof("%s", m) }),
		ReleasePages: memtrim.Release})
	return out.Finish(cfg.Verbose, err)
}
