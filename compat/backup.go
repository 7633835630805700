package compat

import (
	"math"
	"time"
)

// Backup defaults.
const (
	DefaultFileLimit       = 250 << 20
	DefaultEstimateSamples = 10000
	maxBackupParallel      = 100
	mib                    = 1 << 20
)

func ms(v int64) time.Duration { return time.Duration(v) * time.Millisecond }

func newBackupConfig(env *Env) *BackupConfig {
	return &BackupConfig{
		Cluster:         ClusterConfig{Host: DefaultHost, Port: -1, Password: PromptSentinel},
		S3:              defaultS3(),
		FileLimit:       DefaultFileLimit,
		EstimateSamples: DefaultEstimateSamples,
		SocketTimeout:   DefaultSocketTimeout,
		MaxRetries:      DefaultMaxRetries,
		Location:        env.Location,
	}
}

// ParseBackup parses asbackup's command line exactly like the legacy tool:
// args is the full argv (args[0] is the program name as invoked, used in
// getopt diagnostics). On ActionRun the configuration is valid and its
// Messages must be printed before running; on ActionHelp/ActionVersion print
// BackupUsage(args[0]) / VersionText("asbackup") and exit 0; on ActionFail
// the error is an *Error with the messages to print and the exit code.
func ParseBackup(args []string, env Env) (*BackupConfig, Action, error) {
	p := newParser(backupTool, args, env)
	switch p.helpPass() {
	case ActionHelp:
		return nil, ActionHelp, nil
	case ActionVersion:
		return nil, ActionVersion, nil
	}
	c := newBackupConfig(&p.env)
	p.cluster, p.s3, p.key = &c.Cluster, &c.S3, &c.Key
	fail := func(e *Error) (*BackupConfig, Action, error) { return nil, ActionFail, e }

	if e := p.configPass(func(s ConfigSetting, key string, v settingValue) *Error {
		return p.applyBackupSetting(c, s, key, v)
	}); e != nil {
		return fail(e)
	}
	if e := p.saPass(); e != nil {
		return fail(e)
	}
	c.SecretAgent = p.sa
	if e := p.mainPass(func(a *mainArg) *Error { return p.applyBackupOption(c, a) }); e != nil {
		return fail(e)
	}
	if e := p.validateBackup(c); e != nil {
		return fail(e)
	}
	c.Messages = p.out.msgs
	return c, ActionRun, nil
}

// applyBackupOption applies one asbackup option of the main pass.
func (p *parser) applyBackupOption(c *BackupConfig, a *mainArg) *Error {
	if ok, e := p.applyClusterOption(a); ok {
		return e
	}
	if ok, e := p.applyS3Option(a); ok {
		return e
	}
	bad := func(what string) *Error { return p.out.failLines("Invalid " + what + " value " + a.arg) }
	num := func() (int64, bool) { return ParseCInt(a.arg) }
	switch a.code {
	case 'n':
		c.Namespace = truncate(a.arg, 31)
	case 's':
		sets, e := ParseSetList(c.Sets, a.arg)
		if e != nil {
			return p.out.fail(e)
		}
		c.Sets = sets
	case 'd':
		c.Directory.set(a.arg)
	case 'q':
		c.OutputPrefix.set(a.arg)
	case 'c':
		c.Continue.set(a.arg)
	case optStateFileDst:
		c.StateFileDst.set(a.arg)
	case 'o':
		c.OutputFile.set(a.arg)
	case 'F':
		v, ok := num()
		if !ok || v < 1 {
			return bad("file limit")
		}
		c.FileLimit = mulMiB(v)
	case 'r':
		c.RemoveFiles = true
	case optRemoveArtifacts:
		c.RemoveArtifacts = true
	case optEstimateSamples:
		v, ok := num()
		if !ok || v < 1 || v > math.MaxUint32 {
			return bad("estimate-samples")
		}
		c.EstimateSamples = v
	case 'L':
		v, ok := num()
		if !ok || v < 0 || v > math.MaxUint32 {
			return bad("records-per-second")
		}
		c.RecordsPerSecond = v
	case 'v':
		c.Verbose, p.out.verbose = true, true
	case 'x':
		c.NoBins = true
	case 'C':
		c.Compact = true
	case 'w':
		v, ok := num()
		if !ok || v < 1 || v > maxBackupParallel {
			return bad("parallelism")
		}
		c.Parallel = int(v)
	case 'z':
		m, ok := parseCompress(a.arg)
		if !ok {
			return p.out.failLines(`Invalid compression type "` + a.arg + `"`)
		}
		c.Compress = m
	case optCompressionLevel:
		v, ok := num()
		if !ok || v < math.MinInt32 || v > math.MaxInt32 {
			return bad("compression-level")
		}
		c.CompressionLevel = int(v)
	case 'y':
		m, ok := parseEncrypt(a.arg)
		if !ok {
			return p.out.failLines(`Invalid encryption type "` + a.arg + `"`)
		}
		c.Encrypt = m
	case optEncryptionKeyFile, optEncryptionKeyEnv:
		return p.applyKeyOption(a)
	case 'B':
		c.BinList.set(a.arg)
	case 'l':
		c.NodeList.set(a.arg)
	case 'X':
		c.PartitionList.set(a.arg)
	case 'D':
		c.AfterDigest.set(a.arg)
	case 'f':
		c.FilterExp.set(a.arg)
	case 'M':
		v, ok := num()
		if !ok || v < 0 {
			return bad("max-records")
		}
		c.MaxRecords = v
	case 'm':
		c.Machine.set(a.arg)
	case 'e':
		c.Estimate = true
	case 'N':
		v, ok := num()
		if !ok || v < 1 || uint64(v) > math.MaxUint64/mib {
			return bad("bandwidth")
		}
		c.Bandwidth = mulMiB(v)
	case 'R':
		c.NoRecords = true
	case 'I':
		c.NoIndexes = true
	case 'u':
		c.NoUDFs = true
	case 'a', 'b':
		p.out.ver("Parsing date and time string " + a.arg)
		t, e := ParseDateTime(a.arg, p.env.Now(), p.env.Location)
		if e != nil {
			return p.out.fail(e)
		}
		if a.code == 'a' {
			c.ModifiedAfter = t
		} else {
			c.ModifiedBefore = t
		}
	case optNoTTLOnly:
		c.NoTTLOnly = true
	case optSocketTimeout:
		v, ok := num()
		if !ok || v < 0 || v > math.MaxUint32 {
			return bad("socket timeout")
		}
		c.SocketTimeout = ms(v)
	case optTotalTimeout:
		v, ok := num()
		if !ok || v < 0 || v > math.MaxUint32 {
			return bad("total timeout")
		}
		c.TotalTimeout = ms(v)
	case optMaxRetries:
		v, ok := num()
		if !ok || v < 0 || v > math.MaxUint32 {
			return bad("max retries")
		}
		c.MaxRetries = v
	case optRetryDelay:
		v, ok := num()
		if !ok || v < 0 || v > math.MaxUint32 {
			return bad("retry delay")
		}
		c.SleepBetweenRetries = ms(v)
	case optPreferRacks:
		c.PreferRacks.set(a.arg)
	case optS3MinPartSize:
		v, ok := num()
		if !ok || v <= 0 || uint64(v) > math.MaxUint64/mib {
			return p.out.failLines("Invalid S3 min part size value " + a.arg)
		}
		c.S3.MinPartSize = mulMiB(v)
	case optS3MaxAsyncUploads:
		v, ok := num()
		if !ok || v <= 0 || v > math.MaxUint32 {
			return p.out.failLines("Invalid S3 max async uploads value " + a.arg)
		}
		c.S3.MaxAsyncUploads = v
	default:
		// --tlsEncryptOnly and anything unhandled.
		p.out.raw(runWithHelp)
		return p.out.fail(nil)
	}
	return nil
}

// mulMiB multiplies a MiB count by 1 MiB with the legacy uint64 wrap-around.
func mulMiB(v int64) int64 { return int64(uint64(v) * mib) }

// truncate cuts s to at most n bytes (legacy fixed-size name buffers).
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// validateBackup is legacy backup_config_validate: the checks in their
// order, then the estimate warnings.
func (p *parser) validateBackup(c *BackupConfig) *Error {
	if c.Cluster.Port < 0 {
		c.Cluster.Port = DefaultPort
	}
	fail := p.out.failLines
	if c.Namespace == "" && !c.RemoveArtifacts {
		return fail("Please specify a namespace (-n option)")
	}
	if len(c.Sets) > 1 && c.FilterExp.Set {
		return fail("Multi-set backup and filter-exp are mutually exclusive")
	}
	if c.FilterExp.Set && (DateActive(c.ModifiedAfter) || DateActive(c.ModifiedBefore) || c.NoTTLOnly) {
		return fail("--filter-exp is mutually exclusive with --modified-after, --modified-before, and --no-ttl-only")
	}
	if c.Compress == CompressNone && c.CompressionLevel != 0 {
		return fail("Cannot set compression level without compression enabled")
	}
	if (c.Key != nil) != (c.Encrypt != EncryptNone) {
		return fail("Must specify both encryption mode and a private key file/environment variable")
	}
	outs := 0
	if c.Directory.Set {
		outs++
		c.Output = OutputDirectory
	}
	if c.OutputFile.Set {
		outs++
		c.Output = OutputFile
	}
	if c.Estimate {
		outs++
		c.Output = OutputEstimate
	}
	if outs > 1 {
		return fail("Invalid options: --directory, --output-file, and --estimate are mutually exclusive.")
	}
	if outs == 0 {
		return fail("Please specify a directory (-d), an output file (-o), or make an estimate (-e).")
	}
	if c.Estimate && c.NoRecords {
		return fail("Invalid options: -e and -R are mutually exclusive.")
	}
	if c.Estimate && c.Parallel != 0 {
		return fail("Estimate cannot be parallelized, don't set --parallel.")
	}
	if c.PartitionList.Set && c.AfterDigest.Set {
		return fail("after-digest and partition-list arguments are mutually exclusive")
	}
	if c.NodeList.Set && (c.PartitionList.Set || c.AfterDigest.Set) {
		return fail("node-list is mutually exclusive with after-digest and partition-list")
	}
	if c.Continue.Set && c.Estimate {
		return fail("--continue and --estimate arguments are mutually exclusive")
	}
	if c.Continue.Set && c.RemoveFiles {
		return fail("--continue and --remove-files arguments are mutually exclusive")
	}
	if c.Continue.Set && c.RemoveArtifacts {
		return fail("--continue and --remove-artifacts arguments are mutually exclusive")
	}
	if c.Estimate && c.RemoveArtifacts {
		return fail("--estimate and --remove-artifacts arguments are mutually exclusive")
	}
	if c.S3.MinPartSize != 0 && (uint64(c.S3.MinPartSize) < 5*mib || uint64(c.S3.MinPartSize) > 5120*mib) {
		return fail("S3 minimum part size must be between 5 MB and 5 GB (5120 MB)")
	}
	if c.Estimate {
		if c.FilterExp.Set || c.NodeList.Set || DateActive(c.ModifiedAfter) || DateActive(c.ModifiedBefore) ||
			c.NoTTLOnly || c.AfterDigest.Set || c.PartitionList.Set {
			p.out.info("Warning: using estimate with any of the following will ignore their effects when calculating estimated time/storage: filter-exp, node-list, modified-after, modified-before, no-ttl-only, after-digest, partition-list")
		}
		if c.MaxRecords > 0 {
			p.out.info("Warning: max-records is ignored with --estimate, use --estimate-samples to limit the number of backup samples taken (default is 10,000)")
		}
	}
	return nil
}

// EffectiveParallel returns the number of scan threads: --parallel if
// given, else 16 with --node-list when not estimating, else 1.
func (c *BackupConfig) EffectiveParallel() int {
	if c.Parallel > 0 {
		return c.Parallel
	}
	if c.NodeList.Set && !c.Estimate {
		return 16
	}
	return 1
}
