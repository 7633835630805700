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
	"asbtools/conf"
	"asbtools/logging"
	"asbtools/restore"
	"asbtools/secretagent"
	"asbtools/stream"
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
	env := compat.Env{
		LoadConfig:      loadConfig,
		ResolveSecret:   resolveSecret,
		ParsePrivateKey: stream.KeyMaterialFromPEM,
	}
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

// loadConfig adapts package conf to the parser's loader hook.
func loadConfig(o compat.ConfigLoadOptions) ([]compat.ConfigSetting, error) {
	settings, err := conf.Load(conf.LoadOptions{
		Tool:           o.Tool,
		ConfigFile:     o.ConfigFile,
		OnlyConfigFile: o.OnlyConfigFile,
		NoConfigFile:   o.NoConfigFile,
		Instance:       o.Instance,
	})
	if err != nil {
		var ce *conf.Error
		if errors.As(err, &ce) {
			e := &compat.Error{Code: ce.ExitCode()}
			for _, l := range ce.Lines {
				m := compat.Message{Level: logging.Raw, Text: l.Text}
				if l.Log {
					m.Level = logging.Error
				}
				e.Messages = append(e.Messages, m)
			}
			return nil, e
		}
		return nil, err
	}
	out := make([]compat.ConfigSetting, 0, len(settings))
	for _, s := range settings {
		out = append(out, compat.ConfigSetting{Section: s.Section, Key: s.Key, Value: s.Value, File: s.File, Line: s.Line})
	}
	return out, nil
}

// resolveSecret adapts package secretagent to the parser's secret hook.
func resolveSecret(sa compat.SecretAgentConfig, ref string) ([]byte, error) {
	cfg := secretagent.Config{Address: sa.Address, Port: sa.Port, Timeout: sa.Timeout, CAFile: sa.CAFile}
	client, err := secretagent.NewClient(cfg)
	if err == nil {
		var v []byte
		v, err = client.Resolve(ref)
		if err == nil {
			return v, nil
		}
	}
	var se *secretagent.Error
	if errors.As(err, &se) {
		e := &compat.Error{Code: 1}
		for _, l := range se.LogLines() {
			e.Messages = append(e.Messages, compat.Message{Level: logging.Error, Text: l})
		}
		return nil, e
	}
	return nil, err
}
