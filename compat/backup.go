package compat

import "math"

// Backup defaults.
const (
	DefaultFileLimit       = 250 << 20
	DefaultEstimateSamples = 10000
	maxBackupParallel      = 100
	mib                    = 1 << 20
)

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
	return parseTool(backupTool, args, env, newBackupConfig, func(p *parser, c *BackupConfig) toolPasses {
		return toolPasses{
			setting:  func(s ConfigSetting, key string, v settingValue) *Error { return p.applyBackupSetting(c, s, key, v) },
			option:   func(a *mainArg) *Error { return p.applyBackupOption(c, a) },
			validate: func() *Error { return p.validateBackup(c) },
		}
	})
}

func (c *BackupConfig) parts() toolParts {
	return toolParts{&c.Cluster, &c.S3, &c.Key, &c.SecretAgent, &c.Messages}
}

// applyBackupOption applies one asbackup option of the main pass.
func (p *parser) applyBackupOption(c *BackupConfig, a *mainArg) *Error {
	if ok, e := p.applyClusterOption(a); ok {
		return e
	}
	if ok, e := p.applyS3Option(a); ok {
		return e
	}
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
		return intOption(p, a, "file limit", atLeast(1), &c.FileLimit, mulMiB)
	case 'r':
		c.RemoveFiles = true
	case optRemoveArtifacts:
		c.RemoveArtifacts = true
	case optEstimateSamples:
		return intOption(p, a, "estimate-samples", inRange(1, math.MaxUint32), &c.EstimateSamples, identity)
	case 'L':
		return intOption(p, a, "records-per-second", inRange(0, math.MaxUint32), &c.RecordsPerSecond, identity)
	case 'v':
		c.Verbose, p.out.verbose = true, true
	case 'x':
		c.NoBins = true
	case 'C':
		c.Compact = true
	case 'w':
		return intOption(p, a, "parallelism", inRange(1, maxBackupParallel), &c.Parallel, toInt)
	case 'z':
		m, ok := parseCompress(a.arg)
		if !ok {
			return p.out.failLines(`Invalid compression type "` + a.arg + `"`)
		}
		c.Compress = m
	case optCompressionLevel:
		return intOption(p, a, "compression-level", inRange(math.MinInt32, math.MaxInt32), &c.CompressionLevel, toInt)
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
		return intOption(p, a, "max-records", atLeast(0), &c.MaxRecords, identity)
	case 'm':
		c.Machine.set(a.arg)
	case 'e':
		c.Estimate = true
	case 'N':
		return intOption(p, a, "bandwidth", inRange(1, math.MaxUint64/mib), &c.Bandwidth, mulMiB)
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
		return intOption(p, a, "socket timeout", inRange(0, math.MaxUint32), &c.SocketTimeout, ms)
	case optTotalTimeout:
		return intOption(p, a, "total timeout", inRange(0, math.MaxUint32), &c.TotalTimeout, ms)
	case optMaxRetries:
		return intOption(p, a, "max retries", inRange(0, math.MaxUint32), &c.MaxRetries, identity)
	case optRetryDelay:
		return intOption(p, a, "retry delay", inRange(0, math.MaxUint32), &c.SleepBetweenRetries, ms)
	case optPreferRacks:
		c.PreferRacks.set(a.arg)
	case optS3MinPartSize:
		return intOption(p, a, "S3 min part size", inRange(1, math.MaxUint64/mib), &c.S3.MinPartSize, mulMiB)
	case optS3MaxAsyncUploads:
		return intOption(p, a, "S3 max async uploads", inRange(1, math.MaxUint32), &c.S3.MaxAsyncUploads, identity)
	default:
		// --tlsEncryptOnly and anything unhandled.
		p.out.raw(runWithHelp)
		return p.out.fail(nil)
	}
	return nil
}

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
