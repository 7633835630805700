// Package conf reads the tools configuration files (astools.conf) exactly as
// the legacy asbackup/asrestore do and returns the settings they contain.
//
// Load reads, in order, /etc/aerospike/astools.conf, ~/.aerospike/astools.conf
// and the --config-file file (or only the --only-config-file file, or nothing
// with --no-config-file). Within a file the sections are processed as
// [secret-agent] (or [secret-agent_<instance>] when it exists), [cluster] (or,
// with an instance, only [cluster_<instance>]), the tool section ([asbackup] /
// [asrestore], or [<tool>_<instance>] when it exists), then [include]. Files
// that cannot be read are skipped silently. Every [cluster] and tool-section
// key is checked with the tool's option registry (compat.ConfigChecker),
// which declares each key's type, range and messages; `secrets:` string
// values in [cluster*] and tool sections are resolved through the Secret Agent
// configured by the [secret-agent] sections read so far.
//
// Applying the result: package compat applies the returned settings in
// order through the same registry, letting later settings overwrite earlier
// ones, then applies the command line on top. The exceptions are:
//   - asbackup "set": every setting APPENDS its set list (parse it with
//     ParseSetList) to the sets collected so far; -s options append after.
//   - encryption-key-file / encryption-key-env: at most one such setting is
//     ever returned; a second key source on the command line is an error.
//   - boolean true values cannot be turned off by the command line.
//   - "secret-agent" settings are returned as written; at the end of each
//     [secret-agent] section the registry splits a port off sa-address
//     unless the section set sa-port (compat.ConfigChecker.SecretAgent
//     while reading, package compat again when applying). They configure
//     the agent for command-line secrets only as a starting point for the
//     --sa-* options.
//   - asrestore "retry-delay" and "sleep-between-retries" have no effect;
//     they are returned so that the consumer prints their deprecation
//     warning in file order (as it does for [cluster] tls-cert-blacklist).
//   - Setting.Secret marks values fetched from the Secret Agent; for
//     tls-cafile, tls-certfile, tls-keyfile and encryption-key-file the value
//     is then the PEM content, not a path.
package conf

import (
	"fmt"
	"os"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"

	"asbtools/logging"
	"asbtools/msg"
)

// Setting is one configuration value taken from a file.
type Setting struct {
	// Section is "secret-agent", "cluster", "asbackup" or "asrestore" (the
	// instance suffix is removed).
	Section string
	// Key is the key name in lower case.
	Key string
	// Value is a string, int64 or bool as written (the registry converts
	// it when the setting is applied, e.g. truncating 32-bit keys).
	Value any
	// File and Line locate the key; Level is the include nesting level of
	// File (0 for the top-level files).
	File  string
	Line  int
	Level int
	// Secret reports that Value was fetched from the Secret Agent.
	Secret bool
}

// LoadOptions selects the files to read.
type LoadOptions struct {
	// Tool is "asbackup" or "asrestore".
	Tool string
	// ConfigFile is the --config-file (or, with OnlyConfigFile, the
	// --only-config-file) path; empty for none.
	ConfigFile string
	// OnlyConfigFile reads only ConfigFile.
	OnlyConfigFile bool
	// NoConfigFile reads nothing.
	NoConfigFile bool
	// Instance is the --instance name; empty for none.
	Instance string
	// EtcFile defaults to /etc/aerospike/astools.conf.
	EtcFile string
	// HomeFile defaults to "$HOME/.aerospike/astools.conf" built like legacy
	// (126 bytes at most; "(null)" when HOME is unset).
	HomeFile string
	// Diag receives diagnostics of problems that do not stop loading (a
	// skipped file of an included directory) as they
	// happen. Nil writes them to os.Stderr (ERR lines as "ERR: <text>").
	Diag func(Line)
}

// Line is one diagnostic. Raw lines are written to stderr byte for byte (Text
// carries its own newline, or none when legacy prints none); Log lines are
// messages the tool logs at ERR level (Text may end in "\n" when the legacy
// message does, giving an extra empty line).
type Line struct {
	Text string
	Log  bool
}

// failure is a fatal configuration error: a *msg.Error whose lines are
// exactly what the legacy tool prints for it, in order (log lines as ERR
// lines, raw text as logging.Raw lines); the tool then exits with 1.
func failure(lines []Line) *msg.Error {
	e := &msg.Error{Code: 1, Lines: make([]msg.Line, 0, len(lines))}
	for _, l := range lines {
		level := logging.Raw
		if l.Log {
			level = logging.Error
		}
		e.Lines = append(e.Lines, msg.Line{Level: level, Text: l.Text})
	}
	return e
}

// DefaultEtcFile is the system-wide configuration file.
const DefaultEtcFile = "/etc/aerospike/astools.conf"

// DefaultHomeFile returns the per-user file path as legacy builds it.
func DefaultHomeFile() string {
	home, ok := os.LookupEnv("HOME")
	if !ok {
		home = "(null)"
	}
	p := home + "/.aerospike/astools.conf"
	if len(p) > 126 {
		p = p[:126]
	}
	return p
}

// Load reads the configuration files selected by opts and returns their
// settings in application order. A failure is a *msg.Error.
func Load(opts LoadOptions) ([]Setting, error) {
	if opts.Tool != "asbackup" && opts.Tool != "asrestore" {
		return nil, fmt.Errorf("conf: unknown tool %q", opts.Tool)
	}
	if opts.NoConfigFile {
		if opts.OnlyConfigFile {
			if opts.Tool == "asbackup" {
				return nil, failure([]Line{{Text: "--no-config-file and only-config-file are mutually exclusive option. Please enable only one.", Log: true}})
			}
			return nil, failure([]Line{{Text: "--no-config-file and --only-config-file are mutually exclusive option. Please enable only one.\n"}})
		}
		return nil, nil
	}
	l := newLoader(opts)
	var files []string
	if opts.OnlyConfigFile {
		files = []string{opts.ConfigFile}
	} else {
		etc, home := opts.EtcFile, opts.HomeFile
		if etc == "" {
			etc = DefaultEtcFile
		}
		if home == "" {
			home = DefaultHomeFile()
		}
		files = []string{etc, home}
		if opts.ConfigFile != "" {
			files = append(files, opts.ConfigFile)
		}
	}
	for _, f := range files {
		if lines, ok := l.file(f, 0); !ok {
			return nil, failure(lines)
		}
	}
	return l.out, nil
}

func (l *loader) emit(lines []Line) {
	for _, ln := range lines {
		if l.opts.Diag != nil {
			l.opts.Diag(ln)
			continue
		}
		if ln.Log {
			fmt.Fprintf(os.Stderr, "ERR: %s\n", ln.Text)
		} else {
			fmt.Fprint(os.Stderr, ln.Text)
		}
	}
}

// file processes one file at the given include level. It returns the lines
// printed for a failure and false, or nil and true.
func (l *loader) file(path string, level int) ([]Line, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, true // unreadable or missing: skipped silently
	}
	var lines []Line
	errbuf, ok := "", true
	root, perr := parseTOML(data)
	if perr != nil {
		errbuf, ok = perr.Error(), false
	} else {
		lines, errbuf, ok = l.sections(root, path, level)
	}
	if !ok {
		lines = append(lines, Line{Text: fmt.Sprintf("Parse error `%s` in file [%d:%s]\n", errbuf, level, path)})
	}
	return lines, ok
}

// include processes the [include] section (and the level check that legacy
// performs before it, for every file).
func (l *loader) include(root *table, level int) ([]Line, bool) {
	if level > 3 {
		return []Line{{Text: fmt.Sprintf("include max recursion level %d", level)}}, false
	}
	t := root.section("include")
	if t == nil {
		return nil, true
	}
	for _, e := range t.ordered() {
		if e.kind != entScalar {
			return []Line{{Text: fmt.Sprintf("Invalid parameter value for `%s` in `%s` section.\n", e.key, "include")}}, false
		}
		name := strings.ToLower(e.key)
		if name != "file" && name != "directory" {
			return []Line{{Text: fmt.Sprintf("Unknown parameter `%s` in `include` section.\n", e.key)}}, false
		}
		if e.vkind != unstable.String {
			return []Line{{Text: fmt.Sprintf("Invalid parameter value for `%s` in `include` section.\n", e.key)}}, false
		}
		if name == "file" {
			if lines, ok := l.file(e.vstr, level+1); !ok {
				return lines, false
			}
			continue
		}
		if lines, ok := l.dir(e.vstr, level+1); !ok {
			return lines, false
		}
	}
	return nil, true
}

// dir processes every regular file below dirname (sorted by name; legacy
// uses readdir order). Failures of single files are printed and skipped.
func (l *loader) dir(dirname string, level int) ([]Line, bool) {
	ents, err := os.ReadDir(dirname)
	if err != nil {
		return []Line{{Text: fmt.Sprintf("Failed to open directory %s\n", dirname)}}, false
	}
	for _, de := range ents {
		p := dirname + "/" + de.Name()
		fi, err := os.Lstat(p)
		if err != nil {
			continue
		}
		var lines []Line
		ok := true
		switch {
		case fi.IsDir():
			lines, ok = l.dir(p, level)
		case fi.Mode().IsRegular():
			lines, ok = l.file(p, level)
		}
		if !ok {
			l.emit(append(lines, Line{Text: "Skipped .....\n"}))
		}
	}
	return nil, true
}
