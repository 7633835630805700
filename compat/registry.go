package compat

import (
	"math"
	"time"

	"asbtools/msg"
)

// The option registries of the two tools. Every option is declared once, in
// one option value: its long names (the first is the name; the others are
// aliases with the same getopt code), short letter, argument kind, the
// configuration-file section and keys that set it, the legacy pass that
// applies it, its help text, its default, and how a command-line argument
// and a configuration value are validated (with the legacy messages) and
// stored into the configuration. The getopt tables, the astools.conf keys
// (for the configuration pass and for package conf), the option application
// of every pass and the --help text are all built from these lists.
//
// The lists are in --help order; entries without names are help text that
// belongs to no option. The getopt table order (which glibc's "is
// ambiguous; possibilities" message follows) is the legacy order given by
// getoptOrder.

// backupRegistry returns asbackup's options.
func backupRegistry(t *toolDef) []option {
	return concatRegistry(
		headOptions(t),
		clusterOptions(t),
		[]option{
			helpText("[asbackup]\n"),
			{long: names("namespace"), short: 'n', arg: requiredArgument, sect: toolSection, keys: names("namespace"), help: "  -n, --namespace <namespace>\n" +
				"                      The namespace to be backed up. Required.\n",
				binding: binding{
					cli: func(_ *parser, x target, a *mainArg) *msg.Error { x.b.Namespace = truncate(a.arg, 31); return nil },
					conf: func(s toolSetting, x target) *settingError {
						var ns string
						if e := s.str(&ns); e != nil {
							return e
						}
						x.b.Namespace = truncate(ns, 31)
						return nil
					},
				}},
			{long: names("set"), short: 's', arg: requiredArgument, sect: toolSection, keys: names("set"), help: "  -s, --set <set>[,<set2>[,...]]\n" +
				"                      The set(s) to be backed up. Default: all sets.\n" +
				"                      If multiple sets are being backed up, filter-exp cannot be used\n",
				binding: binding{
					cli: func(p *parser, x target, a *mainArg) *msg.Error {
						sets, e := ParseSetList(x.b.Sets, a.arg)
						if e != nil {
							return p.out.fail(e)
						}
						x.b.Sets = sets
						return nil
					},
					conf: func(s toolSetting, x target) *settingError {
						str, ok := s.v.asString()
						if !ok {
							return s.bad()
						}
						sets, e := ParseSetList(x.b.Sets, str)
						x.b.Sets = sets
						if e != nil {
							return s.badWith(e)
						}
						return nil
					},
				}},
			{long: names("directory"), short: 'd', arg: requiredArgument, sect: toolSection, keys: names("directory"), help: "  -d, --directory <directory>\n" +
				"                      The directory that holds the backup files. Required, \n" +
				"                      unless -o or -e is used.\n",
				binding: text(func(x target) *Opt { return &x.b.Directory })},
			{long: names("output-file"), short: 'o', arg: requiredArgument, sect: toolSection, keys: names("output-file"), help: "  -o, --output-file <file>\n" +
				"                      Backup to a single backup file. Use - for stdout.\n" +
				"                      Required, unless -d or -e is used.\n",
				binding: text(func(x target) *Opt { return &x.b.OutputFile })},
			{long: names("output-file-prefix"), short: 'q', arg: requiredArgument, sect: toolSection, keys: names("output-file-prefix"), help: "  -q, --output-file-prefix <prefix>\n" +
				"                      When using directory parameter, prepend a prefix to the names of the generated files.\n",
				binding: text(func(x target) *Opt { return &x.b.OutputPrefix })},
			helpText("  -v, --verbose       Enable verbose output. Default: disabled\n"),
			{long: names("remove-files"), short: 'r', arg: noArgument, sect: toolSection, keys: names("remove-files"), help: "  -r, --remove-files\n" +
				"                      Remove existing backup file (-o) or files (-d).\n",
				binding: flag(func(x target) *bool { return &x.b.RemoveFiles })},
			{long: names("remove-artifacts"), arg: noArgument, sect: toolSection, keys: names("remove-artifacts"), help: "      --remove-artifacts\n" +
				"                      Remove existing backup file (-o) or files (-d) without performing a backup.\n" +
				"                      This option is mutually exclusive to --continue and --estimate.\n",
				binding: flag(func(x target) *bool { return &x.b.RemoveArtifacts })},
			{long: names("continue"), short: 'c', arg: requiredArgument, sect: toolSection, keys: names("continue"), help: "  -c, --continue <state_file>\n" +
				"                      Resumes an interrupted/failed backup from where it was left off, given the .state file\n" +
				"                      that was generated from the interrupted/failed run.\n",
				binding: text(func(x target) *Opt { return &x.b.Continue })},
			{long: names("state-file-dst"), arg: requiredArgument, sect: toolSection, keys: names("state-file-dst"), help: "  --state-file-dst <path>\n" +
				"                      Either a path with a file name or a directory in which the backup state file will be\n" +
				"                      placed if the backup is interrupted/fails. If a path with a file name is used, that\n" +
				"                      exact path is where the backup file will be placed. If a directory is given, the backup\n" +
				"                      state will be placed in the directory with name `<namespace>.asb.state`, or\n" +
				"                      `<prefix>.asb.state` if `--output-file-prefix` is given.\n",
				binding: text(func(x target) *Opt { return &x.b.StateFileDst })},
			{long: names("file-limit"), short: 'F', arg: requiredArgument, sect: toolSection, keys: names("file-limit"), help: "  -F, --file-limit\n" +
				"                      Rotate backup files, when their size crosses the given\n" +
				"                      value (in MiB) Only used when backing up to a directory.\n" +
				"                      Default: 250.\n",
				binding: number(func(x target) *int64 { return &x.b.FileLimit }, DefaultFileLimit,
					"file limit", rule(atLeast(1), mulMiB), rule(positive, mulMiB))},
			{long: names("records-per-second"), short: 'L', arg: requiredArgument, sect: toolSection, keys: names("records-per-second"), help: "  -L, --records-per-second <rps>\n" +
				"                      Limit total returned records per second (rps).\n" +
				"                      Do not apply rps limit if records-per-second is zero.\n" +
				"                      Default: 0.\n",
				binding: number(func(x target) *int64 { return &x.b.RecordsPerSecond }, 0,
					"records-per-second", rule(inRange(0, math.MaxUint32), identity), rule(nil, uint32Cast))},
			verboseOption(t,
				"  -v, --verbose\n"+
					"                      Enable more detailed logging.\n"),
			{long: names("no-bins"), short: 'x', arg: noArgument, sect: toolSection, keys: names("no-bins"), help: "  -x, --no-bins\n" +
				"                      Do not include bin data in the backup.\n",
				binding: flag(func(x target) *bool { return &x.b.NoBins })},
			{long: names("compact"), short: 'C', arg: noArgument, sect: toolSection, keys: names("compact"), help: "  -C, --compact\n" +
				"                      Do not apply base-64 encoding to BLOBs; results in smaller\n" +
				"                      backup files.\n",
				binding: flag(func(x target) *bool { return &x.b.Compact })},
			compressOption(t,
				"  -z, --compress <compression_algorithm>\n"+
					"                      Enables compressing of backup files using the specified compression algorithm.\n"+
					"                      Supported compression algorithms are: zstd\n"+
					"                      Set the zstd compression level via the --compression-level option. Default level is 3.\n"),
			{long: names("compression-level"), arg: requiredArgument, sect: toolSection, keys: names("compression-level"),
				binding: number(func(x target) *int { return &x.CompressionLevel }, 0,
					"compression-level", rule(inRange(math.MinInt32, math.MaxInt32), toInt), rule(nil, int32ToInt))},
			encryptOption(t,
				"  -y, --encrypt <encryption_algorithm>\n"+
					"                      Enables encryption of backup files using the specified encryption algorithm.\n"+
					"                      A private key must be given, either via the --encryption-key-file option or\n"+
					"                      the --encryption-key-env option.\n"+
					"                      Supported encryption algorithms are: aes128, aes256\n"),
			keyFileOption(
				"      --encryption-key-file <path>\n" +
					"                      Grabs the encryption key from the given file, which must be in PEM format.\n"),
			keyEnvOption(
				"      --encryption-key-env <env_var_name>\n" +
					"                      Grabs the encryption key from the given environment variable, which must be base-64 encoded.\n"),
			{long: names("bin-list"), short: 'B', arg: requiredArgument, sect: toolSection, keys: names("bin-list"), help: "  -B, --bin-list <bin 1>[,<bin 2>[,...]]\n" +
				"                      Only include the given bins in the backup.\n" +
				"                      Default: include all bins.\n",
				binding: text(func(x target) *Opt { return &x.b.BinList })},
			{long: names("node-list"), short: 'l', arg: requiredArgument, sect: toolSection, keys: names("node-list"), help: "  -l, --node-list <IP addr 1>:<port 1>[,<IP addr 2>:<port 2>[,...]]\n" +
				"                      <IP addr 1>:<TLS_NAME 1>:<port 1>[,<IP addr 2>:<TLS_NAME 2>:<port 2>[,...]]\n" +
				"                      Backup the given cluster nodes only.\n" +
				"                      The job is parallelized over 16 scans unless --parallel is set to another value.\n" +
				"                      This argument is mutually exclusive to partition-list/after-digest arguments.\n" +
				"                      Default: backup all nodes in the cluster\n",
				binding: text(func(x target) *Opt { return &x.b.NodeList })},
			{long: names("parallel"), short: 'w', arg: requiredArgument, sect: toolSection, keys: names("parallel"), help: "  -w, --parallel <n>\n" +
				"                      Maximum number of scan calls to run in parallel. Default: 1\n" +
				"                      If only one partition range is given, or the entire namespace is being backed up, the range\n" +
				"                      of partitions will be evenly divided by this number to be processed in parallel. Otherwise, each\n" +
				"                      filter cannot be parallelized individually, so you may only achieve as much parallelism as there are\n" +
				"                      partition filters.\n",
				binding: number(func(x target) *int { return &x.b.Parallel }, 0,
					"parallelism", rule(inRange(1, maxBackupParallel), toInt), rule(positive, int32ToInt))},
			{long: names("partition-list"), short: 'X', arg: requiredArgument, sect: toolSection, keys: names("partition-list"), help: "  -X, --partition-list <filter[,<filter>[...]]>\n" +
				"                      List of partitions to back up. Partition filters can be ranges, individual partitions, or \n" +
				"                      records after a specific digest within a single partition.\n" +
				"                      This argument is mutually exclusive to after-digest.\n" +
				"                      Note: each partition filter is an individual task which cannot be parallelized, so you can only\n" +
				"                      achieve as much parallelism as there are partition filters. You may increase parallelism by dividing up\n" +
				"                      partition ranges manually.\n" +
				"                      Filter: <begin partition>[-<partition count>]|<digest>\n" +
				"                      begin partition: 0-4095\n" +
				"                      partition count: 1-4096 Default: 1\n" +
				"                      digest: base64 encoded string\n" +
				"                      Examples: 0-1000, 1000-1000, 2222, EjRWeJq83vEjRRI0VniavN7xI0U=\n" +
				"                      Default: 0-4096 (all partitions)\n",
				binding: text(func(x target) *Opt { return &x.b.PartitionList })},
			{long: names("after-digest"), short: 'D', arg: requiredArgument, sect: toolSection, keys: names("after-digest"), help: "  -D, --after-digest <digest>\n" +
				"                      Backup records after record digest in record's partition plus all succeeding\n" +
				"                      partitions. Used to resume backup with last record received from previous\n" +
				"                      incomplete backup.\n" +
				"                      This argument is mutually exclusive to partition-list.\n" +
				"                      Format: base64 encoded string\n" +
				"                      Example: EjRWeJq83vEjRRI0VniavN7xI0U=\n",
				binding: text(func(x target) *Opt { return &x.b.AfterDigest })},
			{long: names("filter-exp"), short: 'f', arg: requiredArgument, sect: toolSection, keys: names("filter-exp"), help: "  -f, --filter-exp <b64 encoded expression>\n" +
				"                      Use the encoded filter expression in each scan call,\n" +
				"                      which can be used to do a partial backup.\n" +
				"                      The expression to be used can be base64 encoded through any client.\n" +
				"                      This argument is mutually exclusive with multi-set backup,\n" +
				"                      --modified-after, --modified-before, and --no-ttl-only.\n",
				binding: text(func(x target) *Opt { return &x.b.FilterExp })},
			{long: names("max-records"), short: 'M', arg: requiredArgument, sect: toolSection, keys: names("max-records"), help: "  -M, --max-records <number of records>\n" +
				"                      The number of records approximately to back up. Default: all records\n",
				binding: number(func(x target) *int64 { return &x.b.MaxRecords }, 0,
					"max-records", rule(atLeast(0), identity), rule(nil, identity))},
			machineOption(
				"  -m, --machine <path>\n" +
					"                      Output machine-readable status updates to the given path, \n" +
					"                       typically a FIFO.\n"),
			{long: names("estimate"), short: 'e', arg: noArgument, sect: toolSection, keys: names("estimate"), help: "  -e, --estimate\n" +
				"                      Estimate the backed-up record size from a random sample of \n" +
				"                      10,000 (default) records at 99.9999% confidence.\n",
				binding: flag(func(x target) *bool { return &x.b.Estimate })},
			{long: names("estimate-samples"), arg: requiredArgument, sect: toolSection, keys: names("estimate-samples"), help: "      --estimate-samples <n>\n" +
				"                      The number of samples to take when running a backup estimate.\n",
				binding: number(func(x target) *int64 { return &x.b.EstimateSamples }, DefaultEstimateSamples,
					"estimate-samples", rule(inRange(1, math.MaxUint32), identity), rule(positive, uint32Trunc))},
			{long: names("nice"), short: 'N', arg: requiredArgument, sect: toolSection, keys: names("nice"), help: "  -N, --nice <bandwidth>\n" +
				"                      The limit for write storage bandwidth in MiB/s.\n",
				binding: number(func(x target) *int64 { return &x.b.Bandwidth }, 0,
					"bandwidth", rule(inRange(1, math.MaxUint64/mib), mulMiB), rule(positive, mulMiB))},
			{long: names("no-records"), short: 'R', arg: noArgument, sect: toolSection, keys: names("no-records"), help: "  -R, --no-records\n" +
				"                      Don't backup any records.\n",
				binding: flag(func(x target) *bool { return &x.b.NoRecords })},
			{long: names("no-indexes"), short: 'I', arg: noArgument, sect: toolSection, keys: names("no-indexes"), help: "  -I, --no-indexes\n" +
				"                      Don't backup any indexes.\n",
				binding: flag(func(x target) *bool { return &x.b.NoIndexes })},
			{long: names("no-udfs"), short: 'u', arg: noArgument, sect: toolSection, keys: names("no-udfs"), help: "  -u, --no-udfs\n" +
				"                      Don't backup any UDFs.\n",
				binding: flag(func(x target) *bool { return &x.b.NoUDFs })},
			{long: names("modified-after"), short: 'a', arg: requiredArgument, sect: toolSection, keys: names("modified-after"), help: "  -a, --modified-after <YYYY-MM-DD_HH:MM:SS>\n" +
				"                      Perform an incremental backup; only include records \n" +
				"                      that changed after the given date and time. The system's \n" +
				"                      local timezone applies. If only HH:MM:SS is specified, then\n" +
				"                      today's date is assumed as the date. If only YYYY-MM-DD is \n" +
				"                      specified, then 00:00:00 (midnight) is assumed as the time.\n" +
				"                      This argument is mutually exclusive with --filter-exp.\n",
				binding: dateTime(func(x target) *time.Time { return &x.b.ModifiedAfter })},
			{long: names("modified-before"), short: 'b', arg: requiredArgument, sect: toolSection, keys: names("modified-before"), help: "  -b, --modified-before <YYYY-MM-DD_HH:MM:SS>\n" +
				"                      Only include records that last changed before the given\n" +
				"                      date and time. May be combined with --modified-after to specify\n" +
				"                      a range.\n" +
				"                      This argument is mutually exclusive with --filter-exp.\n",
				binding: dateTime(func(x target) *time.Time { return &x.b.ModifiedBefore })},
			{long: names("no-ttl-only"), arg: noArgument, sect: toolSection, keys: names("no-ttl-only"), help: "      --no-ttl-only\n" +
				"                      Only include records that have no ttl set (persistent records).\n" +
				"                      This argument is mutually exclusive with --filter-exp.\n",
				binding: flag(func(x target) *bool { return &x.b.NoTTLOnly })},
			{long: names("socket-timeout"), arg: requiredArgument, sect: toolSection, keys: names("socket-timeout"), help: "      --socket-timeout <ms>\n" +
				"                      Socket timeout in milliseconds. Default is 10 seconds.\n" +
				"                      If this value is 0, its set to total-timeout. If both are 0,\n" +
				"                      there is no socket idle time limit\n",
				binding: number(func(x target) *time.Duration { return &x.b.SocketTimeout }, DefaultSocketTimeout,
					"socket timeout", rule(inRange(0, math.MaxUint32), ms), rule(nonNegative32, msDuration))},
			{long: names("total-timeout"), arg: requiredArgument, sect: toolSection, keys: names("total-timeout"), help: "      --total-timeout <ms>\n" +
				"                      Total socket timeout in milliseconds. Default is 0, i.e. no timeout.\n",
				binding: number(func(x target) *time.Duration { return &x.b.TotalTimeout }, 0,
					"total timeout", rule(inRange(0, math.MaxUint32), ms), rule(nonNegative32, msDuration))},
			{long: names("max-retries"), arg: requiredArgument, sect: toolSection, keys: names("max-retries"), help: "      --max-retries <n>\n" +
				"                      Maximum number of retries before aborting the current transaction.\n" +
				"                      The default is 5.\n",
				binding: number(func(x target) *int64 { return &x.b.MaxRetries }, DefaultMaxRetries,
					"max retries", rule(inRange(0, math.MaxUint32), identity), rule(nonNegative32, uint32Cast))},
			{long: names("sleep-between-retries", "retry-delay"), arg: requiredArgument, sect: toolSection, keys: names("sleep-between-retries", "retry-delay"), help: "      --sleep-between-retries <ms>\n" +
				"                      The amount of time to sleep between retries. Default is 0.\n",
				binding: number(func(x target) *time.Duration { return &x.b.SleepBetweenRetries }, 0,
					"retry delay", rule(inRange(0, math.MaxUint32), ms), rule(nonNegative32, msDuration))},
			{long: names("prefer-racks"), arg: requiredArgument, sect: toolSection, keys: names("prefer-racks"), help: "      --prefer-racks <rack id 1>[,<rack id 2>[,...]]\n" +
				"                      A list of Aerospike Server rack IDs to prefer when reading records for a backup.\n",
				binding: text(func(x target) *Opt { return &x.b.PreferRacks })},
			s3Region(
				"      --s3-region <region>\n" +
					"                      The S3 region that the bucket(s) exist in.\n"),
			s3Profile(
				"      --s3-profile <profile_name>\n" +
					"                      The S3 profile to use for credentials (the default is \"default\").\n"),
			s3Endpoint(
				"      --s3-endpoint-override <url>\n" +
					"                      An alternate url endpoint to send S3 API calls to.\n"),
			{long: names("s3-min-part-size"), arg: requiredArgument, sect: toolSection, keys: names("s3-min-part-size"), help: "      --s3-min-part-size <megabytes>\n" +
				"                      The minimum size in megabytes of individual S3 UploadParts.\n",
				binding: number(func(x target) *int64 { return &x.S3.MinPartSize }, 0,
					"S3 min part size", rule(inRange(1, math.MaxUint64/mib), mulMiB), rule(positive, mulMiB))},
			s3MaxAsyncDownloads(
				"      --s3-max-async-downloads <n>\n" +
					"                      The maximum number of simultaneous download requests from S3.\n" +
					"                      The default is 32.\n"),
			{long: names("s3-max-async-uploads"), arg: requiredArgument, sect: toolSection, keys: names("s3-max-async-uploads"), help: "      --s3-max-async-uploads <n>\n" +
				"                      The maximum number of simultaneous upload requests from S3.\n" +
				"                      The default is 16.\n",
				binding: number(func(x target) *int64 { return &x.S3.MaxAsyncUploads }, DefaultS3MaxAsyncUploads,
					"S3 max async uploads", rule(inRange(1, math.MaxUint32), identity), rule(uint32Positive, identity))},
			s3LogLevel(
				"      --s3-log-level <n>\n" +
					"                      The log level of the AWS S3 C++ SDK. The possible levels are,\n" +
					"                      from least to most granular:\n" +
					"                       - Off\n" +
					"                       - Fatal\n" +
					"                       - Error\n" +
					"                       - Warn\n" +
					"                       - Info\n" +
					"                       - Debug\n" +
					"                       - Trace\n" +
					"                      The default is Fatal.\n"),
			s3ConnectTimeout(
				"      --s3-connect-timeout <ms>\n" +
					"                      The AWS S3 client's connection timeout in milliseconds.\n" +
					"                      This is equivalent to cli-connect-timeout in the AWS CLI,\n" +
					"                      or connectTimeoutMS in the aws-sdk-cpp client configuration.\n" +
					"\n"),
			s3AllowSystemProxy(
				"      --s3-allow-system-proxy\n" +
					"                      Allow the S3 client to honor the standard system proxy\n" +
					"                      environment variables (https_proxy / HTTPS_PROXY,\n" +
					"                      http_proxy, all_proxy / ALL_PROXY, no_proxy / NO_PROXY)\n" +
					"                      when contacting S3. Precedence and supported proxy URL\n" +
					"                      syntax follow libcurl. By default these variables are\n" +
					"                      ignored.\n" +
					"                      Note: if HTTPS_PROXY or HTTP_PROXY contains credentials\n" +
					"                      (e.g. https://user:pass@proxy:3128), those credentials\n" +
					"                      may appear in log output when --s3-log-level is set to\n" +
					"                      Debug or Trace.\n" +
					"\n" +
					"\n" +
					"\n"),
			helpText(
				"Default configuration files are read from the following files in the given order:\n" +
					"/etc/aerospike/astools.conf ~/.aerospike/astools.conf\n" +
					"The following sections are read: (cluster asbackup include)\n" +
					"The following options effect configuration file behavior\n"),
		},
		configFileOptions("asbackup"),
		agentOptions(),
	)
}

// backupGetoptOrder is asbackup's legacy long-option table order.
const backupGetoptOrder = commonGetoptOrder + `
	tls-cert-blacklist tls-log-session-info tls-keyfile tls-keyfile-password tls-certfile
	compact parallel compress compression-level encrypt encryption-key-file encryption-key-env
	no-bins bin-list node-list no-records no-indexes no-udfs services-alternate namespace set
	directory output-file output-file-prefix continue state-file-dst file-limit remove-files
	remove-artifacts estimate-samples partition-list after-digest filter-exp modified-after
	modified-before no-ttl-only records-per-second max-records machine estimate nice
	socket-timeout total-timeout max-retries sleep-between-retries retry-delay prefer-racks
	s3-region s3-profile s3-endpoint-override s3-min-part-size s3-max-async-downloads
	s3-max-async-uploads s3-log-level s3-connect-timeout s3-allow-system-proxy
	sa-address sa-port sa-timeout sa-cafile`

// restoreRegistry returns asrestore's options.
func restoreRegistry(t *toolDef) []option {
	return concatRegistry(
		headOptions(t),
		clusterOptions(t),
		[]option{
			helpText("[asrestore]\n"),
			{long: names("namespace"), short: 'n', arg: requiredArgument, sect: toolSection, keys: names("namespace"), help: "  -n, --namespace <namespace>\n" +
				"                      Used to restore to a different namespace.\n",
				binding: text(func(x target) *Opt { return &x.r.Namespace })},
			{long: names("directory"), short: 'd', arg: requiredArgument, sect: toolSection, keys: names("directory"), help: "  -d, --directory <directory>\n" +
				"                      The directory that holds the backup files. Required, \n" +
				"                      unless -i or --directory-list is used.\n",
				binding: text(func(x target) *Opt { return &x.r.Directory })},
			{long: names("input-file"), short: 'i', arg: requiredArgument, sect: toolSection, keys: names("input-file"), help: "  -i, --input-file <file>\n" +
				"                      Restore from a single backup file. Use - for stdin.\n" +
				"                      Required, unless --directory or --directory-list is used.\n",
				binding: text(func(x target) *Opt { return &x.r.InputFile })},
			{long: names("directory-list"), arg: requiredArgument, sect: toolSection, keys: names("directory-list"), help: "      --directory-list <path 1>[,<path2[,...]]\n" +
				"                      A comma seperated list of paths to directories that hold the backup files. Required, \n" +
				"                      unless -i or -d is used. The paths may not contain commas.\n" +
				"                      Example: `asrestore --directory-list /path/to/dir1/,/path/to/dir2`\n",
				binding: text(func(x target) *Opt { return &x.r.DirectoryList })},
			{long: names("parent-directory"), arg: requiredArgument, sect: toolSection, keys: names("parent-directory"), help: "      --parent-directory <directory>\n" +
				"                      A common root path for all paths used in --directory-list.\n" +
				"                      This path is prepended to all entries in --directory-list.\n" +
				"                      Example: `asrestore --parent-directory /common/root/path --directory-list /path/to/dir1/,/path/to/dir2`\n",
				binding: text(func(x target) *Opt { return &x.r.ParentDirectory })},
			compressOption(t,
				"  -z, --compress <compression_algorithm>\n"+
					"                      Enables decompressing of backup files using the specified compression algorithm.\n"+
					"                      This must match the compression mode used when backing up the data.\n"+
					"                      Supported compression algorithms are: zstd\n"),
			encryptOption(t,
				"  -y, --encrypt <encryption_algorithm>\n"+
					"                      Enables decryption of backup files using the specified encryption algorithm.\n"+
					"                      This must match the encryption mode used when backing up the data.\n"+
					"                      A private key must be given, either via the --encryption-key-file option or\n"+
					"                      the --encryption-key-env option.\n"+
					"                      Supported encryption algorithms are: aes128, aes256\n"),
			keyFileOption(
				"      --encryption-key-file <path>\n" +
					"                      Grabs the encryption key from the given file, which must be in PEM format.\n"),
			keyEnvOption(
				"      --encryption-key-env <env_var_name>\n" +
					"                      Grabs the encryption key from the given environment variable, which must be base-64 encoded.\n"),
			{long: names("parallel"), short: 't', arg: requiredArgument, sect: toolSection, keys: names("parallel", "threads"), help: "  -t, --parallel\n" +
				"                      The number of restore threads. Default: 20.\n",
				binding: number(func(x target) *int { return &x.r.Parallel }, DefaultRestoreThreads,
					"threads", rule(inRange(1, maxRestoreThreads), toInt), rule(inRange(1, maxRestoreThreads), toInt))},
			{long: names("threads"), arg: requiredArgument, help: "  -t, --threads\n" +
				"                      The number of restore threads. DEPRECATED: use 'parallel' now. Default: 20.\n",
				binding: binding{cli: func(p *parser, x target, a *mainArg) *msg.Error {
					p.out.err("WARNING: '--threads' option is deprecated, use `--parallel` instead")
					return intOption(p, a, "threads", inRange(1, maxRestoreThreads), &x.r.Parallel, toInt)
				}}},
			machineOption(
				"  -m, --machine <path>\n" +
					"                      Output machine-readable status updates to the given path, \n" +
					"                       typically a FIFO.\n"),
			{long: names("bin-list"), short: 'B', arg: requiredArgument, sect: toolSection, keys: names("bin-list"), help: "  -B, --bin-list <bin 1>[,<bin 2>[,...]]\n" +
				"                      Only restore the given bins in the backup.\n" +
				"                      Default: restore all bins.\n",
				binding: text(func(x target) *Opt { return &x.r.BinList })},
			{long: names("set-list"), short: 's', arg: requiredArgument, sect: toolSection, keys: names("set-list"), help: "  -s, --set-list <set 1>[,<set 2>[,...]]\n" +
				"                      Only restore the given sets from the backup.\n" +
				"                      Default: restore all sets.\n",
				binding: text(func(x target) *Opt { return &x.r.SetList })},
			{long: names("ignore-record-error"), arg: noArgument, sect: toolSection, keys: names("ignore-record-error"), help: "  --ignore-record-error\n" +
				"                      Ignore permanent record specific error. e.g AEROSPIKE_RECORD_TOO_BIG.\n" +
				"                      By default such errors are not ignored and asrestore terminates.\n" +
				"                      Optional: Use verbose mode to see errors in detail. \n",
				binding: flag(func(x target) *bool { return &x.r.IgnoreRecordError })},
			{long: names("unique"), short: 'u', arg: noArgument, sect: toolSection, keys: names("unique"), help: "  -u, --unique\n" +
				"                      Skip records that already exist in the namespace;\n" +
				"                      Don't touch them.\n",
				binding: flag(func(x target) *bool { return &x.r.Unique })},
			{long: names("replace"), short: 'r', arg: noArgument, sect: toolSection, keys: names("replace"), help: "  -r, --replace\n" +
				"                      Fully replace records that already exist in the \n" +
				"                      namespace; don't update them.\n",
				binding: flag(func(x target) *bool { return &x.r.Replace })},
			{long: names("no-generation"), short: 'g', arg: noArgument, sect: toolSection, keys: names("no-generation"), help: "  -g, --no-generation\n" +
				"                      Don't check the generation of records that already\n" +
				"                      exist in the namespace.\n",
				binding: flag(func(x target) *bool { return &x.r.NoGeneration })},
			{long: names("extra-ttl"), arg: requiredArgument, sect: toolSection, keys: names("extra-ttl"), help: "  -l, --extra-ttl\n" +
				"                      For records with expirable void-times, add N seconds of extra-ttl to the\n" +
				"                      recorded void-time.\n",
				binding: number(func(x target) *int64 { return &x.r.ExtraTTL }, 0,
					"extra-ttl", rule(inRange(0, math.MaxInt32), identity), rule(nil, int32Cast))},
			{long: names("nice"), short: 'N', arg: requiredArgument, sect: toolSection, keys: names("nice"), help: "  -N, --nice <bandwidth>,<TPS>\n" +
				"                      The limits for read storage bandwidth in MiB/s and \n" +
				"                      write operations in TPS.\n",
				binding: text(func(x target) *Opt { return &x.r.Nice })},
			{sect: toolSection, keys: names("bandwidth"),
				binding: number(func(x target) *int64 { return &x.r.Bandwidth }, 0, "", rule[int64](nil, nil), rule(positive, mulMiB))},
			{sect: toolSection, keys: names("tps"),
				binding: number(func(x target) *int64 { return &x.r.TPS }, 0, "", rule[int64](nil, nil), rule(nil, uint32Cast))},
			{long: names("validate"), arg: noArgument, sect: toolSection, keys: names("validate"), help: "      --validate\n" +
				"                      Validate backup files but don't restore anything.\n",
				binding: flag(func(x target) *bool { return &x.r.Validate })},
			{long: names("no-records"), short: 'R', arg: noArgument, sect: toolSection, keys: names("no-records"), help: "  -R, --no-records\n" +
				"                      Don't restore any records.\n",
				binding: flag(func(x target) *bool { return &x.r.NoRecords })},
			{long: names("no-indexes"), short: 'I', arg: noArgument, sect: toolSection, keys: names("no-indexes"), help: "  -I, --no-indexes\n" +
				"                      Don't restore any secondary indexes.\n",
				binding: flag(func(x target) *bool { return &x.r.NoIndexes })},
			{long: names("indexes-last"), short: 'L', arg: noArgument, sect: toolSection, keys: names("indexes-last"), help: "  -L, --indexes-last\n" +
				"                      Restore secondary indexes only after UDFs and records \n" +
				"                      have been restored.\n",
				binding: flag(func(x target) *bool { return &x.r.IndexesLast })},
			{long: names("no-udfs"), short: 'F', arg: noArgument, sect: toolSection, keys: names("no-udfs"), help: "  -F, --no-udfs\n" +
				"                      Don't restore any UDFs.\n",
				binding: flag(func(x target) *bool { return &x.r.NoUDFs })},
			{long: names("wait"), short: 'w', arg: noArgument, sect: toolSection, keys: names("wait"), help: "  -w, --wait\n" +
				"                      Wait for restored secondary indexes to finish building.\n" +
				"                      Wait for restored UDFs to be distributed across the cluster.\n",
				binding: flag(func(x target) *bool { return &x.r.Wait })},
			{long: names("timeout"), short: 'T', arg: requiredArgument, sect: toolSection, keys: names("timeout"), help: "  -T TIMEOUT, --timeout=TIMEOUT\n" +
				"                      Set the timeout (ms) for commands. Default: 10000\n",
				binding: number(func(x target) *time.Duration { return &x.r.Timeout }, DefaultRestoreTimeout,
					"timeout", rule(inRange(0, math.MaxUint32), ms), rule(atLeast(0), msUint32))},
			{long: names("socket-timeout"), arg: requiredArgument, sect: toolSection, keys: names("socket-timeout"), help: "      --socket-timeout <ms>\n" +
				"                      Socket timeout for write transactions in milliseconds.\n" +
				"                      Default is 10 seconds.\n" +
				"                      If this value is 0, its set to total-timeout. If both are 0,\n" +
				"                      there is no socket idle time limit.\n",
				binding: number(func(x target) *time.Duration { return &x.r.SocketTimeout }, DefaultSocketTimeout,
					"socket timeout", rule(inRange(0, math.MaxUint32), ms), rule(nonNegative32, msDuration))},
			{long: names("total-timeout"), arg: requiredArgument, sect: toolSection, keys: names("total-timeout"), help: "      --total-timeout <ms>\n" +
				"                      Total socket timeout for write transactions in milliseconds.\n" +
				"                      If this value is 0 and --timeout is set, then the --timeout\n" +
				"                      value is used as the write transaction timeout.\n" +
				"                      Default is 0, i.e. no timeout.\n",
				binding: number(func(x target) *time.Duration { return &x.r.TotalTimeout }, 0,
					"total timeout", rule(inRange(0, math.MaxUint32), ms), rule(nonNegative32, msDuration))},
			{long: names("max-retries"), arg: requiredArgument, sect: toolSection, keys: names("max-retries"), help: "      --max-retries <n>\n" +
				"                      Maximum number of retries before aborting the current write transaction.\n" +
				"                      The default is 5.\n",
				binding: number(func(x target) *int64 { return &x.r.MaxRetries }, DefaultMaxRetries,
					"max retries", rule(atLeast(0), identity), rule(nonNegative32, uint32Cast))},
			{long: names("retry-scale-factor"), arg: requiredArgument, sect: toolSection, keys: names("retry-scale-factor"), help: "      --retry-scale-factor <us>\n" +
				"                      The scale factor to use in the exponential backoff retry\n" +
				"                      strategy, in microseconds.\n" +
				"                      Default is 150000 us (150 ms).\n",
				binding: number(func(x target) *time.Duration { return &x.r.RetryScaleFactor }, DefaultRetryScaleFactor,
					"retry delay", rule(atLeast(0), us), rule(nonNegative32, func(v int64) time.Duration { return us(uint32Cast(v)) }))},
			{long: names("sleep-between-retries", "retry-delay"), arg: requiredArgument, sect: toolSection, keys: names("sleep-between-retries", "retry-delay"),
				binding: binding{
					cli: func(p *parser, _ target, _ *mainArg) *msg.Error {
						p.out.err("Warning: `--sleep-between-retries` and `--retry-delay` are deprecated and has no effect, use `--retry-scale-factor` to configure the amount to back off when retrying transactions.")
						return nil
					},
					conf: func(s toolSetting, _ target) *settingError {
						s.p.out.raw("Warning: `--" + s.key + "` is deprecated and has no effect, use `--retry-scale-factor` to configure the amount to back off when retrying transactions.")
						return nil
					},
				}},
			{long: names("disable-batch-writes"), arg: noArgument, sect: toolSection, keys: names("disable-batch-writes"), help: "      --disable-batch-writes\n" +
				"                      Disables the use of batch writes when restoring records to the\n" +
				"                      Aerospike cluster. By default, the cluster is checked for batch\n" +
				"                      write support, so only set this flag if you explicitly don't want\n" +
				"                      batch writes to be used or asrestore is failing to recognize that\n" +
				"                      batch writes are disabled and is failing to work because of it.\n",
				binding: flag(func(x target) *bool { return &x.r.DisableBatchWrites })},
			{long: names("max-async-batches"), arg: requiredArgument, sect: toolSection, keys: names("max-async-batches"), help: "      --max-async-batches <n>\n" +
				"                      The max number of outstanding async record batch write calls at a time.\n" +
				"                      For pre-6.0 servers, \"batches\" are only a logical grouping of\n" +
				"                      records, and each record is uploaded individually. The true max\n" +
				"                      number of async aerospike calls would then be\n" +
				"                      <max-async-batches> * <batch-size>\n" +
				"                      Default is 32.\n",
				binding: number(func(x target) *int64 { return &x.r.MaxAsyncBatches }, DefaultMaxAsyncBatches,
					"max-async-batches", rule(inRange(0, math.MaxUint32), identity), rule(nonNegative32, uint32Cast))},
			{long: names("batch-size"), arg: requiredArgument, sect: toolSection, keys: names("batch-size"), help: "      --batch-size <n>\n" +
				"                      The max allowed number of records to simultaneously upload\n" +
				"                      in an async batch write calls to make to aerospike at a time.\n" +
				"                      Default is 128 with batch writes enabled, or 16 without batch writes.\n",
				binding: number(func(x target) *int64 { return &x.r.BatchSize }, BatchSizeUndefined,
					"batch-size", rule(inRange(0, math.MaxUint32), identity), rule(nonNegative32, uint32Cast))},
			{long: names("event-loops"), arg: requiredArgument, sect: toolSection, keys: names("event-loops"), help: "      --event-loops <n>\n" +
				"                      The number of c-client event loops to initialize for\n" +
				"                      processing of asynchronous Aerospike transactions.\n" +
				"                      Default is 1.\n",
				binding: number(func(x target) *int64 { return &x.r.EventLoops }, DefaultEventLoops,
					"event-loops", rule(inRange(0, math.MaxUint32), identity), rule(nonNegative32, uint32Cast))},
			s3Region(
				"      --s3-region <region>\n" +
					"                      The S3 region that the bucket(s) exist in.\n"),
			s3Profile(
				"      --s3-profile <profile_name>\n" +
					"                      The S3 profile to use for credentials (the default is \"default\").\n"),
			s3Endpoint(
				"      --s3-endpoint-override <url>\n" +
					"                      An alternate url endpoint to send S3 API calls to.\n"),
			s3MaxAsyncDownloads(
				"      --s3-max-async-downloads <n>\n" +
					"                      The maximum number of simultaneous download requests from S3.\n"),
			s3LogLevel(
				"      --s3-log-level <n>\n" +
					"                      The log level of the AWS S3 C++ SDK. The possible levels are,\n" +
					"                      from least to most granular:\n" +
					"                       - Off\n" +
					"                       - Fatal\n" +
					"                       - Error\n" +
					"                       - Warn\n" +
					"                       - Info\n" +
					"                       - Debug\n" +
					"                       - Trace\n" +
					"                      The default is Fatal.\n"),
			s3ConnectTimeout(
				"      --s3-connect-timeout <ms>\n" +
					"                      The AWS S3 client's connection timeout in milliseconds.\n" +
					"                      This is equivalent to cli-connect-timeout in the AWS CLI,\n" +
					"                      or connectTimeoutMS in the aws-sdk-cpp client configuration.\n" +
					"\n"),
			s3AllowSystemProxy(
				"      --s3-allow-system-proxy\n" +
					"                      Allow the S3 client to honor the standard system proxy\n" +
					"                      environment variables (https_proxy / HTTPS_PROXY,\n" +
					"                      http_proxy, all_proxy / ALL_PROXY, no_proxy / NO_PROXY)\n" +
					"                      when contacting S3. Precedence and supported proxy URL\n" +
					"                      syntax follow libcurl. By default these variables are\n" +
					"                      ignored.\n" +
					"                      Note: if HTTPS_PROXY or HTTP_PROXY contains credentials\n" +
					"                      (e.g. https://user:pass@proxy:3128), those credentials\n" +
					"                      may appear in log output when --s3-log-level is set to\n" +
					"                      Debug or Trace.\n" +
					"\n" +
					"\n" +
					"\n"),
			helpText(
				"Default configuration files are read from the following files in the given order:\n" +
					"/etc/aerospike/astools.conf ~/.aerospike/astools.conf\n" +
					"The following sections are read: (cluster asrestore include)\n" +
					"The following options effect configuration file behavior\n"),
		},
		configFileOptions("asrestore"),
		agentOptions(),
	)
}

// restoreGetoptOrder is asrestore's legacy long-option table order.
const restoreGetoptOrder = commonGetoptOrder + `
	tls-cert-blackList tls-log-session-info tls-keyfile tls-keyfile-password tls-certfile
	namespace directory directory-list parent-directory input-file compress encrypt
	encryption-key-file encryption-key-env parallel threads machine bin-list set-list unique
	ignore-record-error replace no-generation extra-ttl nice validate no-records no-indexes
	indexes-last no-udfs wait services-alternate timeout socket-timeout total-timeout
	max-retries retry-scale-factor sleep-between-retries retry-delay disable-batch-writes
	max-async-batches batch-size event-loops
	s3-region s3-profile s3-endpoint-override s3-max-async-downloads s3-log-level
	s3-connect-timeout s3-allow-system-proxy
	sa-address sa-port sa-timeout sa-cafile`

// commonGetoptOrder is the start of both legacy long-option tables.
const commonGetoptOrder = `
	verbose usage help options version instance config-file no-config-file only-config-file
	host port user password auth
	tlsEnable tlsEncryptOnly tlsName tlsCaFile tlsCaPath tlsProtocols tlsCipherSuite
	tlsCrlCheck tlsCrlCheckAll tlsCertBlackList tlsLogSessionInfo tlsKeyFile tlsCertFile
	tls-enable tls-name tls-cafile tls-capath tls-protocols tls-cipher-suite tls-crl-check
	tls-crl-check-all`

// headOptions are the options listed first in both tools' help.
func headOptions(t *toolDef) []option {
	opts := []option{
		helpText("------------------------------------------------------------------------------\n"),
		{long: names("version"), short: 'V', arg: noArgument, pass: helpPass, help: pick(t, " -V, --version        Print ASBACKUP version information.\n", " -V, --version        Print ASRESTORE version information.\n")},
		helpText(" -O, --options        Print command-line options message.\n"),
		{long: names("usage", "help", "options"), short: 'Z', arg: noArgument, pass: helpPass, help: pick(t,
			" -Z, --usage          Display this message.\n"+
				"\n"+
				"\n",
			" -Z, --usage          Display this message.\n"+
				"\n")},
	}
	if t.restore {
		opts = append(opts, verboseOption(t,
			" -v, --verbose        Enable verbose output. Default: disabled\n"+
				"\n"))
	}
	return append(opts, helpText(pick(t,
		"Configuration File Allowed Options\n"+
			"----------------------------------\n"+
			"\n",
		"Configuration File Allowed Options\n"+
			"----------------------------------\n"+
			"\n")))
}

// clusterOptions are the [cluster] options (connection, authentication,
// TLS) of both tools.
func clusterOptions(t *toolDef) []option {
	c := func(f func(c *ClusterConfig) *Opt) func(target) *Opt {
		return func(x target) *Opt { return f(&x.Cluster) }
	}
	cb := func(f func(c *ClusterConfig) *bool) func(target) *bool {
		return func(x target) *bool { return f(&x.Cluster) }
	}
	blacklist, blacklistWarning := "tls-cert-blacklist", func(p *parser, text string) { p.out.info(text) }
	if t.restore {
		blacklist, blacklistWarning = "tls-cert-blackList", func(p *parser, text string) { p.out.err(text) }
	}
	return []option{
		helpText("[cluster]\n"),
		{long: names("host"), short: 'h', arg: requiredArgument, sect: clusterSection, keys: names("host"), help: " -h HOST, --host=HOST\n" +
			"                      HOST is \"<host1>[:<tlsname1>][:<port1>],...\" \n" +
			"                      Server seed hostnames or IP addresses. The tlsname is \n" +
			"                      only used when connecting with a secure TLS enabled \n" +
			"                      server. Default: localhost:3000\n" +
			"                      Examples:\n" +
			"                        host1\n" +
			"                        host1:3000,host2:3000\n" +
			"                        192.168.1.10:cert1:3000,192.168.1.20:cert2:3000\n",
			binding: plain(func(x target) *string { return &x.Cluster.Host }, DefaultHost)},
		{long: names("services-alternate"), short: 'S', arg: noArgument, sect: clusterSection, keys: names("use-services-alternate"), help: " -S, --services-alternate\n" +
			"                      Use to connect to alternate access address when the \n" +
			"                      cluster's nodes publish IP addresses through access-address \n" +
			"                      which are not accessible over WAN and alternate IP addresses \n" +
			"                      accessible over WAN through alternate-access-address. Default: false.\n",
			binding: flag(cb(func(c *ClusterConfig) *bool { return &c.UseServicesAlternate }))},
		{long: names("port"), short: 'p', arg: requiredArgument, sect: clusterSection, keys: names("port"), help: " -p PORT, --port=PORT Server default port. Default: 3000\n",
			binding: number(func(x target) *int { return &x.Cluster.Port }, pick(t, -1, DefaultPort),
				"port", rule(inRange(1, 65535), toInt), rule(nil, int32ToInt))},
		{long: names("user"), short: 'U', arg: requiredArgument, sect: clusterSection, keys: names("user"), help: " -U USER, --user=USER User name used to authenticate with cluster. Default: none\n",
			binding: plain(func(x target) *string { return &x.Cluster.User }, "")},
		{long: names("password"), short: 'P', arg: optionalArgument, sect: clusterSection, keys: names("password"), help: " -P, --password\n" +
			"                      Password used to authenticate with cluster. Default: none\n" +
			"                      User will be prompted on command line if -P specified and no\n" +
			"      \t               password is given.\n",
			binding: binding{
				cli: func(p *parser, x target, a *mainArg) *msg.Error {
					v, e := p.optionalValue(a)
					if e != nil {
						return e
					}
					x.Cluster.Password = v
					return nil
				},
				conf: func(s toolSetting, x target) *settingError { return s.str(&x.Cluster.Password) },
				def:  func(x target) { x.Cluster.Password = PromptSentinel },
			}},
		{long: names("auth"), short: 'A', arg: requiredArgument, sect: clusterSection, keys: names("auth"), help: " -A, --auth\n" +
			"                      Set authentication mode when user/password is defined. Modes are\n" +
			"                      (INTERNAL, EXTERNAL, EXTERNAL_INSECURE, PKI) and the default is INTERNAL.\n" +
			"                      This mode must be set EXTERNAL when using LDAP\n",
			binding: text(c(func(c *ClusterConfig) *Opt { return &c.AuthMode }))},
		{long: names("tls-enable", "tlsEnable"), arg: noArgument, sect: clusterSection, keys: names("tls-enable"), help: " --tls-enable         Enable TLS on connections. By default TLS is disabled.\n",
			binding: flag(cb(func(c *ClusterConfig) *bool { return &c.TLS.Enable }))},
		{long: names("tlsEncryptOnly"), arg: noArgument},
		{long: names("tls-name", "tlsName"), arg: requiredArgument, sect: clusterSection, keys: names("tls-name"), help: " --tls-name           The default tls-name to use to authenticate each TLS socket connection.\n",
			binding: text(c(func(c *ClusterConfig) *Opt { return &c.TLS.Name }))},
		{long: names("tls-cafile", "tlsCaFile"), arg: requiredArgument, sect: clusterSection, keys: names("tls-cafile"), help: " --tls-cafile=TLS_CAFILE\n" +
			"                      Path to a trusted CA certificate file.\n",
			binding: pemFile(func(x target) (*Opt, *[]byte) { return &x.Cluster.TLS.CAFile, &x.Cluster.TLS.CAFileContent })},
		{long: names("tls-capath", "tlsCaPath"), arg: requiredArgument, sect: clusterSection, keys: names("tls-capath"), help: " --tls-capath=TLS_CAPATH.\n" +
			"                      Path to a directory of trusted CA certificates.\n",
			binding: text(c(func(c *ClusterConfig) *Opt { return &c.TLS.CAPath }))},
		{long: names("tls-protocols", "tlsProtocols"), arg: requiredArgument, sect: clusterSection, keys: names("tls-protocols"), help: pick(t,
			" --tls-protocols=TLS_PROTOCOLS\n"+
				"                      Set the TLS protocol selection criteria. This format\n"+
				"                      is the same as Apache's SSLProtocol documented at http\n"+
				"                      s://httpd.apache.org/docs/current/mod/mod_ssl.html#ssl\n"+
				"                      protocol . If not specified the asbackup will use '-all\n"+
				"                      +TLSv1.2' if has support for TLSv1.2,otherwise it will\n"+
				"                      be '-all +TLSv1'.\n",
			" --tls-protocols=TLS_PROTOCOLS\n"+
				"                      Set the TLS protocol selection criteria. This format\n"+
				"                      is the same as Apache's SSLProtocol documented at http\n"+
				"                      s://httpd.apache.org/docs/current/mod/mod_ssl.html#ssl\n"+
				"                      protocol . If not specified the asrestore will use 'TLSv1.2'\n"+
				"                      if has support for TLSv1.2,otherwise it will\n"+
				"                      be 'TLSv1'.\n"),
			binding: text(c(func(c *ClusterConfig) *Opt { return &c.TLS.Protocols }))},
		{long: names("tls-cipher-suite", "tlsCipherSuite"), arg: requiredArgument, sect: clusterSection, keys: names("tls-cipher-suite"), help: " --tls-cipher-suite=TLS_CIPHER_SUITE\n" +
			"                     Set the TLS cipher selection criteria. The format is\n" +
			"                     the same as Open_sSL's Cipher List Format documented\n" +
			"                     at https://www.openssl.org/docs/man3.0/man1/openssl-ciphers.html.\n" +
			"                     html\n",
			binding: text(c(func(c *ClusterConfig) *Opt { return &c.TLS.CipherSuite }))},
		{long: names("tls-keyfile", "tlsKeyFile"), arg: requiredArgument, sect: clusterSection, keys: names("tls-keyfile"), help: " --tls-keyfile=TLS_KEYFILE\n" +
			"                      Path to the key for mutual authentication (if\n" +
			"                      Aerospike Cluster is supporting it).\n",
			binding: pemFile(func(x target) (*Opt, *[]byte) { return &x.Cluster.TLS.KeyFile, &x.Cluster.TLS.KeyFileContent })},
		{long: names("tls-keyfile-password"), arg: optionalArgument, sect: clusterSection, keys: names("tls-keyfile-password"), help: " --tls-keyfile-password=TLS_KEYFILE_PASSWORD\n" +
			"                      Password to load protected tls-keyfile.\n" +
			"                      It can be one of the following:\n" +
			"                      1) Environment varaible: 'env:<VAR>'\n" +
			"                      2) File: 'file:<PATH>'\n" +
			"                      3) String: 'PASSWORD'\n" +
			"                      Default: none\n" +
			"                      User will be prompted on command line if --tls-keyfile-password\n" +
			"                      specified and no password is given.\n",
			binding: binding{
				cli: func(p *parser, x target, a *mainArg) *msg.Error {
					v, e := p.optionalValue(a)
					if e != nil {
						return e
					}
					x.Cluster.TLS.KeyFilePassword.set(v)
					return nil
				},
				conf: func(s toolSetting, x target) *settingError { return s.opt(&x.Cluster.TLS.KeyFilePassword) },
			}},
		{long: names("tls-certfile", "tlsCertFile"), arg: requiredArgument, sect: clusterSection, keys: names("tls-certfile"), help: " --tls-certfile=TLS_CERTFILE <path>\n" +
			"                      Path to the chain file for mutual authentication (if\n" +
			"                      Aerospike Cluster is supporting it).\n",
			binding: pemFile(func(x target) (*Opt, *[]byte) { return &x.Cluster.TLS.CertFile, &x.Cluster.TLS.CertFileContent })},
		{long: names(blacklist, "tlsCertBlackList"), arg: requiredArgument, sect: clusterSection, keys: names("tls-cert-blacklist"), help: pick(t,
			" --tls-cert-blacklist <path> (DEPRECATED)\n"+
				"                      Path to a certificate blacklist file. The file should\n"+
				"                      contain one line for each blacklisted certificate.\n"+
				"                      Each line starts with the certificate serial number\n"+
				"                      expressed in hex. Each entry may optionally specify\n"+
				"                      the issuer name of the certificate (serial numbers are\n"+
				"                      only required to be unique per issuer).Example:\n"+
				"                      867EC87482B2\n"+
				"                      /C=US/ST=CA/O=Acme/OU=Engineering/CN=TestChainCA\n",
			" --tls-cert-blackList <path> (DEPRECATED\n"+
				"                      Path to a certificate blacklist file. The file should\n"+
				"                      contain one line for each blacklisted certificate.\n"+
				"                      Each line starts with the certificate serial number\n"+
				"                      expressed in hex. Each entry may optionally specify\n"+
				"                      the issuer name of the certificate (serial numbers are\n"+
				"                      only required to be unique per issuer).Example:\n"+
				"                      867EC87482B2\n"+
				"                      /C=US/ST=CA/O=Acme/OU=Engineering/CN=TestChainCA\n"),
			binding: binding{
				cli: func(p *parser, x target, a *mainArg) *msg.Error {
					x.Cluster.TLS.CertBlacklist.set(a.arg)
					blacklistWarning(p, "Warning: --"+blacklist+" is deprecated and will be removed in the next release. Use a crl instead")
					return nil
				},
				conf: func(s toolSetting, x target) *settingError {
					const warn = "Warning: --tls-cert-blacklist is deprecated and will be removed in the next release. Use a crl instead\n"
					if e := s.opt(&x.Cluster.TLS.CertBlacklist); e != nil {
						return e.after(rawError(warn))
					}
					s.p.out.raw(warn)
					return nil
				},
			}},
		{long: names("tls-crl-check", "tlsCrlCheck"), arg: noArgument, sect: clusterSection, keys: names("tls-crl-check"), help: " --tls-crl-check      Enable CRL checking for leaf certificate. An error\n" +
			"                      occurs if a valid CRL files cannot be found in\n" +
			"                      tls_capath.\n",
			binding: flag(cb(func(c *ClusterConfig) *bool { return &c.TLS.CRLCheck }))},
		{long: names("tls-crl-check-all", "tlsCrlCheckAll"), arg: noArgument, sect: clusterSection, keys: names("tls-crl-check-all"), help: " --tls-crl-checkall   Enable CRL checking for entire certificate chain. An\n" +
			"                      error occurs if a valid CRL files cannot be found in\n" +
			"                      tls_capath.\n",
			binding: flag(cb(func(c *ClusterConfig) *bool { return &c.TLS.CRLCheckAll }))},
		{long: names("tls-log-session-info", "tlsLogSessionInfo"), arg: noArgument, help: " --tls-log-session-info\n" +
			"                      Enable logging session information for each TLS connection.\n",
			binding: flag(cb(func(c *ClusterConfig) *bool { return &c.TLS.LogSessionInfo }))},
	}
}

// verboseOption is -v/--verbose of both tools.
func verboseOption(t *toolDef, help string) option {
	return option{long: names("verbose"), short: 'v', arg: noArgument, sect: toolSection, keys: names("verbose"), help: help,
		binding: binding{
			cli: func(p *parser, x target, _ *mainArg) *msg.Error { x.Verbose, p.out.verbose = true, true; return nil },
			conf: func(s toolSetting, x target) *settingError {
				if e := s.boolean(&x.Verbose); e != nil {
					return e
				}
				s.p.out.verbose = x.Verbose
				return nil
			},
		}}
}

// compressOption is -z/--compress (asrestore's message ends with a newline).
func compressOption(t *toolDef, help string) option {
	return option{long: names("compress"), short: 'z', arg: requiredArgument, sect: toolSection, keys: names("compress"), help: help,
		binding: choice(func(x target) *CompressMode { return &x.Compress }, parseCompress, `Invalid compression type "%s"`+pick(t, "", "\n"))}
}

// encryptOption is -y/--encrypt.
func encryptOption(t *toolDef, help string) option {
	return option{long: names("encrypt"), short: 'y', arg: requiredArgument, sect: toolSection, keys: names("encrypt"), help: help,
		binding: choice(func(x target) *EncryptMode { return &x.Encrypt }, parseEncrypt, `Invalid encryption type "%s"`+pick(t, "", "\n"))}
}

func keyFileOption(help string) option {
	return option{long: names("encryption-key-file"), arg: requiredArgument, sect: toolSection, keys: names("encryption-key-file"), help: help,
		binding: keySource(func(p *parser, value string, secret []byte) (*EncryptionKey, *msg.Error) {
			return p.loadKeyFile(value, secret)
		})}
}

func keyEnvOption(help string) option {
	return option{long: names("encryption-key-env"), arg: requiredArgument, sect: toolSection, keys: names("encryption-key-env"), help: help,
		binding: keySource(func(p *parser, value string, _ []byte) (*EncryptionKey, *msg.Error) { return p.loadKeyEnv(value) })}
}

func machineOption(help string) option {
	return option{long: names("machine"), short: 'm', arg: requiredArgument, sect: toolSection, keys: names("machine"), help: help,
		binding: text(func(x target) *Opt { return &x.Machine })}
}

func s3Region(help string) option {
	return option{long: names("s3-region"), arg: requiredArgument, sect: toolSection, keys: names("s3-region"), help: help,
		binding: text(func(x target) *Opt { return &x.S3.Region })}
}

func s3Profile(help string) option {
	return option{long: names("s3-profile"), arg: requiredArgument, sect: toolSection, keys: names("s3-profile"), help: help,
		binding: text(func(x target) *Opt { return &x.S3.Profile })}
}

func s3Endpoint(help string) option {
	return option{long: names("s3-endpoint-override"), arg: requiredArgument, sect: toolSection, keys: names("s3-endpoint-override"), help: help,
		binding: text(func(x target) *Opt { return &x.S3.EndpointOverride })}
}

func s3MaxAsyncDownloads(help string) option {
	return option{long: names("s3-max-async-downloads"), arg: requiredArgument, sect: toolSection, keys: names("s3-max-async-downloads"), help: help,
		binding: number(func(x target) *int64 { return &x.S3.MaxAsyncDownloads }, DefaultS3MaxAsyncDownloads,
			"S3 max async downloads", rule(inRange(1, math.MaxUint32), identity), rule(uint32Positive, identity))}
}

func s3LogLevel(help string) option {
	return option{long: names("s3-log-level"), arg: requiredArgument, sect: toolSection, keys: names("s3-log-level"), help: help,
		binding: binding{
			cli: func(p *parser, x target, a *mainArg) *msg.Error {
				l, ok := ParseS3LogLevel(a.arg)
				if !ok {
					return p.out.failLines(`Invalid S3 log level "` + a.arg + `"`)
				}
				x.S3.LogLevel = l
				return nil
			},
			conf: func(s toolSetting, x target) *settingError {
				str, ok := s.v.asString()
				if !ok {
					return s.bad()
				}
				l, ok := ParseS3LogLevel(str)
				if !ok {
					return s.badWith(errLines(`Invalid S3 log level "` + str + `"`))
				}
				x.S3.LogLevel = l
				return nil
			},
			def: func(x target) { x.S3.LogLevel = DefaultS3LogLevel },
		}}
}

func s3ConnectTimeout(help string) option {
	return option{long: names("s3-connect-timeout"), arg: requiredArgument, sect: toolSection, keys: names("s3-connect-timeout"), help: help,
		binding: number(func(x target) *time.Duration { return &x.S3.ConnectTimeout }, DefaultS3ConnectTimeout,
			"S3 connect timeout", rule(inRange(0, math.MaxUint32), ms), rule(uint32NonNeg, ms))}
}

func s3AllowSystemProxy(help string) option {
	return option{long: names("s3-allow-system-proxy"), arg: noArgument, sect: toolSection, keys: names("s3-allow-system-proxy"), help: help,
		binding: flag(func(x target) *bool { return &x.S3.AllowSystemProxy })}
}

// configFileOptions are the options that select the configuration files
// (legacy pass 2; never set from a file); their help names the tool's section.
func configFileOptions(tool string) []option {
	noFile := " --no-config-file \n" +
		"                      Do not read any config file. Default: disabled\n"
	instance := " --instance <name>\n" +
		"                      Section with these instance is read. e.g in case instance `a` is specified\n" +
		"                      sections cluster_a, " + tool + "_a is read.\n"
	file := " --config-file <path>\n" +
		"                      Read this file after default configuration file.\n"
	onlyFile := " --only-config-file <path>\n" +
		"                      Read only this configuration file.\n" +
		"\n"
	return []option{
		{long: names("no-config-file"), arg: noArgument, pass: filesPass, help: noFile,
			binding: binding{cli: func(p *parser, _ target, _ *mainArg) *msg.Error { p.load.NoConfigFile = true; return nil }}},
		{long: names("instance"), arg: requiredArgument, pass: filesPass, help: instance,
			binding: binding{cli: func(p *parser, _ target, a *mainArg) *msg.Error { p.load.Instance = a.arg; return nil }}},
		{long: names("config-file"), arg: requiredArgument, pass: filesPass, help: file,
			binding: binding{cli: func(p *parser, _ target, a *mainArg) *msg.Error { p.load.ConfigFile = a.arg; return nil }}},
		{long: names("only-config-file"), arg: requiredArgument, pass: filesPass, help: onlyFile,
			binding: binding{cli: func(p *parser, _ target, a *mainArg) *msg.Error {
				// The last file option names the file; any --only-config-file
				// makes it the only one (legacy behaviour).
				p.load.ConfigFile, p.load.OnlyConfigFile = a.arg, true
				return nil
			}}},
	}
}

// agentOptions are the Secret Agent options (legacy pass 3 and the
// [secret-agent] section; their values are never secrets themselves).
func agentOptions() []option {
	header := "[secret-agent]\n" +
		" Options pertaining to the Aerospike secret agent https://docs.aerospike.com/tools/secret-agent.\n" +
		" Asbackup and asrestore support getting most config file and command line options\n" +
		" from the Aerospike secret agent. \n" +
		" To use a secret as an option, use this format \"secrets:<resource_name>:<secret_name>\" \n" +
		"    Examples:\n" +
		"    asrestore -n secrets:resource1:namespace -d testout -h secrets:pass:pass --sa-address 0.0.0.0:3005\n" +
		"    asbackup -n test -d testout --ca-file secrets:resource2:cacert\n"
	address := " --sa-address=<host_name>\n" +
		"                      <host_name> is \"<host>[:<port>]\" \n" +
		"                      Aerospike Secret agent hostname or IP address.\n" +
		"                      Default: localhost:3005\n" +
		"                      Examples:\n" +
		"                        host1\n" +
		"                        host1:3005\n" +
		"                        192.168.1.10:3005\n" +
		"                        [::]:3005\n"
	port := " --sa-port=<port>\n" +
		"                      The port number used to connect to the Aerospike secret agent \n" +
		"                      Default: 3005 \n"
	timeout := " --sa-timeout=<ms>\n" +
		"                      Timeout in milliseconds applied when connecting\n" +
		"                      to the Aerospike Secret agent and when requesting secrets.\n" +
		"                      The default timeout is 1000ms.\n"
	cafile := " --sa-cafile=<tls_cafile>\n" +
		"                      Path to a trusted CA certificate file.\n" +
		"                      Used when authenticating with the Aerospike secret agent.\n"
	return []option{
		helpText(header),
		{long: names("sa-address"), arg: requiredArgument, pass: agentPass, sect: agentSection, keys: names("sa-address"), help: address,
			binding: binding{
				cli:  func(p *parser, _ target, a *mainArg) *msg.Error { p.sa.Address = a.arg; return nil },
				conf: func(s toolSetting, _ target) *settingError { return s.str(&s.p.sa.Address) },
			}},
		{long: names("sa-port"), arg: requiredArgument, pass: agentPass, sect: agentSection, keys: names("sa-port"), help: port,
			binding: binding{
				cli: func(p *parser, _ target, a *mainArg) *msg.Error {
					p.sa.Port, p.saExplicitPort = a.arg, true
					return nil
				},
				conf: func(s toolSetting, _ target) *settingError { return s.str(&s.p.sa.Port) },
			}},
		{long: names("sa-timeout"), arg: requiredArgument, pass: agentPass, sect: agentSection, keys: names("sa-timeout"), help: timeout,
			binding: binding{
				cli: func(p *parser, _ target, a *mainArg) *msg.Error {
					v, ok := ParseCInt(a.arg)
					if !ok || v < 0 || v > math.MaxInt32 {
						return p.out.failLines("Invalid secret agent timeout value " + a.arg)
					}
					p.sa.Timeout = ms(v)
					return nil
				},
				conf: func(s toolSetting, _ target) *settingError {
					v, ok := s.v.raw.(int64)
					if !ok {
						return s.bad()
					}
					s.p.sa.Timeout = ms(v)
					return nil
				},
			}},
		{long: names("sa-cafile"), arg: requiredArgument, pass: agentPass, sect: agentSection, keys: names("sa-cafile"), help: cafile,
			binding: binding{
				cli: func(p *parser, _ target, a *mainArg) *msg.Error {
					data, err := p.env.ReadFile(a.arg)
					if err != nil {
						return p.out.failLines("failed to open "+a.arg, "Invalid secret agent cafile "+a.arg)
					}
					p.sa.CAFile, p.sa.CAContent, p.sa.TLS = a.arg, data, true
					return nil
				},
				conf: func(s toolSetting, _ target) *settingError {
					var path string
					if e := s.str(&path); e != nil {
						return e
					}
					data, err := s.p.env.ReadFile(path)
					if err != nil {
						return s.badWith(errLines("failed to open " + path))
					}
					s.p.sa.CAFile, s.p.sa.CAContent, s.p.sa.TLS = path, data, true
					return nil
				},
			}},
	}
}
