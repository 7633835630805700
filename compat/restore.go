package compat

import (
	"math"
	"time"

	"asbtools/msg"
)

// Restore defaults.
const (
	DefaultRestoreThreads   = 20
	maxRestoreThreads       = 4096
	DefaultRestoreTimeout   = 10000 * time.Millisecond
	DefaultRetryScaleFactor = 150000 * time.Microsecond
	DefaultMaxAsyncBatches  = 32
	DefaultEventLoops       = 1
	BatchSizeUndefined      = -1
)

// ParseRestore parses asrestore's command line exactly like the legacy tool;
// see ParseBackup for the meaning of the results.
func ParseRestore(args []string, env Env) (*RestoreConfig, Action, error) {
	c := &RestoreConfig{}
	a, err := parseTool(restoreTool, args, env, target{Common: &c.Common, r: c}, func(p *parser) *msg.Error { return p.validateRestore(c) })
	if a != ActionRun {
		return nil, a, err
	}
	return c, a, nil
}

// validateRestore is legacy restore_config_validate.
func (p *parser) validateRestore(c *RestoreConfig) *msg.Error {
	fail := p.out.failLines
	if !c.Directory.Set && !c.InputFile.Set && !c.DirectoryList.Set {
		return fail("Invalid options: please specify a directory (-d option), directory list (--directory-list option), or an input file (-i option).")
	}
	if c.ParentDirectory.Set && !c.DirectoryList.Set {
		return fail("Invalid options: --parent-directory should always be used with, and only applies to --directory-list.")
	}
	if c.Directory.Set && c.InputFile.Set {
		return fail("Invalid options: --directory and --input-file are mutually exclusive.")
	}
	if c.Unique && (c.Replace || c.NoGeneration) {
		return fail("Invalid options: --unique is mutually exclusive with --replace and --no-generation.")
	}
	if c.Directory.Set && c.DirectoryList.Set {
		return fail("Invalid options: --directory and --directory-list are mutually exclusive.")
	}
	if c.InputFile.Set && c.DirectoryList.Set {
		return fail("Invalid options: --input-file and --directory-list are mutually exclusive.")
	}
	if (c.Key != nil) != (c.Encrypt != EncryptNone) {
		return fail("Must specify both encryption mode and a private key file/environment variable\n")
	}
	if c.Nice.Set {
		bw, tps, e := ParseNiceList(c.Nice.Value)
		if e != nil {
			return p.out.fail(e)
		}
		c.Bandwidth, c.TPS = bw, tps
	}
	return nil
}

// ParseNiceList parses asrestore's --nice "<MiB/s>,<TPS>" value into bytes
// per second and records per second, with the legacy error lines.
func ParseNiceList(s string) (bandwidth, tps int64, err *msg.Error) {
	items, e := ParseRestoreList("nice", 10, s)
	if e != nil {
		e.Lines = append(e.Lines, errLines("Error while parsing nice list").Lines...)
		return 0, 0, e
	}
	if len(items) != 2 {
		return 0, 0, errLines("Invalid nice option")
	}
	v, ok := ParseCInt(items[0])
	if !ok || v < 1 || uint64(v) > math.MaxUint64/mib {
		return 0, 0, errLines("Invalid bandwidth value " + items[0])
	}
	bandwidth = mulMiB(v)
	v, ok = ParseCInt(items[1])
	if !ok || v < 1 || v > math.MaxUint32 {
		return 0, 0, errLines("Invalid TPS value " + items[1])
	}
	return bandwidth, v, nil
}

// ParseRestoreList is the legacy restore list parser (namespace, bin, set and
// nice lists): comma-separated, items trimmed, each 1..size-1 bytes long.
// Errors: "Empty <which> list", "Item with invalid length in <which> list <s>".
func ParseRestoreList(which string, size int, s string) ([]string, *msg.Error) {
	if s == "" {
		return nil, errLines("Empty " + which + " list")
	}
	items := splitList(s, ',', true)
	for _, it := range items {
		if len(it) == 0 || len(it) >= size {
			return nil, errLines("Item with invalid length in " + which + " list " + s)
		}
	}
	return items, nil
}

// ParseNamespaceList parses asrestore's -n value: "src" (check only) or
// "src,dst" (rename). The error lines are the legacy ones, ending with
// "Error while parsing namespace list" where the legacy tool prints it; the
// caller adds "Failed to initialize restore status".
func ParseNamespaceList(s string) (src, dst string, err *msg.Error) {
	items, e := ParseRestoreList("namespace", 32, s)
	if e != nil {
		e.Lines = append(e.Lines, errLines("Error while parsing namespace list").Lines...)
		return "", "", e
	}
	if len(items) > 2 {
		return "", "", errLines("Invalid namespace option")
	}
	if len(items) == 2 {
		return items[0], items[1], nil
	}
	return items[0], "", nil
}

// ParseRestoreBinList parses asrestore's --bin-list (items 1..15 bytes),
// with the legacy lines ending in "Error while parsing bin list".
func ParseRestoreBinList(s string) ([]string, *msg.Error) {
	items, e := ParseRestoreList("bin", 16, s)
	if e != nil {
		e.Lines = append(e.Lines, errLines("Error while parsing bin list").Lines...)
	}
	return items, e
}

// ParseRestoreSetList parses asrestore's --set-list (items 1..63 bytes),
// with the legacy lines ending in "Error while parsing set list".
func ParseRestoreSetList(s string) ([]string, *msg.Error) {
	items, e := ParseRestoreList("set", 64, s)
	if e != nil {
		e.Lines = append(e.Lines, errLines("Error while parsing set list").Lines...)
	}
	return items, e
}

// ParseStdinSize interprets an --input-file value: "-" is stdin of unknown
// size, "-:<n>" stdin of n bytes (0..2^50, error "Invalid stdin input size
// %s"); anything else is a path (isStdin false).
func ParseStdinSize(input string) (size int64, isStdin bool, err *msg.Error) {
	if input == "-" {
		return 0, true, nil
	}
	if len(input) < 2 || input[:2] != "-:" {
		return 0, false, nil
	}
	v, ok := ParseCInt(input[2:])
	if !ok || v < 0 || v > 1<<50 {
		return 0, true, errLines("Invalid stdin input size " + input[2:])
	}
	return v, true, nil
}

// DirectoryListPaths expands --directory-list (split on ',', not trimmed)
// with the optional --parent-directory prefix ('/' inserted unless the
// parent already ends with '/').
func DirectoryListPaths(list string, parent Opt) []string {
	dirs := splitList(list, ',', false)
	if parent.Set {
		for i, d := range dirs {
			if len(parent.Value) > 0 && parent.Value[len(parent.Value)-1] == '/' {
				dirs[i] = parent.Value + d
			} else {
				dirs[i] = parent.Value + "/" + d
			}
		}
	}
	return dirs
}
