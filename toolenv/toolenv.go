// Package toolenv connects the command-line parser of package compat to the
// packages that read configuration files (conf), fetch secrets
// (secretagent) and parse encryption keys (stream). Both tool mains build
// their compat.Env with it, so the command-line tests and the tools share
// one adapter.
package toolenv

import (
	"io"
	"os"
	"strings"

	"asbtools/compat"
	"asbtools/conf"
	"asbtools/logging"
	"asbtools/secretagent"
	"asbtools/stream"
)

// Options tunes the adapter. The zero value gives the tools' behaviour.
type Options struct {
	// EtcFile and HomeFile replace the default configuration files
	// (/etc/aerospike/astools.conf and ~/.aerospike/astools.conf) when set.
	EtcFile, HomeFile string
	// Stderr receives the non-fatal diagnostics printed while the files are
	// read (skipped files of an included directory) as legacy log lines;
	// nil means os.Stderr.
	Stderr io.Writer
	// Diag, when set, receives those diagnostics' text instead.
	Diag func(text string)
}

// Env returns a compat.Env whose LoadConfig, ResolveSecret and
// ParsePrivateKey hooks use conf, secretagent and stream. The other fields
// keep their defaults (the operating system).
func Env(o Options) compat.Env {
	return compat.Env{
		LoadConfig:      o.LoadConfig,
		ResolveSecret:   ResolveSecret,
		ParsePrivateKey: stream.KeyMaterialFromPEM,
	}
}

// LoadConfig reads the configuration files with conf.Load and converts the
// result for compat. A failure is conf's *msg.Error with the legacy lines.
func (o Options) LoadConfig(lo compat.ConfigLoadOptions) ([]compat.ConfigSetting, error) {
	w := o.Stderr
	if w == nil {
		w = os.Stderr
	}
	log := logging.New(w)
	settings, err := conf.Load(conf.LoadOptions{
		Tool:           lo.Tool,
		ConfigFile:     lo.ConfigFile,
		OnlyConfigFile: lo.OnlyConfigFile,
		NoConfigFile:   lo.NoConfigFile,
		Instance:       lo.Instance,
		EtcFile:        o.EtcFile,
		HomeFile:       o.HomeFile,
		Diag: func(l conf.Line) {
			if o.Diag != nil {
				o.Diag(l.Text)
				return
			}
			if l.Log {
				log.Errorf("%s", strings.TrimSuffix(l.Text, "\n"))
			} else {
				log.Raw(l.Text)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	out := make([]compat.ConfigSetting, 0, len(settings))
	for _, s := range settings {
		out = append(out, compat.ConfigSetting{Section: s.Section, Key: s.Key, Value: s.Value,
			File: s.File, Line: s.Line, Level: s.Level, Secret: s.Secret})
	}
	return out, nil
}

// ResolveSecret fetches one `secrets:` reference from the agent described by
// sa (already split into host and port by compat). Failures are
// *msg.Error values carrying the legacy ERR lines, which never contain a
// secret value.
func ResolveSecret(sa compat.SecretAgentConfig, ref string) ([]byte, error) {
	cfg := secretagent.Config{Address: sa.Address, Port: sa.Port, Timeout: sa.Timeout}
	if sa.TLS {
		cfg.CAFile, cfg.CAPEM = sa.CAFile, sa.CAContent
	}
	client, err := secretagent.NewClient(cfg)
	if err == nil {
		var v []byte
		if v, err = client.Resolve(ref); err == nil {
			return v, nil
		}
	}
	return nil, err
}
