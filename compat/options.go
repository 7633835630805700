package compat

// Option codes that are not short-option letters (same numbering scheme as
// the legacy tools, so that getopt's ambiguity rules give the same results).
const (
	optTLSEnable = 1000 + iota
	optTLSEncryptOnly
	optTLSName
	optTLSCAFile
	optTLSCAPath
	optTLSProtocols
	optTLSCipherSuite
	optTLSCRLCheck
	optTLSCRLCheckAll
	optTLSCertBlacklist
	optTLSLogSessionInfo
	optTLSKeyFile
	optTLSKeyFilePassword
	optTLSCertFile
)

const (
	optConfigFile = 2000 + iota
	optInstance
	optNoConfigFile
	optOnlyConfigFile
)

const (
	optNoTTLOnly = 3000 + iota
	optSocketTimeout
	optTotalTimeout
	optMaxRetries
	optRetryDelay
	optRetryScaleFactor
	optCompressionLevel
	optRemoveArtifacts
	optEstimateSamples
	optS3Region
	optS3Profile
	optS3EndpointOverride
	optS3MinPartSize
	optS3MaxAsyncDownloads
	optS3MaxAsyncUploads
	optS3LogLevel
	optS3ConnectTimeout
	optS3AllowSystemProxy
	optDisableBatchWrites
	optMaxAsyncBatches
	optBatchSize
	optEventLoops
	optDirectoryList
	optParentDirectory
	optValidate
	optPreferRacks
	optSAAddress
	optSAPort
	optSATimeout
	optSACAFile
)

// Option codes of the legacy tools that are characters outside their
// short-option strings.
const (
	optEncryptionKeyFile = '1'
	optEncryptionKeyEnv  = '2'
	optStateFileDst      = '3'
	optIgnoreRecordError = 'K'
	optExtraTTL          = 'l'
	optThreads           = '_'
)

// Short-option strings of the legacy tools (without the leading '-').
const (
	backupShorts  = "h:Sp:A:U:P::n:s:d:o:c:F:rvxCB:l:X:D:M:m:eN:RIuVZa:b:L:q:w:z:y:f:"
	restoreShorts = "h:Sp:A:U:P::n:d:i:t:vm:B:s:urgN:RILFwVZT:y:z:"
)

// commonHead is the start of both long-option tables.
var commonHead = []longOption{
	{"verbose", noArgument, 'v'},
	{"usage", noArgument, 'Z'},
	{"help", noArgument, 'Z'},
	{"options", noArgument, 'Z'},
	{"version", noArgument, 'V'},

	{"instance", requiredArgument, optInstance},
	{"config-file", requiredArgument, optConfigFile},
	{"no-config-file", noArgument, optNoConfigFile},
	{"only-config-file", requiredArgument, optOnlyConfigFile},

	{"host", requiredArgument, 'h'},
	{"port", requiredArgument, 'p'},
	{"user", requiredArgument, 'U'},
	{"password", optionalArgument, 'P'},
	{"auth", requiredArgument, 'A'},

	{"tlsEnable", noArgument, optTLSEnable},
	{"tlsEncryptOnly", noArgument, optTLSEncryptOnly},
	{"tlsName", requiredArgument, optTLSName},
	{"tlsCaFile", requiredArgument, optTLSCAFile},
	{"tlsCaPath", requiredArgument, optTLSCAPath},
	{"tlsProtocols", requiredArgument, optTLSProtocols},
	{"tlsCipherSuite", requiredArgument, optTLSCipherSuite},
	{"tlsCrlCheck", noArgument, optTLSCRLCheck},
	{"tlsCrlCheckAll", noArgument, optTLSCRLCheckAll},
	{"tlsCertBlackList", requiredArgument, optTLSCertBlacklist},
	{"tlsLogSessionInfo", noArgument, optTLSLogSessionInfo},
	{"tlsKeyFile", requiredArgument, optTLSKeyFile},
	{"tlsCertFile", requiredArgument, optTLSCertFile},

	{"tls-enable", noArgument, optTLSEnable},
	{"tls-name", requiredArgument, optTLSName},
	{"tls-cafile", requiredArgument, optTLSCAFile},
	{"tls-capath", requiredArgument, optTLSCAPath},
	{"tls-protocols", requiredArgument, optTLSProtocols},
	{"tls-cipher-suite", requiredArgument, optTLSCipherSuite},
	{"tls-crl-check", noArgument, optTLSCRLCheck},
	{"tls-crl-check-all", noArgument, optTLSCRLCheckAll},
}

var saOptions = []longOption{
	{"sa-address", requiredArgument, optSAAddress},
	{"sa-port", requiredArgument, optSAPort},
	{"sa-timeout", requiredArgument, optSATimeout},
	{"sa-cafile", requiredArgument, optSACAFile},
}

func concatOptions(parts ...[]longOption) []longOption {
	var out []longOption
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// backupOptions is asbackup's long-option table, in the legacy order (which
// decides the order of getopt's "possibilities" list).
var backupOptions = concatOptions(commonHead, []longOption{
	{"tls-cert-blacklist", requiredArgument, optTLSCertBlacklist},
	{"tls-log-session-info", noArgument, optTLSLogSessionInfo},
	{"tls-keyfile", requiredArgument, optTLSKeyFile},
	{"tls-keyfile-password", optionalArgument, optTLSKeyFilePassword},
	{"tls-certfile", requiredArgument, optTLSCertFile},

	{"compact", noArgument, 'C'},
	{"parallel", requiredArgument, 'w'},
	{"compress", requiredArgument, 'z'},
	{"compression-level", requiredArgument, optCompressionLevel},
	{"encrypt", requiredArgument, 'y'},
	{"encryption-key-file", requiredArgument, optEncryptionKeyFile},
	{"encryption-key-env", requiredArgument, optEncryptionKeyEnv},
	{"no-bins", noArgument, 'x'},
	{"bin-list", requiredArgument, 'B'},
	{"node-list", requiredArgument, 'l'},
	{"no-records", noArgument, 'R'},
	{"no-indexes", noArgument, 'I'},
	{"no-udfs", noArgument, 'u'},
	{"services-alternate", noArgument, 'S'},
	{"namespace", requiredArgument, 'n'},
	{"set", requiredArgument, 's'},
	{"directory", requiredArgument, 'd'},
	{"output-file", requiredArgument, 'o'},
	{"output-file-prefix", requiredArgument, 'q'},
	{"continue", requiredArgument, 'c'},
	{"state-file-dst", requiredArgument, optStateFileDst},
	{"file-limit", requiredArgument, 'F'},
	{"remove-files", noArgument, 'r'},
	{"remove-artifacts", noArgument, optRemoveArtifacts},
	{"estimate-samples", requiredArgument, optEstimateSamples},
	{"partition-list", requiredArgument, 'X'},
	{"after-digest", requiredArgument, 'D'},
	{"filter-exp", requiredArgument, 'f'},
	{"modified-after", requiredArgument, 'a'},
	{"modified-before", requiredArgument, 'b'},
	{"no-ttl-only", noArgument, optNoTTLOnly},
	{"records-per-second", requiredArgument, 'L'},
	{"max-records", requiredArgument, 'M'},
	{"machine", requiredArgument, 'm'},
	{"estimate", noArgument, 'e'},
	{"nice", requiredArgument, 'N'},
	{"socket-timeout", requiredArgument, optSocketTimeout},
	{"total-timeout", requiredArgument, optTotalTimeout},
	{"max-retries", requiredArgument, optMaxRetries},
	{"sleep-between-retries", requiredArgument, optRetryDelay},
	{"retry-delay", requiredArgument, optRetryDelay},
	{"prefer-racks", requiredArgument, optPreferRacks},

	{"s3-region", requiredArgument, optS3Region},
	{"s3-profile", requiredArgument, optS3Profile},
	{"s3-endpoint-override", requiredArgument, optS3EndpointOverride},
	{"s3-min-part-size", requiredArgument, optS3MinPartSize},
	{"s3-max-async-downloads", requiredArgument, optS3MaxAsyncDownloads},
	{"s3-max-async-uploads", requiredArgument, optS3MaxAsyncUploads},
	{"s3-log-level", requiredArgument, optS3LogLevel},
	{"s3-connect-timeout", requiredArgument, optS3ConnectTimeout},
	{"s3-allow-system-proxy", noArgument, optS3AllowSystemProxy},
}, saOptions)

// restoreOptions is asrestore's long-option table, in the legacy order.
var restoreOptions = concatOptions(commonHead, []longOption{
	{"tls-cert-blackList", requiredArgument, optTLSCertBlacklist},
	{"tls-log-session-info", noArgument, optTLSLogSessionInfo},
	{"tls-keyfile", requiredArgument, optTLSKeyFile},
	{"tls-keyfile-password", optionalArgument, optTLSKeyFilePassword},
	{"tls-certfile", requiredArgument, optTLSCertFile},

	{"namespace", requiredArgument, 'n'},
	{"directory", requiredArgument, 'd'},
	{"directory-list", requiredArgument, optDirectoryList},
	{"parent-directory", requiredArgument, optParentDirectory},
	{"input-file", requiredArgument, 'i'},
	{"compress", requiredArgument, 'z'},
	{"encrypt", requiredArgument, 'y'},
	{"encryption-key-file", requiredArgument, optEncryptionKeyFile},
	{"encryption-key-env", requiredArgument, optEncryptionKeyEnv},
	{"parallel", requiredArgument, 't'},
	{"threads", requiredArgument, optThreads},
	{"machine", requiredArgument, 'm'},
	{"bin-list", requiredArgument, 'B'},
	{"set-list", requiredArgument, 's'},
	{"unique", noArgument, 'u'},
	{"ignore-record-error", noArgument, optIgnoreRecordError},
	{"replace", noArgument, 'r'},
	{"no-generation", noArgument, 'g'},
	{"extra-ttl", requiredArgument, optExtraTTL},
	{"nice", requiredArgument, 'N'},
	{"validate", noArgument, optValidate},
	{"no-records", noArgument, 'R'},
	{"no-indexes", noArgument, 'I'},
	{"indexes-last", noArgument, 'L'},
	{"no-udfs", noArgument, 'F'},
	{"wait", noArgument, 'w'},
	{"services-alternate", noArgument, 'S'},
	{"timeout", requiredArgument, 'T'},
	{"socket-timeout", requiredArgument, optSocketTimeout},
	{"total-timeout", requiredArgument, optTotalTimeout},
	{"max-retries", requiredArgument, optMaxRetries},
	{"retry-scale-factor", requiredArgument, optRetryScaleFactor},
	{"sleep-between-retries", requiredArgument, optRetryDelay},
	{"retry-delay", requiredArgument, optRetryDelay},
	{"disable-batch-writes", noArgument, optDisableBatchWrites},
	{"max-async-batches", requiredArgument, optMaxAsyncBatches},
	{"batch-size", requiredArgument, optBatchSize},
	{"event-loops", requiredArgument, optEventLoops},

	{"s3-region", requiredArgument, optS3Region},
	{"s3-profile", requiredArgument, optS3Profile},
	{"s3-endpoint-override", requiredArgument, optS3EndpointOverride},
	{"s3-max-async-downloads", requiredArgument, optS3MaxAsyncDownloads},
	{"s3-log-level", requiredArgument, optS3LogLevel},
	{"s3-connect-timeout", requiredArgument, optS3ConnectTimeout},
	{"s3-allow-system-proxy", noArgument, optS3AllowSystemProxy},
}, saOptions)
