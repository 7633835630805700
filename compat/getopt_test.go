package compat

import (
	"reflect"
	"strings"
	"testing"

	"asbtools/msg"
)

// scan runs one getopt pass and returns "code=arg" tokens and diagnostics.
func scan(args []string, shorts string, longs []longOption) (toks []string, diags []string, rest []string) {
	g := newGetopt(append([]string{"prog"}, args...), shorts, longs, func(s string) { diags = append(diags, s) })
	for code := g.next(); code != optEnd; code = g.next() {
		tok := ""
		switch {
		case code == optNonOption:
			tok = "ARG"
		case code == optError:
			tok = "?"
		case code < 256:
			tok = string(rune(code))
		default:
			for _, o := range longs {
				if o.val == code {
					tok = o.name
					break
				}
			}
		}
		if g.hasArg {
			tok += "=" + g.optarg
		}
		toks = append(toks, tok)
	}
	return toks, diags, g.trailing()
}

func TestGetopt(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		toks  []string
		diags []string
		rest  []string
	}{
		{"clustered flags", []string{"-rvx"}, []string{"r", "v", "x"}, nil, nil},
		{"argument ends cluster", []string{"-rntest"}, []string{"r", "n=test"}, nil, nil},
		{"detached argument", []string{"-n", "test"}, []string{"n=test"}, nil, nil},
		{"argument starting with dash", []string{"-n", "-x"}, []string{"n=-x"}, nil, nil},
		{"long with =", []string{"--namespace=test"}, []string{"n=test"}, nil, nil},
		{"long detached", []string{"--namespace", "test"}, []string{"n=test"}, nil, nil},
		{"long empty value", []string{"--namespace="}, []string{"n="}, nil, nil},
		{"abbreviation", []string{"--nam", "x"}, []string{"n=x"}, nil, nil},
		{"exact beats longer", []string{"--tls-crl-check"}, []string{"tlsCrlCheck"}, nil, nil},
		{"aliases are not ambiguous", []string{"--he"}, []string{"Z"}, nil, nil},
		{"ambiguous", []string{"--output-f=x"}, []string{"?"},
			[]string{"prog: option '--output-f=x' is ambiguous; possibilities: '--output-file' '--output-file-prefix'\n"}, nil},
		{"ambiguous skips same-val options", []string{"--tls-c"}, []string{"?"},
			[]string{"prog: option '--tls-c' is ambiguous; possibilities: '--tls-cafile' '--tls-capath' '--tls-cipher-suite' '--tls-crl-check' '--tls-crl-check-all' '--tls-cert-blacklist' '--tls-certfile'\n"}, nil},
		{"unrecognized", []string{"--bogus=1"}, []string{"?"}, []string{"prog: unrecognized option '--bogus=1'\n"}, nil},
		{"invalid short", []string{"-O"}, []string{"?"}, []string{"prog: invalid option -- 'O'\n"}, nil},
		{"colon is invalid", []string{"-:"}, []string{"?"}, []string{"prog: invalid option -- ':'\n"}, nil},
		{"short missing argument", []string{"-n"}, []string{"?"}, []string{"prog: option requires an argument -- 'n'\n"}, nil},
		{"long missing argument", []string{"--nam"}, []string{"?"}, []string{"prog: option '--namespace' requires an argument\n"}, nil},
		{"no argument allowed", []string{"--verb=1"}, []string{"?"}, []string{"prog: option '--verbose' doesn't allow an argument\n"}, nil},
		{"optional short attached", []string{"-Pxyz"}, []string{"P=xyz"}, nil, nil},
		{"optional short detached is not taken", []string{"-P", "xyz"}, []string{"P", "ARG=xyz"}, nil, nil},
		{"optional long =", []string{"--password=xyz"}, []string{"P=xyz"}, nil, nil},
		{"optional long empty", []string{"--password="}, []string{"P="}, nil, nil},
		{"optional long detached", []string{"--password", "xyz"}, []string{"P", "ARG=xyz"}, nil, nil},
		{"positional in order", []string{"a", "-v", "b"}, []string{"ARG=a", "v", "ARG=b"}, nil, nil},
		{"lone dash is positional", []string{"-"}, []string{"ARG=-"}, nil, nil},
		{"double dash ends options", []string{"-v", "--", "-x", "y"}, []string{"v"}, nil, []string{"-x", "y"}},
		{"double dash last", []string{"-v", "--"}, []string{"v"}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			toks, diags, rest := scan(tc.args, backupTool.shorts, backupTool.longs)
			if !reflect.DeepEqual(toks, tc.toks) || !reflect.DeepEqual(diags, tc.diags) || !reflect.DeepEqual(rest, tc.rest) {
				t.Errorf("got %q %q %q, want %q %q %q", toks, diags, rest, tc.toks, tc.diags, tc.rest)
			}
		})
	}
}

// In asrestore's Secret-Agent pass glibc sees the short string "-h:S...", so
// '-' is an option character there and an error only in the main pass.
func TestRestoreDashQuirk(t *testing.T) {
	_, diags, _ := scan([]string{"-u-r"}, restoreTool.pass3Shorts, restoreTool.longs)
	if len(diags) != 0 {
		t.Fatalf("pass 3 diagnostics: %q", diags)
	}
	_, diags, _ = scan([]string{"-u-r"}, restoreTool.shorts, restoreTool.longs)
	if want := []string{"prog: invalid option -- '-'\n"}; !reflect.DeepEqual(diags, want) {
		t.Fatalf("pass 4 diagnostics: %q", diags)
	}
	_, _, err := ParseRestore([]string{"asrestore", "-i", "x", "-u-r"}, Env{})
	e := err.(*msg.Error)
	if got := e.Error(); got != "asrestore: invalid option -- '-'\nRun with --help for usage information and flag options" {
		t.Fatalf("got %q", got)
	}
}

func TestOptionTables(t *testing.T) {
	for _, tool := range []*toolDef{backupTool, restoreTool} {
		seen := map[string]bool{}
		for _, o := range tool.longs {
			if seen[o.name] {
				t.Errorf("%s: duplicate long option %s", tool.name, o.name)
			}
			seen[o.name] = true
		}
		// Every short letter with an argument in the string takes one in
		// the long table too.
		for i := 0; i < len(tool.shorts); i++ {
			c := tool.shorts[i]
			if c == ':' {
				continue
			}
			takes := strings.HasPrefix(tool.shorts[i+1:], ":")
			for _, o := range tool.longs {
				if o.val == int(c) && (o.has != noArgument) != takes {
					t.Errorf("%s: -%c and --%s disagree on the argument", tool.name, c, o.name)
				}
			}
		}
	}
	if len(backupTool.longs) != 95 || len(restoreTool.longs) != 89 {
		t.Errorf("option counts %d/%d", len(backupTool.longs), len(restoreTool.longs))
	}
}
