package compat

import (
	"os"
	"time"
)

// ConfigLoadOptions mirrors conf.LoadOptions: which configuration files to
// read, as collected from the command line in the legacy pass 2.
type ConfigLoadOptions struct {
	Tool           string // "asbackup" or "asrestore"
	ConfigFile     string // --config-file or --only-config-file path
	OnlyConfigFile bool   // ConfigFile came from --only-config-file
	NoConfigFile   bool
	Instance       string
}

// ConfigSetting mirrors conf.Setting: one key of a configuration file.
// Section is the section as written ("cluster", "asbackup_a",
// "secret-agent", ...); Value is a string, int64, bool or float64 as typed in
// TOML; Level is the include nesting level (0 for top-level files). Secret
// reports that the loader already fetched the value from the Secret Agent:
// Value is then the secret's text (for the PEM options the PEM content, not
// a path) and is not resolved again.
type ConfigSetting struct {
	Section string
	Key     string
	Value   any
	File    string
	Line    int
	Level   int
	Secret  bool
}

// Env holds everything the parsers need from the outside world. Zero fields
// get the defaults documented on each field.
type Env struct {
	// LoadConfig reads the configuration files. The returned settings are
	// applied in order as the lowest-precedence values. An error that is an
	// *msg.Error is reported with its messages; any other error is reported as
	// raw text. Nil: no configuration file is read.
	LoadConfig func(ConfigLoadOptions) ([]ConfigSetting, error)
	// ResolveSecret fetches a `secrets:[resource:]key` reference from the
	// Secret Agent described by sa. A *msg.Error result is reported with its
	// messages; other errors as "secret-agent: <text>" ERR lines. If the
	// error has a method Code() int, it gives the legacy error code. Nil:
	// every secret reference fails.
	ResolveSecret func(sa SecretAgentConfig, ref string) ([]byte, error)
	// ParsePrivateKey converts PEM key text into the key material (DER) from
	// which the cipher key is derived; an error means "not a PEM private
	// key". Nil: the PEM text is kept and not checked at parse time.
	ParsePrivateKey func(pem []byte) ([]byte, error)
	// LookupEnv reads environment variables (default os.LookupEnv).
	LookupEnv func(string) (string, bool)
	// ReadFile reads files (default os.ReadFile).
	ReadFile func(string) ([]byte, error)
	// Now returns the current time (default time.Now).
	Now func() time.Time
	// Location is the local time zone for dates (default time.Local).
	Location *time.Location
}

func (e *Env) fill() {
	if e.LookupEnv == nil {
		e.LookupEnv = os.LookupEnv
	}
	if e.ReadFile == nil {
		e.ReadFile = os.ReadFile
	}
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.Location == nil {
		e.Location = time.Local
	}
}

// Action says what the tool must do after parsing.
type Action int

// Actions.
const (
	// ActionRun: the configuration is valid; run the tool.
	ActionRun Action = iota
	// ActionHelp: print BackupUsage/RestoreUsage to stdout, exit 0.
	ActionHelp
	// ActionVersion: print VersionText to stdout, exit 0.
	ActionVersion
	// ActionFail: print the *msg.Error's messages and exit with its code.
	ActionFail
)
