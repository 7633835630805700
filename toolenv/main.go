package toolenv

import (
	"errors"
	"os"

	"asbtools/compat"
	"asbtools/logging"
	"asbtools/msg"
)

// Parse runs a tool's command-line parser (compat.ParseBackup or
// compat.ParseRestore) with Env(Options{}) and handles every outcome but a
// run, as the legacy tools do: help and version text go to stdout (exit
// code 0), a failure prints its lines to log, followed by the exit line when
// verbose. On a run it sets log's verbosity from the configuration, prints
// the configuration's messages and returns ok true; otherwise the tool
// exits with code. tool ("asbackup" or "asrestore") names the help text;
// args is the full argv.
func Parse[C any](tool string, args []string, log *logging.Logger,
	parse func([]string, compat.Env) (C, compat.Action, error),
	messages func(C) (verbose bool, msgs []msg.Line)) (cfg C, code int, ok bool) {
	argv0 := tool
	if len(args) > 0 {
		argv0 = args[0]
	}
	cfg, action, err := parse(args, Env(Options{}))
	switch action {
	case compat.ActionHelp, compat.ActionVersion:
		msg.Print(compat.HelpMessages(tool, action, argv0), log, os.Stdout)
		return cfg, 0, false
	case compat.ActionFail:
		var ce *msg.Error
		if !errors.As(err, &ce) {
			log.Errorf("%s", err.Error())
			return cfg, 1, false
		}
		if ce.Verbose {
			log.SetVerbose(true)
		}
		msg.Print(ce.Lines, log, os.Stdout)
		return cfg, Exit(log, ce.Verbose, ce.ExitCode()), false
	}
	verbose, msgs := messages(cfg)
	log.SetVerbose(verbose)
	msg.Print(msgs, log, os.Stdout)
	return cfg, 0, true
}

// Exit returns code after printing the legacy exit line when verbose.
func Exit(log *logging.Logger, verbose bool, code int) int {
	if verbose {
		msg.Print([]msg.Line{compat.ExitMessage(code)}, log, os.Stdout)
	}
	return code
}
