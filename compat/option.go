package compat

import (
	"strings"
	"time"

	"asbtools/msg"
)

// section is where an option's configuration-file keys are read.
type section int

const (
	noSection      section = iota
	clusterSection         // [cluster] / [cluster_<instance>]
	toolSection            // [asbackup] / [asrestore] (or _<instance>)
	agentSection           // [secret-agent] / [secret-agent_<instance>]
)

// pass is the legacy parsing pass that applies an option.
type pass int

const (
	mainPass  pass = iota // pass 4: every other option, in argv order
	helpPass              // pass 1: -V and -Z (acted on before anything else)
	filesPass             // pass 2: the options that select configuration files
	agentPass             // pass 3: the Secret Agent options
)

// option is one entry of a tool's registry (see registry.go).
type option struct {
	// long holds the long names: the option's name, then aliases that share
	// its getopt code. No names: a configuration-only key, or (without keys
	// either) help text that belongs to no option.
	long  []string
	short byte
	arg   argKind
	// sect and keys are the configuration-file section and keys (the first
	// key is the canonical one); no keys: not configurable.
	sect section
	keys []string
	pass pass
	// help is the option's block of the --help text, verbatim; empty for
	// options the help does not show.
	help string
	binding

	code int // getopt code: the short letter, or a number of its own
}

// binding is how an option's value is validated and stored: cli applies a
// command-line argument (printing the legacy message and failing on a bad
// one), conf a configuration-file value, def sets the default.
type binding struct {
	cli  func(p *parser, x target, a *mainArg) *msg.Error
	conf func(s toolSetting, x target) *settingError
	def  func(x target)
}

// target is the configuration an option is stored into: the parts both
// tools share, and the tool's own configuration (b for asbackup, r for
// asrestore; the other is nil).
type target struct {
	*Common
	b *BackupConfig
	r *RestoreConfig
}

func names(n ...string) []string { return n }

// helpText is a piece of the --help text that belongs to no option.
func helpText(text string) option { return option{help: text} }

func concatRegistry(parts ...[]option) []option {
	var out []option
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// pick returns the asbackup or the asrestore variant of a value.
func pick[T any](t *toolDef, backup, restore T) T {
	if t.restore {
		return restore
	}
	return backup
}

// flag is a switch: the command line can only turn it on, a file sets
// true or false.
func flag(field func(target) *bool) binding {
	return binding{
		cli:  func(_ *parser, x target, _ *mainArg) *msg.Error { *field(x) = true; return nil },
		conf: func(s toolSetting, x target) *settingError { return s.boolean(field(x)) },
	}
}

// text is an optional string that remembers whether it was given.
func text(field func(target) *Opt) binding {
	return binding{
		cli:  func(_ *parser, x target, a *mainArg) *msg.Error { field(x).set(a.arg); return nil },
		conf: func(s toolSetting, x target) *settingError { return s.opt(field(x)) },
	}
}

// plain is a string with a default.
func plain(field func(target) *string, def string) binding {
	return binding{
		cli:  func(_ *parser, x target, a *mainArg) *msg.Error { *field(x) = a.arg; return nil },
		conf: func(s toolSetting, x target) *settingError { return s.str(field(x)) },
		def:  func(x target) { *field(x) = def },
	}
}

// pemFile is a TLS file option: a path, or the PEM content when the value was
// a secret.
func pemFile(fields func(target) (*Opt, *[]byte)) binding {
	return binding{
		cli: func(_ *parser, x target, a *mainArg) *msg.Error {
			path, content := fields(x)
			setPEM(path, content, a.arg, a.isSecret())
			return nil
		},
		conf: func(s toolSetting, x target) *settingError { return s.pem(fields(x)) },
	}
}

// intRule validates a parsed integer (nil: any) and converts it for
// storing.
type intRule[T any] struct {
	check func(int64) bool
	conv  func(int64) T
}

func rule[T any](check func(int64) bool, conv func(int64) T) intRule[T] {
	return intRule[T]{check, conv}
}

// number is an integer option: on the command line a C integer checked by
// cli (failure: "Invalid <what> value <arg>"), in a file a TOML integer
// checked by conf.
func number[T any](field func(target) *T, def T, what string, cli, conf intRule[T]) binding {
	return binding{
		cli: func(p *parser, x target, a *mainArg) *msg.Error {
			return intOption(p, a, what, cli.check, field(x), cli.conv)
		},
		conf: func(s toolSetting, x target) *settingError { return intSetting(s, conf.check, field(x), conf.conv) },
		def:  func(x target) { *field(x) = def },
	}
}

// choice is a string parsed into a mode; message is the command-line
// failure ("%s" stands for the argument).
func choice[T any](field func(target) *T, parse func(string) (T, bool), message string) binding {
	return binding{
		cli: func(p *parser, x target, a *mainArg) *msg.Error {
			m, ok := parse(a.arg)
			if !ok {
				return p.out.failLines(strings.Replace(message, "%s", a.arg, 1))
			}
			*field(x) = m
			return nil
		},
		conf: func(s toolSetting, x target) *settingError {
			str, ok := s.v.asString()
			if !ok {
				return s.bad()
			}
			m, ok := parse(str)
			if !ok {
				return s.bad()
			}
			*field(x) = m
			return nil
		},
	}
}

// dateTime is --modified-after / --modified-before.
func dateTime(field func(target) *time.Time) binding {
	return binding{
		cli: func(p *parser, x target, a *mainArg) *msg.Error {
			p.out.ver("Parsing date and time string " + a.arg)
			t, e := ParseDateTime(a.arg, p.env.Now(), p.env.Location)
			if e != nil {
				return p.out.fail(e)
			}
			*field(x) = t
			return nil
		},
		conf: func(s toolSetting, x target) *settingError {
			str, ok := s.v.asString()
			if !ok {
				return s.bad()
			}
			s.p.out.ver("Parsing date and time string " + str)
			t, e := ParseDateTime(str, s.p.env.Now(), s.p.env.Location)
			if e != nil {
				// The generic "Invalid date and time string" line is only
				// printed for the command-line option.
				e.Lines = e.Lines[:len(e.Lines)-1]
				return s.badWith(e)
			}
			*field(x) = t
			return nil
		},
	}
}

// keySource is --encryption-key-file / --encryption-key-env: the key is
// loaded at once, and a second key source is an error.
func keySource(load func(p *parser, value string, secret []byte) (*EncryptionKey, *msg.Error)) binding {
	return binding{
		cli: func(p *parser, x target, a *mainArg) *msg.Error {
			if x.Key != nil {
				return p.out.failLines(pick(p.tool, "Cannot specify both encryption-key-file and encryption-key-env",
					"Cannot specify both encryption-key-file and encryption-key-env\n"))
			}
			k, e := load(p, a.arg, a.secret)
			if e != nil {
				return p.out.fail(e)
			}
			x.Key = k
			return nil
		},
		conf: func(s toolSetting, x target) *settingError {
			if x.Key != nil {
				return &settingError{pre: rawError("Cannot specify both encryption-key-file and encryption-key-env\n")}
			}
			str, ok := s.v.asString()
			if !ok {
				return s.bad()
			}
			k, e := load(s.p, str, s.v.secret)
			if e != nil {
				return s.badWith(e)
			}
			x.Key = k
			return nil
		},
	}
}

// toolDef is one tool's command-line surface, built from its registry.
type toolDef struct {
	name    string // "asbackup" / "asrestore"
	restore bool
	opts    []option
	shorts  string
	longs   []longOption
	// pass3Shorts is the short-option string as glibc sees it in the
	// Secret-Agent pass (asrestore's doubled '-' prefix makes '-' an option
	// character there).
	pass3Shorts string
	byCode      map[int]*option
	// keys maps a section and a lower-case key to its option.
	keys map[section]map[string]*option
}

// firstLongCode numbers the options without a short letter.
const firstLongCode = 1000

// newTool builds a tool's getopt tables and key index from its registry.
func newTool(name string, restore bool, registry func(*toolDef) []option, order string) *toolDef {
	t := &toolDef{name: name, restore: restore, byCode: map[int]*option{}, keys: map[section]map[string]*option{}}
	t.opts = registry(t)
	var shorts strings.Builder
	byName := map[string]*option{}
	for i := range t.opts {
		o := &t.opts[i]
		if len(o.long) == 0 && o.short == 0 {
			if len(o.keys) > 0 {
				t.indexKeys(o)
			}
			continue
		}
		o.code = firstLongCode + i
		if o.short != 0 {
			o.code = int(o.short)
			shorts.WriteByte(o.short)
			switch o.arg {
			case requiredArgument:
				shorts.WriteString(":")
			case optionalArgument:
				shorts.WriteString("::")
			}
		}
		t.byCode[o.code] = o
		for _, n := range o.long {
			if byName[n] != nil {
				panic("compat: option --" + n + " declared twice")
			}
			byName[n] = o
		}
		t.indexKeys(o)
	}
	// The getopt table: the legacy order first, then any option it does
	// not name.
	placed := map[string]bool{}
	for _, n := range strings.Fields(order) {
		o := byName[n]
		if o == nil {
			panic("compat: getopt order names unknown option --" + n)
		}
		t.longs = append(t.longs, longOption{n, o.arg, o.code})
		placed[n] = true
	}
	for i := range t.opts {
		for _, n := range t.opts[i].long {
			if !placed[n] {
				t.longs = append(t.longs, longOption{n, t.opts[i].arg, t.opts[i].code})
			}
		}
	}
	t.shorts = shorts.String()
	t.pass3Shorts = t.shorts
	if restore {
		t.pass3Shorts = "-" + t.shorts
	}
	return t
}

// byName returns the option with the long name n (nil if none).
func (t *toolDef) byName(n string) *option {
	for i := range t.opts {
		for _, l := range t.opts[i].long {
			if l == n {
				return &t.opts[i]
			}
		}
	}
	return nil
}

func (t *toolDef) indexKeys(o *option) {
	if t.keys[o.sect] == nil {
		t.keys[o.sect] = map[string]*option{}
	}
	for _, k := range o.keys {
		if t.keys[o.sect][k] != nil {
			panic("compat: configuration key " + k + " declared twice")
		}
		t.keys[o.sect][k] = o
	}
}

// setDefaults stores every option's default.
func (t *toolDef) setDefaults(x target) {
	for i := range t.opts {
		if d := t.opts[i].def; d != nil {
			d(x)
		}
	}
}

// usage returns the --help text after the "Usage:" line.
func (t *toolDef) usage() string {
	var b strings.Builder
	for i := range t.opts {
		b.WriteString(t.opts[i].help)
	}
	return b.String()
}

var (
	backupTool  = newTool("asbackup", false, backupRegistry, backupGetoptOrder)
	restoreTool = newTool("asrestore", true, restoreRegistry, restoreGetoptOrder)
)
