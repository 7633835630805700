package compat

import "strings"

// argKind is the has_arg field of a getopt long option.
type argKind int

const (
	noArgument argKind = iota
	requiredArgument
	optionalArgument
)

// longOption is one entry of a getopt_long option table.
type longOption struct {
	name string
	has  argKind
	val  int
}

// Special return codes of getopt.
const (
	optEnd       = -1  // no more options
	optNonOption = 1   // a non-option argument (RETURN_IN_ORDER mode)
	optError     = '?' // a diagnostic was produced
)

// getopt emulates glibc's getopt_long in RETURN_IN_ORDER mode, including its
// diagnostics, its abbreviation rules and its handling of "--". The legacy
// tools run it several times over the same argv; each run is a new getopt
// value with the same argv.
type getopt struct {
	args     []string // full argv, args[0] is the program name
	shorts   string   // short-option string (leading '-'/'+' already removed)
	longs    []longOption
	diag     func(line string) // receives each diagnostic line (with "\n"); nil = silent
	optind   int
	nextchar string // rest of the current cluster of short options
	optarg   string
	hasArg   bool // optarg is set (C: optarg != NULL)
	optopt   int
}

func newGetopt(args []string, shorts string, longs []longOption, diag func(string)) *getopt {
	return &getopt{args: args, shorts: shorts, longs: longs, diag: diag, optind: 1}
}

func (g *getopt) errorf(parts ...string) {
	if g.diag != nil {
		g.diag(g.args[0] + ": " + strings.Join(parts, "") + "\n")
	}
}

// next returns the next option code: a short option character, a long
// option's val, optNonOption, optError or optEnd. The argument, if any, is in
// g.optarg (g.hasArg reports whether there is one).
func (g *getopt) next() int {
	g.optarg, g.hasArg = "", false
	argc := len(g.args)
	if g.nextchar == "" {
		if g.optind < argc && g.args[g.optind] == "--" {
			g.optind++
			if g.optind == argc {
				return optEnd
			}
			// optind now points at the arguments after "--".
			return optEnd
		}
		if g.optind >= argc {
			return optEnd
		}
		arg := g.args[g.optind]
		if len(arg) < 2 || arg[0] != '-' {
			g.optarg, g.hasArg = arg, true
			g.optind++
			return optNonOption
		}
		if arg[1] == '-' {
			return g.long(arg[2:])
		}
		g.nextchar = arg[1:]
	}

	c := g.nextchar[0]
	g.nextchar = g.nextchar[1:]
	if g.nextchar == "" {
		g.optind++
	}
	idx := strings.IndexByte(g.shorts, c)
	if idx < 0 || c == ':' || c == ';' {
		g.errorf("invalid option -- '", string(c), "'")
		g.optopt = int(c)
		return optError
	}
	spec := g.shorts[idx+1:]
	if strings.HasPrefix(spec, ":") {
		if strings.HasPrefix(spec, "::") {
			if g.nextchar != "" {
				g.optarg, g.hasArg = g.nextchar, true
				g.optind++
			}
			g.nextchar = ""
			return int(c)
		}
		switch {
		case g.nextchar != "":
			g.optarg, g.hasArg = g.nextchar, true
			g.optind++
		case g.optind == argc:
			g.errorf("option requires an argument -- '", string(c), "'")
			g.optopt = int(c)
			g.nextchar = ""
			return optError
		default:
			g.optarg, g.hasArg = g.args[g.optind], true
			g.optind++
		}
		g.nextchar = ""
	}
	return int(c)
}

// long handles "--name[=value]"; text is the part after "--".
func (g *getopt) long(text string) int {
	name := text
	value, hasValue := "", false
	if i := strings.IndexByte(text, '='); i >= 0 {
		name, value, hasValue = text[:i], text[i+1:], true
	}

	found := -1
	for i, o := range g.longs {
		if o.name == name {
			found = i
			break
		}
	}
	if found < 0 {
		var ambiguous []int
		for i, o := range g.longs {
			if !strings.HasPrefix(o.name, name) {
				continue
			}
			if found < 0 {
				found = i
				continue
			}
			p := g.longs[found]
			if p.has != o.has || p.val != o.val {
				if ambiguous == nil {
					ambiguous = append(ambiguous, found)
				}
				ambiguous = append(ambiguous, i)
			}
		}
		if ambiguous != nil {
			if g.diag != nil {
				var b strings.Builder
				b.WriteString(g.args[0])
				b.WriteString(": option '--")
				b.WriteString(text)
				b.WriteString("' is ambiguous; possibilities:")
				for _, i := range ambiguous {
					b.WriteString(" '--")
					b.WriteString(g.longs[i].name)
					b.WriteString("'")
				}
				b.WriteString("\n")
				g.diag(b.String())
			}
			g.optind++
			g.optopt = 0
			return optError
		}
	}
	if found < 0 {
		g.errorf("unrecognized option '--", text, "'")
		g.optind++
		g.optopt = 0
		return optError
	}

	o := g.longs[found]
	g.optind++
	if hasValue {
		if o.has == noArgument {
			g.errorf("option '--", o.name, "' doesn't allow an argument")
			g.optopt = o.val
			return optError
		}
		g.optarg, g.hasArg = value, true
	} else if o.has == requiredArgument {
		if g.optind < len(g.args) {
			g.optarg, g.hasArg = g.args[g.optind], true
			g.optind++
		} else {
			g.errorf("option '--", o.name, "' requires an argument")
			g.optopt = o.val
			return optError
		}
	}
	return o.val
}

// trailing returns the arguments left after the scan ended (those after "--").
func (g *getopt) trailing() []string {
	if g.optind >= len(g.args) {
		return nil
	}
	return g.args[g.optind:]
}
