package conf

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"

	"asbtools/compat"
	"asbtools/logging"
	"asbtools/msg"
	"asbtools/secretagent"
	"asbtools/stream"
)

type loader struct {
	opts  LoadOptions
	out   []Setting
	sa    secretagent.Config
	level int // include level of the file being processed
	// check validates [cluster] and tool-section keys with the tool's
	// option registry.
	check *compat.ConfigChecker
}

func newLoader(opts LoadOptions) *loader {
	return &loader{opts: opts, sa: secretagent.DefaultConfig(),
		check: compat.NewConfigChecker(opts.Tool, opts.Instance, compat.Env{ParsePrivateKey: stream.KeyMaterialFromPEM})}
}

// sectionName returns the table to read for base and the name used in
// messages. fallback selects whether the plain section is used when the
// instance section is absent.
func (l *loader) pick(root *table, base string, fallback bool) (*table, string) {
	if l.opts.Instance == "" {
		return root.section(base), base
	}
	name := base + "_" + l.opts.Instance
	if t := root.section(name); t != nil || !fallback {
		return t, name
	}
	return root.section(base), name
}

// sections processes one parsed file. It returns printed lines, the text of
// the parse-error line and whether processing succeeded.
func (l *loader) sections(root *table, path string, level int) ([]Line, string, bool) {
	l.level = level
	if lines, eb, ok := l.secretAgent(root, path); !ok {
		return lines, eb, false
	}
	t, name := l.pick(root, "cluster", false)
	if lines, eb, ok := l.keyed(t, name, "cluster", path); !ok {
		return lines, eb, false
	}
	t, name = l.pick(root, l.opts.Tool, true)
	if lines, eb, ok := l.keyed(t, name, l.opts.Tool, path); !ok {
		return lines, eb, false
	}
	if lines, ok := l.include(root, level); !ok {
		return lines, "", false
	}
	return nil, "", true
}

// secretAgent processes the [secret-agent*] section: its keys are checked
// and applied by the tool's option registry, which then gives the agent
// configuration (address and port split as the tools do) that resolves
// the secrets of the sections that follow.
func (l *loader) secretAgent(root *table, path string) ([]Line, string, bool) {
	t, name := l.pick(root, "secret-agent", true)
	if t == nil {
		return nil, "", true
	}
	for _, e := range t.ordered() {
		if e.kind != entScalar {
			return nil, fmt.Sprintf("Invalid parameter value for `%s` in `%s` section.\n", e.key, name), false
		}
		s := Setting{Section: "secret-agent", Key: strings.ToLower(e.key), Value: scalar(e), File: path, Line: e.line, Level: l.level}
		if lines, text, ok := l.checkSetting(s, e.key); !ok {
			return lines, text, false
		}
		l.out = append(l.out, s)
	}
	sa := l.check.SecretAgent()
	l.sa = secretagent.Config{Address: sa.Address, Port: sa.Port, Timeout: sa.Timeout}
	if sa.TLS {
		l.sa.CAFile, l.sa.CAPEM = sa.CAFile, sa.CAContent
	}
	return nil, "", true
}

// checkSetting checks one setting with the registry; on failure it returns
// the lines to print and the text of the parse-error line.
func (l *loader) checkSetting(s Setting, written string) ([]Line, string, bool) {
	pre, text, ok := l.check.Check(compat.ConfigSetting{Section: s.Section, Key: written, Value: s.Value,
		File: s.File, Line: s.Line, Level: s.Level, Secret: s.Secret})
	var lines []Line
	for _, m := range pre {
		lines = append(lines, Line{Text: m.Text, Log: m.Level == logging.Error})
	}
	return lines, text, ok
}

// keyed processes a [cluster*] or tool section: every key is checked with
// the tool's option registry (package compat), which knows its type, range
// and messages.
func (l *loader) keyed(t *table, name, base string, path string) ([]Line, string, bool) {
	if t == nil {
		return nil, "", true
	}
	var lines []Line
	for _, e := range t.ordered() {
		if e.kind != entScalar {
			return lines, fmt.Sprintf("Invalid parameter value for `%s` in `%s` section.\n", e.key, name), false
		}
		// Legacy resolves a secret before looking at the key name.
		s := Setting{Section: base, Key: strings.ToLower(e.key), Value: scalar(e), File: path, Line: e.line, Level: l.level}
		if e.vkind == unstable.String && secretagent.IsRef(e.vstr) {
			v, errLines := l.resolve(e.vstr)
			if errLines != nil {
				return append(lines, errLines...), "", false
			}
			s.Value, s.Secret = v, true
		}
		pre, text, ok := l.checkSetting(s, e.key)
		lines = append(lines, pre...)
		if !ok {
			return lines, text, false
		}
		l.out = append(l.out, s)
	}
	return nil, "", true
}

// scalar returns a TOML scalar as a string, an int64 (an integer the legacy
// reader accepts), a bool, or compat.TOMLText for anything else.
func scalar(e *entry) any {
	switch e.vkind {
	case unstable.String:
		return e.vstr
	case unstable.Integer:
		if v, ok := rtoi(e.vraw); ok {
			return v
		}
	case unstable.Bool:
		switch e.vraw {
		case "true":
			return true
		case "false":
			return false
		}
	}
	return compat.TOMLText(e.vraw)
}

// resolve fetches a config-file secret with the agent settings read so far.
func (l *loader) resolve(ref string) (string, []Line) {
	var lines []Line
	c, err := secretagent.NewClient(l.sa)
	var s string
	if err == nil {
		s, err = c.ResolveString(ref)
	}
	if err != nil {
		var se *msg.Error
		if errors.As(err, &se) {
			for _, m := range se.Lines {
				lines = append(lines, Line{Text: m.Text, Log: true})
			}
		} else {
			lines = append(lines, Line{Text: "secret-agent: " + err.Error(), Log: true})
		}
		lines = append(lines, Line{Text: "failed requesting secret: " + ref, Log: true})
		return "", lines
	}
	return s, nil
}
