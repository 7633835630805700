package compat

import (
	"math"
	"time"
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

func newRestoreConfig(env *Env) *RestoreConfig {
	return &RestoreConfig{
		Cluster:          ClusterConfig{Host: DefaultHost, Port: DefaultPort, Password: PromptSentinel},
		S3:               defaultS3(),
		Parallel:         DefaultRestoreThreads,
		Timeout:          DefaultRestoreTimeout,
		SocketTimeout:    DefaultSocketTimeout,
		MaxRetries:       DefaultMaxRetries,
		RetryScaleFactor: DefaultRetryScaleFactor,
		MaxAsyncBatches:  DefaultMaxAsyncBatches,
		BatchSize:        BatchSizeUndefined,
		EventLoops:       DefaultEventLoops,
		Location:         env.Location,
	}
}

// ParseRestore parses asrestore's command line exactly like the legacy tool;
// see ParseBackup for the meaning of the results.
func ParseRestore(args []string, env Env) (*RestoreConfig, Action, error) {
	return parseTool(restoreTool, args, env, newRestoreConfig, func(p *parser, c *RestoreConfig) toolPasses {
		return toolPasses{
			setting:  func(s ConfigSetting, key string, v settingValue) *Error { return p.applyRestoreSetting(c, s, key, v) },
			option:   func(a *mainArg) *Error { return p.applyRestoreOption(c, a) },
			validate: func() *Error { return p.validateRestore(c) },
		}
	})
}

func (c *RestoreConfig) parts() toolParts {
	return toolParts{&c.Cluster, &c.S3, &c.Key, &c.SecretAgent, &c.Messages}
}

// applyRestoreOption applies one asrestore option of the main pass.
func (p *parser) applyRestoreOption(c *RestoreConfig, a *mainArg) *Error {
	if ok, e := p.applyClusterOption(a); ok {
		return e
	}
	if ok, e := p.applyS3Option(a); ok {
		return e
	}
	switch a.code {
	case 'n':
		c.Namespace.set(a.arg)
	case 'd':
		c.Directory.set(a.arg)
	case optDirectoryList:
		c.DirectoryList.set(a.arg)
	case optParentDirectory:
		c.ParentDirectory.set(a.arg)
	case 'i':
		c.InputFile.set(a.arg)
	case 'z':
		m, ok := parseCompress(a.arg)
		if !ok {
			return p.out.failLines(`Invalid compression type "` + a.arg + `"` + "\n")
		}
		c.Compress = m
	case 'y':
		m, ok := parseEncrypt(a.arg)
		if !ok {
			return p.out.failLines(`Invalid encryption type "` + a.arg + `"` + "\n")
		}
		c.Encrypt = m
	case optEncryptionKeyFile, optEncryptionKeyEnv:
		return p.applyKeyOption(a)
	case optThreads, 't':
		if a.code == optThreads {
			p.out.err("WARNING: '--threads' option is deprecated, use `--parallel` instead")
		}
		return intOption(p, a, "threads", inRange(1, maxRestoreThreads), &c.Parallel, toInt)
	case 'v':
		c.Verbose, p.out.verbose = true, true
	case 'm':
		c.Machine.set(a.arg)
	case 'B':
		c.BinList.set(a.arg)
	case 's':
		c.SetList.set(a.arg)
	case optIgnoreRecordError:
		c.IgnoreRecordError = true
	case 'u':
		c.Unique = true
	case 'r':
		c.Replace = true
	case 'g':
		c.NoGeneration = true
	case optExtraTTL:
		return intOption(p, a, "extra-ttl", inRange(0, math.MaxInt32), &c.ExtraTTL, identity)
	case 'N':
		c.Nice.set(a.arg)
	case optValidate:
		c.Validate = true
	case 'R':
		c.NoRecords = true
	case 'I':
		c.NoIndexes = true
	case 'L':
		c.IndexesLast = true
	case 'F':
		c.NoUDFs = true
	case 'w':
		c.Wait = true
	case 'T':
		return intOption(p, a, "timeout", inRange(0, math.MaxUint32), &c.Timeout, ms)
	case optSocketTimeout:
		return intOption(p, a, "socket timeout", inRange(0, math.MaxUint32), &c.SocketTimeout, ms)
	case optTotalTimeout:
		return intOption(p, a, "total timeout", inRange(0, math.MaxUint32), &c.TotalTimeout, ms)
	case optMaxRetries:
		return intOption(p, a, "max retries", atLeast(0), &c.MaxRetries, identity)
	case optRetryDelay:
		p.out.err("Warning: `--sleep-between-retries` and `--retry-delay` are deprecated and has no effect, use `--retry-scale-factor` to configure the amount to back off when retrying transactions.")
	case optRetryScaleFactor:
		return intOption(p, a, "retry delay", atLeast(0), &c.RetryScaleFactor, us)
	case optDisableBatchWrites:
		c.DisableBatchWrites = true
	case optMaxAsyncBatches:
		return intOption(p, a, "max-async-batches", inRange(0, math.MaxUint32), &c.MaxAsyncBatches, identity)
	case optBatchSize:
		return intOption(p, a, "batch-size", inRange(0, math.MaxUint32), &c.BatchSize, identity)
	case optEventLoops:
		return intOption(p, a, "event-loops", inRange(0, math.MaxUint32), &c.EventLoops, identity)
	default:
		p.out.raw(runWithHelp)
		return p.out.fail(nil)
	}
	return nil
}

// validateRestore is legacy restore_config_validate.
func (p *parser) validateRestore(c *RestoreConfig) *Error {
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
func ParseNiceList(s string) (bandwidth, tps int64, err *Error) {
	items, e := ParseRestoreList("nice", 10, s)
	if e != nil {
		e.Messages = append(e.Messages, errLines("Error while parsing nice list").Messages...)
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
func ParseRestoreList(which string, size int, s string) ([]string, *Error) {
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
func ParseNamespaceList(s string) (src, dst string, err *Error) {
	items, e := ParseRestoreList("namespace", 32, s)
	if e != nil {
		e.Messages = append(e.Messages, errLines("Error while parsing namespace list").Messages...)
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
func ParseRestoreBinList(s string) ([]string, *Error) {
	items, e := ParseRestoreList("bin", 16, s)
	if e != nil {
		e.Messages = append(e.Messages, errLines("Error while parsing bin list").Messages...)
	}
	return items, e
}

// ParseRestoreSetList parses asrestore's --set-list (items 1..63 bytes),
// with the legacy lines ending in "Error while parsing set list".
func ParseRestoreSetList(s string) ([]string, *Error) {
	items, e := ParseRestoreList("set", 64, s)
	if e != nil {
		e.Messages = append(e.Messages, errLines("Error while parsing set list").Messages...)
	}
	return items, e
}

// ParseStdinSize interprets an --input-file value: "-" is stdin of unknown
// size, "-:<n>" stdin of n bytes (0..2^50, error "Invalid stdin input size
// %s"); anything else is a path (isStdin false).
func ParseStdinSize(input string) (size int64, isStdin bool, err *Error) {
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
