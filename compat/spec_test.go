package compat

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// specOption is one option as test/spec/legacy-cli.md (a copy of the legacy
// command-line specification) lists it.
type specOption struct {
	long  string
	short string   // "" when none
	keys  []string // configuration keys; nil when not configurable
}

var (
	backtickedLong = regexp.MustCompile("`(--[A-Za-z0-9-]+)`")
	backtickedWord = regexp.MustCompile("`([a-z0-9-]+)`")
	shortCell      = regexp.MustCompile("^`-([A-Za-z])`")
)

// specSection returns the lines of the part of the specification that
// starts with the heading start and ends before the next heading of the
// same level.
func specSection(t *testing.T, spec []string, start string) []string {
	t.Helper()
	level := strings.Index(start, " ")
	for i, l := range spec {
		if l != start {
			continue
		}
		j := i + 1
		for j < len(spec) && !(strings.HasPrefix(spec[j], start[:level]+" ")) {
			j++
		}
		return spec[i:j]
	}
	t.Fatalf("heading %q not in the specification", start)
	return nil
}

// specRows parses the option tables of a part of the specification: every
// table row whose first cell names long options. Key columns: "same" means
// the option's own name; "—" (or a Cfg cell naming no key) means none.
func specRows(lines []string, inherit func(long string) []string) []specOption {
	var out []specOption
	for _, l := range lines {
		if !strings.HasPrefix(l, "| ") {
			continue
		}
		cells := strings.Split(strings.Trim(l, "|"), " | ")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		longs := backtickedLong.FindAllStringSubmatch(cells[0], -1)
		if cells[0] == "—" {
			// A configuration-only key (asrestore bandwidth, tps).
			for _, m := range backtickedWord.FindAllStringSubmatch(cells[4], -1) {
				out = append(out, specOption{keys: []string{m[1]}})
				break
			}
			continue
		}
		if len(longs) == 0 {
			continue
		}
		// The key column: the fifth of the option tables (Long, Short,
		// Arg, Default, Cfg), the fourth of the S3 and Secret Agent
		// tables (Long, Arg, Default, Cfg).
		cfg := ""
		short := ""
		if len(cells) >= 6 {
			cfg = cells[4]
			if m := shortCell.FindStringSubmatch(cells[1]); m != nil {
				short = m[1]
			}
		} else if len(cells) >= 5 {
			cfg = cells[3]
		}
		for _, m := range longs {
			o := specOption{long: strings.TrimPrefix(m[1], "--"), short: short}
			switch {
			case inherit != nil && (strings.Contains(cfg, "same") || !backtickedWord.MatchString(cfg)):
				o.keys = inherit(o.long)
			case strings.HasPrefix(cfg, "same"):
				o.keys = []string{o.long}
			case cfg == "—" || strings.HasPrefix(cfg, "— "):
			default:
				for _, k := range backtickedWord.FindAllStringSubmatch(cfg, -1) {
					o.keys = append(o.keys, k[1])
				}
			}
			out = append(out, o)
		}
	}
	return out
}

// hiddenAliases are the camelCase aliases the specification lists in prose.
func hiddenAliases(lines []string) []string {
	var out []string
	for i, l := range lines {
		if !strings.HasPrefix(l, "Hidden camelCase aliases") {
			continue
		}
		for j := i; j < len(lines) && lines[j] != ""; j++ {
			for _, m := range backtickedLong.FindAllStringSubmatch(lines[j], -1) {
				out = append(out, strings.TrimPrefix(m[1], "--"))
			}
		}
	}
	return out
}

// TestRegistryMatchesSpecification proves that every option of the legacy
// specification is declared exactly once in the tool's registry, with the
// same short letter and configuration keys, and that the registry declares
// nothing else.
func TestRegistryMatchesSpecification(t *testing.T) {
	data, err := os.ReadFile("../test/spec/legacy-cli.md")
	if err != nil {
		t.Fatal(err)
	}
	spec := strings.Split(string(data), "\n")
	backupPart := specSection(t, spec, "## 2. asbackup options")
	restorePart := specSection(t, spec, "## 4. asrestore options")

	backupSpec := specRows(backupPart, nil)
	aliases := hiddenAliases(backupPart)
	if len(backupSpec) < 80 || len(aliases) != 13 {
		t.Fatalf("parsed %d asbackup options and %d aliases; the specification's tables changed shape", len(backupSpec), len(aliases))
	}
	for _, a := range aliases {
		backupSpec = append(backupSpec, specOption{long: a})
	}
	backupKeys := map[string][]string{}
	for _, o := range backupSpec {
		backupKeys[o.long] = o.keys
	}

	// asrestore: §4.1 is "same as asbackup §2.1", the [cluster] options
	// and aliases are asbackup's (with the blacklist option spelled
	// --tls-cert-blackList), then the §4.2 table.
	var restoreSpec []specOption
	common := specRows(specSection(t, spec, "### 2.1 Non-configurable options"), nil)
	common = append(common, specRows(specSection(t, spec, "### 2.2 `[cluster]` (connection / security) options"), nil)...)
	for _, o := range common {
		if o.long == "tls-cert-blacklist" {
			if !strings.Contains(strings.Join(restorePart, "\n"), "spelled `--tls-cert-blackList`") {
				t.Fatal("the specification no longer says how asrestore spells --tls-cert-blacklist")
			}
			o.long = "tls-cert-blackList"
		}
		restoreSpec = append(restoreSpec, o)
	}
	for _, a := range aliases {
		restoreSpec = append(restoreSpec, specOption{long: a})
	}
	restoreSpec = append(restoreSpec, specRows(specSection(t, spec, "### 4.2 `[asrestore]` options"), func(long string) []string {
		return backupKeys[long]
	})...)
	// --services-alternate is in both tables of asrestore.
	restoreSpec = dedupe(restoreSpec)

	for _, c := range []struct {
		tool   *toolDef
		spec   []specOption
		shorts string
	}{
		{backupTool, backupSpec, specShorts(t, backupPart)},
		{restoreTool, restoreSpec, specShorts(t, restorePart)},
	} {
		checkRegistry(t, c.tool, c.spec, c.shorts)
	}
}

func dedupe(opts []specOption) []specOption {
	seen := map[string]bool{}
	var out []specOption
	for _, o := range opts {
		id := o.long + "|" + strings.Join(o.keys, ",")
		if o.long != "" && seen[o.long] {
			continue
		}
		if o.long != "" {
			seen[o.long] = true
		} else if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, o)
	}
	return out
}

// specShorts returns the "Short-option string (exact)" of a part.
func specShorts(t *testing.T, lines []string) string {
	t.Helper()
	re := regexp.MustCompile("^Short-option string \\(exact\\): `-?([^`]*)`")
	for _, l := range lines {
		if m := re.FindStringSubmatch(l); m != nil {
			return m[1]
		}
	}
	t.Fatal("no short-option string")
	return ""
}

// shortSet splits a getopt short-option string into "letter+colons" items.
func shortSet(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		j := i + 1
		for j < len(s) && s[j] == ':' {
			j++
		}
		out = append(out, s[i:j])
		i = j
	}
	sort.Strings(out)
	return out
}

func checkRegistry(t *testing.T, tool *toolDef, spec []specOption, shorts string) {
	declared := map[string]int{}   // long name -> number of options declaring it
	byName := map[string]*option{} // long name -> option
	keyOnly := map[string]bool{}
	for i := range tool.opts {
		o := &tool.opts[i]
		for _, n := range o.long {
			declared[n]++
			byName[n] = o
		}
		if len(o.long) == 0 {
			for _, k := range o.keys {
				keyOnly[k] = true
			}
		}
	}
	inSpec := map[string]bool{}
	specKeys := map[*option][]string{} // the keys the specification gives the option's names
	for _, s := range spec {
		if s.long == "" {
			if !keyOnly[s.keys[0]] {
				t.Errorf("%s: configuration-only key %s is not declared", tool.name, s.keys[0])
			}
			continue
		}
		inSpec[s.long] = true
		o := byName[s.long]
		if declared[s.long] != 1 {
			t.Errorf("%s: --%s is declared %d times, want once", tool.name, s.long, declared[s.long])
			continue
		}
		if got := string(rune(o.short)); o.short == 0 && s.short != "" || o.short != 0 && got != s.short {
			t.Errorf("%s: --%s has short option %q, the specification %q", tool.name, s.long, got, s.short)
		}
		specKeys[o] = append(specKeys[o], s.keys...)
	}
	for o, keys := range specKeys {
		got, want := append([]string(nil), o.keys...), append([]string(nil), keys...)
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: --%s has configuration keys %q, the specification %q", tool.name, o.long[0], got, want)
		}
	}
	for n := range declared {
		if !inSpec[n] {
			t.Errorf("%s: --%s is declared but not in the specification", tool.name, n)
		}
	}
	if got, want := shortSet(tool.shorts), shortSet(shorts); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("%s: short options %q, the specification %q", tool.name, got, want)
	}
}
