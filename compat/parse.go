package compat

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

const runWithHelp = "Run with --help for usage information and flag options\n"

// secretPrefix marks values fetched from the Secret Agent.
const secretPrefix = "secrets:"

// toolDef describes one legacy tool's parser.
type toolDef struct {
	name   string // "asbackup" / "asrestore"
	shorts string
	longs  []longOption
	// pass3Shorts is the short-option string as glibc sees it in the
	// Secret-Agent pass (asrestore's doubled '-' prefix makes '-' an option
	// character there).
	pass3Shorts string
}

var backupTool = &toolDef{name: "asbackup", shorts: backupShorts, longs: backupOptions, pass3Shorts: backupShorts}
var restoreTool = &toolDef{name: "asrestore", shorts: restoreShorts, longs: restoreOptions, pass3Shorts: "-" + restoreShorts}

// parser holds the state shared by the passes of one parse.
type parser struct {
	env  Env
	tool *toolDef
	args []string
	out  outbuf

	sa       SecretAgentConfig
	cluster  *ClusterConfig
	s3       *S3Config
	key      **EncryptionKey
	instance string
}

func newParser(tool *toolDef, args []string, env Env) *parser {
	env.fill()
	if len(args) == 0 {
		args = []string{tool.name}
	}
	return &parser{env: env, tool: tool, args: args, sa: defaultSecretAgent()}
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

// toolPasses holds what differs between the two tools in passes 2 to 4.
type toolPasses struct {
	setting  func(s ConfigSetting, key string, v settingValue) *Error // one tool-section setting
	option   func(a *mainArg) *Error                                  // one main-pass option
	validate func() *Error                                            // the checks after the main pass
}

// toolParts are the fields of a tool's configuration that the shared
// passes fill.
type toolParts struct {
	cluster  *ClusterConfig
	s3       *S3Config
	key      **EncryptionKey
	sa       *SecretAgentConfig
	messages *[]Message
}

// parseTool parses one tool's command line: legacy pass 1 (help/version),
// 2 (configuration files), 3 (Secret Agent options) and 4 (every option),
// then the tool's validation.
func parseTool[C interface{ parts() toolParts }](tool *toolDef, args []string, env Env, newConfig func(*Env) C, passes func(*parser, C) toolPasses) (C, Action, error) {
	var none C
	p := newParser(tool, args, env)
	if a := p.helpPass(); a != ActionRun {
		return none, a, nil
	}
	c := newConfig(&p.env)
	parts := c.parts()
	p.cluster, p.s3, p.key = parts.cluster, parts.s3, parts.key
	t := passes(p, c)
	if e := p.configPass(t.setting); e != nil {
		return none, ActionFail, e
	}
	if e := p.saPass(); e != nil {
		return none, ActionFail, e
	}
	*parts.sa = p.sa
	if e := p.mainPass(t.option); e != nil {
		return none, ActionFail, e
	}
	if e := t.validate(); e != nil {
		return none, ActionFail, e
	}
	*parts.messages = p.out.msgs
	return c, ActionRun, nil
}

// configPass is legacy pass 2: collect the configuration-file options and
// load and apply the files. apply applies one tool-section setting.
func (p *parser) configPass(apply func(s ConfigSetting, key string, v settingValue) *Error) *Error {
	opts := ConfigLoadOptions{Tool: p.tool.name}
	g := newGetopt(p.args, p.tool.shorts, p.tool.longs, nil)
	for code := g.next(); code != optEnd; code = g.next() {
		switch code {
		case optConfigFile:
			opts.ConfigFile = g.optarg
		case optInstance:
			opts.Instance = g.optarg
		case optNoConfigFile:
			opts.NoConfigFile = true
		case optOnlyConfigFile:
			// The last file option names the file; any --only-config-file
			// makes it the only one (legacy behaviour).
			opts.ConfigFile, opts.OnlyConfigFile = g.optarg, true
		}
	}
	p.instance = opts.Instance
	if opts.NoConfigFile {
		if opts.OnlyConfigFile {
			if p.tool == backupTool {
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
	settings, err := p.env.LoadConfig(opts)
	if err != nil {
		var ce *Error
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
	return p.applySettings(settings, apply)
}

// saPass is legacy pass 3: getopt diagnostics are printed, the --sa-*
// options are applied, then the address/port split.
func (p *parser) saPass() *Error {
	g := newGetopt(p.args, p.tool.pass3Shorts, p.tool.longs, p.out.raw)
	explicitPort := false
	for code := g.next(); code != optEnd; code = g.next() {
		switch code {
		case optSAAddress:
			p.sa.Address = g.optarg
		case optSAPort:
			p.sa.Port, explicitPort = g.optarg, true
		case optSATimeout:
			v, ok := ParseCInt(g.optarg)
			if !ok || v < 0 || v > 2147483647 {
				return p.out.failLines("Invalid secret agent timeout value " + g.optarg)
			}
			p.sa.Timeout = time.Duration(v) * time.Millisecond
		case optSACAFile:
			data, err := p.env.ReadFile(g.optarg)
			if err != nil {
				return p.out.failLines("failed to open "+g.optarg, "Invalid secret agent cafile "+g.optarg)
			}
			p.sa.CAFile, p.sa.CAContent, p.sa.TLS = g.optarg, data, true
		}
	}
	splitSAAddress(&p.sa, explicitPort)
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
// first. apply handles the tool's options; it returns an *Error to stop.
func (p *parser) mainPass(apply func(a *mainArg) *Error) *Error {
	g := newGetopt(p.args, p.tool.shorts, p.tool.longs, p.out.raw)
	for {
		code := g.next()
		if code == optEnd {
			break
		}
		a := &mainArg{code: code, arg: g.optarg, hasArg: g.hasArg, g: g}
		if code != optNonOption && g.hasArg && strings.HasPrefix(g.optarg, secretPrefix) && !literalOption(code) {
			val, e := p.fetchSecret(p.sa, g.optarg)
			if e != nil {
				return p.out.fail(e)
			}
			a.secret = val
			a.arg = cut(string(val))
		}
		switch code {
		case optNonOption, optError:
			p.out.raw(runWithHelp)
			return p.out.fail(nil)
		case optConfigFile, optInstance, optNoConfigFile, optOnlyConfigFile,
			optSAAddress, optSAPort, optSATimeout, optSACAFile:
			continue
		}
		if e := apply(a); e != nil {
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
func intOption[T any](p *parser, a *mainArg, what string, check func(int64) bool, dst *T, conv func(int64) T) *Error {
	v, ok := ParseCInt(a.arg)
	if !storeInt(v, ok, check, dst, conv) {
		return p.out.failLines("Invalid " + what + " value " + a.arg)
	}
	return nil
}

// literalOption reports options whose values are never secret references
// (their raw values are consumed by the earlier passes).
func literalOption(code int) bool {
	switch code {
	case optConfigFile, optInstance, optOnlyConfigFile, optSAAddress, optSAPort, optSATimeout, optSACAFile:
		return true
	}
	return false
}

// optionalValue implements the optional argument of -P/--password and
// --tls-keyfile-password: an attached value, else the next argument if it
// does not start with '-', else PromptSentinel.
func (p *parser) optionalValue(a *mainArg) (string, *Error) {
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
func (p *parser) fetchSecret(sa SecretAgentConfig, ref string) ([]byte, *Error) {
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
	var ce *Error
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
