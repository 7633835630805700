package compat

import "asbtools/msg"

// Backup defaults.
const (
	DefaultFileLimit       = 250 << 20
	DefaultEstimateSamples = 10000
	maxBackupParallel      = 100
	mib                    = 1 << 20
)

// ParseBackup parses asbackup's command line exactly like the legacy tool:
// args is the full argv (args[0] is the program name as invoked, used in
// getopt diagnostics). On ActionRun the configuration is valid and its
// Messages must be printed before running; on ActionHelp/ActionVersion print
// BackupUsage(args[0]) / VersionText("asbackup") and exit 0; on ActionFail
// the error is a *msg.Error with the messages to print and the exit code.
func ParseBackup(args []string, env Env) (*BackupConfig, Action, error) {
	c := &BackupConfig{}
	a, err := parseTool(backupTool, args, env, target{Common: &c.Common, b: c}, func(p *parser) *msg.Error { return p.validateBackup(c) })
	if a != ActionRun {
		return nil, a, err
	}
	return c, a, nil
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
func (p *parser) validateBackup(c *BackupConfig) *msg.Error {
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
