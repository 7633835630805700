package compat

import (
	"errors"
	"strconv"
	"strings"

	"asbtools/msg"
)

const runWithHelp = "Run with --help for usage information and flag options\n"

// secretPrefix marks values fetched from the Secret Agent.
const secretPrefix = "secrets:"

// parser holds the state shared by the passes of one parse.
type parser struct {
	env  Env
	tool *toolDef
	args []string
	out  outbuf
	t    target // the configuration being filled

	load           ConfigLoadOptions // what pass 2 collected
	sa             SecretAgentConfig
	saExplicitPort bool // a port was given for the Secret Agent group being read
}

func newParser(tool *toolDef, args []string, env Env) *parser {
	env.fill()
	if len(args) == 0 {
		args = []string{tool.name}
	}
	return &parser{env: env, tool: tool, args: args, sa: defaultSecretAgent(), load: ConfigLoadOptions{Tool: tool.name}}
}

// helpPass is legacy pass 1: the first -V or -Z/--help/--usage/--options wins.
func (p *parser) helpPass() Action {
	g := newGetopt(p.args, p.tool.shorts, p.tool.longs, nil)
	for {
		switch g.next() {
		case optEnd:
			return ActionRun
		case 'V':
			return ActionVersion
		case 'Z':
			return ActionHelp
		}
	}
}

// parseTool parses one tool's command line: legacy pass 1 (help/version),
// 2 (configuration files), 3 (Secret Agent options) and 4 (every option),
// then the tool's validation. x is the configuration to fill (its defaults
// are set here).
func parseTool(tool *toolDef, args []string, env Env, x target, validate func(p *parser) *msg.Error) (Action, error) {
	p := newParser(tool, args, env)
	if a := p.helpPass(); a != ActionRun {
		return a, nil
	}
	p.t = x
	x.Location = p.env.Location
	tool.setDefaults(x)
	if e := p.configPass(); e != nil {
		return ActionFail, e
	}
	if e := p.saPass(); e != nil {
		return ActionFail, e
	}
	x.SecretAgent = p.sa
	if e := p.mainPass(); e != nil {
		return ActionFail, e
	}
	if e := validate(p); e != nil {
		return ActionFail, e
	}
	x.Messages = p.out.msgs
	return ActionRun, nil
}

// run calls o's command-line application.
func (p *parser) run(o *option, a *mainArg) *msg.Error {
	return o.cli(p, p.t, a)
}

// configPass is legacy pass 2: collect the configuration-file options and
// load and apply the files.
func (p *parser) configPass() *msg.Error {
	g := newGetopt(p.args, p.tool.shorts, p.tool.longs, nil)
	for code := g.next(); code != optEnd; code = g.next() {
		if o := p.tool.byCode[code]; o != nil && o.pass == filesPass {
			if e := p.run(o, &mainArg{code: code, arg: g.optarg, hasArg: g.hasArg, g: g}); e != nil {
				return e
			}
		}
	}
	if p.load.NoConfigFile {
		if p.load.OnlyConfigFile {
			if !p.tool.restore {
				return p.out.failLines("--no-config-file and only-config-file are mutually exclusive option. Please enable only one.")
			}
			p.out.raw("--no-config-file and --only-config-file are mutually exclusive option. Please enable only one.\n")
			return p.out.fail(nil)
		}
		return nil
	}
	if p.env.LoadConfig == nil {
		return nil
	}
	settings, err := p.env.LoadConfig(p.load)
	if err != nil {
		var ce *msg.Error
		if errors.As(err, &ce) {
			return p.out.fail(ce)
		}
		text := err.Error()
		if !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		p.out.raw(text)
		return p.out.fail(nil)
	}
	return p.applySettings(settings)
}

// saPass is legacy pass 3: getopt diagnostics are printed, the --sa-*
// options are applied, then the address/port split.
func (p *parser) saPass() *msg.Error {
	g := newGetopt(p.args, p.tool.pass3Shorts, p.tool.longs, p.out.raw)
	p.saExplicitPort = false
	for code := g.next(); code != optEnd; code = g.next() {
		if o := p.tool.byCode[code]; o != nil && o.pass == agentPass {
			if e := p.run(o, &mainArg{code: code, arg: g.optarg, hasArg: g.hasArg, g: g}); e != nil {
				return e
			}
		}
	}
	splitSAAddress(&p.sa, p.saExplicitPort)
	return nil
}

// splitSAAddress applies the legacy "host:port" split of the Secret Agent
// address: "[v6]:port" or "host:port" (first colon) gives host and port; the
// split-off port is used unless a port was given explicitly. Unlike the
// legacy tools, an explicit port keeps the split-off host, a bracketed IPv6
// address without port loses its brackets, an unbracketed address with two
// or more colons is a bare IPv6 address, and Unix socket addresses
// ("unix:<path>" or an absolute path) are kept whole.
func splitSAAddress(sa *SecretAgentConfig, explicitPort bool) {
	a := sa.Address
	if strings.HasPrefix(a, "unix:") || strings.HasPrefix(a, "/") || (!strings.HasPrefix(a, "[") && strings.Count(a, ":") >= 2) {
		return
	}
	host, port, hasPort := "", "", false
	if strings.HasPrefix(a, "[") {
		if end := strings.IndexByte(a, ']'); end >= 0 {
			host = a[1:end]
			if strings.HasPrefix(a[end+1:], ":") {
				port, hasPort = a[end+2:], true
			}
			if !hasPort {
				sa.Address = host
				return
			}
		}
	} else if i := strings.IndexByte(a, ':'); i >= 0 {
		host, port, hasPort = a[:i], a[i+1:], true
	}
	if !hasPort {
		return
	}
	sa.Address = host
	if !explicitPort {
		sa.Port = port
	}
}

// mainArg is one option of the main pass with its (secret-resolved) argument.
type mainArg struct {
	code   int
	arg    string
	hasArg bool
	secret []byte // the fetched value when the argument was a secret reference
	g      *getopt
}

// isSecret reports whether the argument was a secret reference.
func (a *mainArg) isSecret() bool { return a.secret != nil }

// mainPass is legacy pass 4: every option in argv order, secrets resolved
// first, applied through the registry.
func (p *parser) mainPass() *msg.Error {
	g := newGetopt(p.args, p.tool.shorts, p.tool.longs, p.out.raw)
	for {
		code := g.next()
		if code == optEnd {
			break
		}
		o := p.tool.byCode[code]
		a := &mainArg{code: code, arg: g.optarg, hasArg: g.hasArg, g: g}
		literal := o != nil && (o.pass == filesPass || o.pass == agentPass)
		if code != optNonOption && g.hasArg && strings.HasPrefix(g.optarg, secretPrefix) && !literal {
			val, e := p.fetchSecret(p.sa, g.optarg)
			if e != nil {
				return p.out.fail(e)
			}
			a.secret = val
			a.arg = cut(string(val))
		}
		if o != nil && o.pass != mainPass {
			continue // applied by an earlier pass
		}
		if o == nil || o.cli == nil {
			// A non-option, a getopt error, or --tlsEncryptOnly (which
			// the legacy tools register but do not handle).
			p.out.raw(runWithHelp)
			return p.out.fail(nil)
		}
		if e := p.run(o, a); e != nil {
			return e
		}
	}
	if rest := g.trailing(); len(rest) > 0 {
		return p.out.failLines("Unexpected trailing argument " + rest[0])
	}
	return nil
}

// intOption parses a's argument as a C integer (ParseCInt) and stores
// conv(v) in *dst if check accepts it; otherwise it fails with the legacy
// "Invalid <what> value <arg>" line.
func intOption[T any](p *parser, a *mainArg, what string, check func(int64) bool, dst *T, conv func(int64) T) *msg.Error {
	v, ok := ParseCInt(a.arg)
	if !storeInt(v, ok, check, dst, conv) {
		return p.out.failLines("Invalid " + what + " value " + a.arg)
	}
	return nil
}

// optionalValue implements the optional argument of -P/--password and
// --tls-keyfile-password: an attached value, else the next argument if it
// does not start with '-', else PromptSentinel.
func (p *parser) optionalValue(a *mainArg) (string, *msg.Error) {
	if a.hasArg {
		return a.arg, nil
	}
	g := a.g
	if g.optind < len(g.args) && !strings.HasPrefix(g.args[g.optind], "-") {
		v := g.args[g.optind]
		g.optind++
		if strings.HasPrefix(v, secretPrefix) {
			val, e := p.fetchSecret(p.sa, v)
			if e != nil {
				return "", p.out.fail(e)
			}
			v = cut(string(val))
		}
		return v, nil
	}
	return PromptSentinel, nil
}

// codeError is implemented by Secret Agent errors that carry the legacy
// error code.
type codeError interface{ Code() int }

// fetchSecret resolves one secret reference; the error lines never contain
// the secret value.
func (p *parser) fetchSecret(sa SecretAgentConfig, ref string) ([]byte, *msg.Error) {
	if ref == secretPrefix {
		return nil, errLines("secret-agent: ERR: empty secret key", "secret agent request failed err code: 1")
	}
	if p.env.ResolveSecret == nil {
		return nil, errLines("secret-agent: ERR: no secret agent client is available", "secret agent request failed err code: 3")
	}
	val, err := p.env.ResolveSecret(sa, ref)
	if err == nil {
		if val == nil {
			val = []byte{}
		}
		return val, nil
	}
	var ce *msg.Error
	if errors.As(err, &ce) {
		return nil, ce
	}
	var lines []string
	for _, line := range strings.Split(strings.TrimRight(err.Error(), "\n"), "\n") {
		if !strings.HasPrefix(line, "secret-agent: ") {
			line = "secret-agent: " + line
		}
		lines = append(lines, line)
	}
	code := 1
	var cc codeError
	if errors.As(err, &cc) {
		code = cc.Code()
	}
	lines = append(lines, "secret agent request failed err code: "+strconv.Itoa(code))
	return nil, errLines(lines...)
}
