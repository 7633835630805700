// Command asrestore restores Aerospike backups written by asbackup (this
// project's or the legacy 4.5.8 tool's), with the legacy command line,
// configuration files, messages and exit codes.
package main

import (
	"errors"
	"os"
	"os/signal"
	"syscall"

	"asbtools/compat"
	"asbtools/logging"
	"asbtools/restore"
	"asbtools/toolenv"
)

func main() {
	os.Exit(run(os.Args))
}

func run(args []string) int {
	log := logging.New(os.Stderr)
	argv0 := "asrestore"
	if len(args) > 0 {
		argv0 = args[0]
	}
	env := toolenv.Env(toolenv.Options{})
	cfg, action, err := compat.ParseRestore(args, env)
	switch action {
	case compat.ActionHelp, compat.ActionVersion:
		compat.Print(compat.HelpMessages("asrestore", action, argv0), log, os.Stdout)
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

	interrupt := make(chan struct{})
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		close(interrupt)
	}()
	return restore.Run(cfg, restore.Env{
		Log:       log,
		Stdin:     os.Stdin,
		Prompt:    compat.TerminalPrompt,
		Interrupt: interrupt,
	})
}
