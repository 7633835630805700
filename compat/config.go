package compat

import (
	"time"

	"asbtools/msg"
)

// Opt is an optional string option. Set reports whether the option was given
// (on the command line or in a configuration file), even with an empty value:
// the legacy tools distinguish "not given" from "given empty" (for example
// `-l ”` fails with "Empty node list").
type Opt struct {
	Value string
	Set   bool
}

func (o *Opt) set(v string) { o.Value, o.Set = v, true }

// PromptSentinel is the legacy "prompt for it" password value: a password
// equal to it (the default) makes the tool prompt on the terminal.
const PromptSentinel = "SomeDefaultRandomPassword"

// Default values shared by both tools.
const (
	DefaultHost          = "127.0.0.1"
	DefaultPort          = 3000
	DefaultSAAddress     = "127.0.0.1"
	DefaultSAPort        = "3005"
	DefaultSATimeout     = 1000 * time.Millisecond
	DefaultSocketTimeout = 10000 * time.Millisecond
	DefaultMaxRetries    = 5
)

// ClusterConfig holds the [cluster] options (connection, authentication and
// TLS) of either tool.
type ClusterConfig struct {
	// Host is the seed host list exactly as given ("h1:3000,[::1]:tls:4333");
	// parse it with ParseHostList at connect time. Default "127.0.0.1".
	Host string
	// Port is the default port for seeds without one (default 3000).
	Port int
	// UseServicesAlternate selects the nodes' alternate-access addresses.
	UseServicesAlternate bool
	// User name; empty means no authentication.
	User string
	// Password as given; PromptSentinel (the default) means "prompt on the
	// terminal" when User is set. Use Credentials.
	Password string
	// AuthMode is the raw --auth value (case-insensitive INTERNAL, EXTERNAL,
	// EXTERNAL_INSECURE, PKI); check it with ParseAuthMode at connect time.
	AuthMode Opt
	TLS      TLSConfig
}

// TLSConfig holds the TLS options of the cluster connection. For the three
// PEM options a `secrets:` value yields the PEM content (…Content) instead
// of a path.
type TLSConfig struct {
	Enable          bool
	Name            Opt // default TLS name for seeds without their own
	CAFile          Opt
	CAFileContent   []byte // PEM content fetched from the Secret Agent
	CAPath          Opt
	Protocols       Opt
	CipherSuite     Opt
	CRLCheck        bool
	CRLCheckAll     bool
	CertBlacklist   Opt // deprecated
	LogSessionInfo  bool
	KeyFile         Opt
	KeyFileContent  []byte
	CertFile        Opt
	CertFileContent []byte
	// KeyFilePassword is the raw --tls-keyfile-password value: "env:VAR",
	// "file:PATH" or a literal; PromptSentinel means "prompt". Resolve it
	// with ReadTLSKeyPassword (only used when KeyFile is set).
	KeyFilePassword Opt
}

// SecretAgentConfig is the Secret Agent client configuration after the legacy
// address/port rules were applied (Address is a host name or IP address
// without port and without brackets; Port is kept as text, validated when a
// secret is fetched).
type SecretAgentConfig struct {
	Address string
	Port    string
	Timeout time.Duration
	// CAFile is the --sa-cafile path; its content (read at parse time, like
	// the legacy tools) is in CAContent. A CA file enables TLS.
	CAFile    string
	CAContent []byte
	TLS       bool
}

func defaultSecretAgent() SecretAgentConfig {
	return SecretAgentConfig{Address: DefaultSAAddress, Port: DefaultSAPort, Timeout: DefaultSATimeout}
}

// CompressMode is the --compress value.
type CompressMode int

// Compression modes.
const (
	CompressNone CompressMode = iota
	CompressZstd
)

// EncryptMode is the --encrypt value.
type EncryptMode int

// Encryption modes.
const (
	EncryptNone EncryptMode = iota
	EncryptAES128
	EncryptAES256
)

// KeySource says where an encryption key came from.
type KeySource int

// Key sources.
const (
	KeyFromFile   KeySource = iota + 1 // --encryption-key-file PATH
	KeyFromSecret                      // --encryption-key-file secrets:... (PEM content)
	KeyFromEnv                         // --encryption-key-env VAR
)

// EncryptionKey is the key material given with --encryption-key-file or
// --encryption-key-env, loaded at parse time like the legacy tools.
type EncryptionKey struct {
	Source KeySource
	// Path is the key file (KeyFromFile); EnvVar the variable name (KeyFromEnv).
	Path   string
	EnvVar string
	// PEM is the PEM text (KeyFromFile, KeyFromSecret).
	PEM []byte
	// Material is the key material K from which the cipher key is derived
	// (SHA-256): the base64-decoded variable (KeyFromEnv), or the DER form
	// of the PEM key as returned by Env.ParsePrivateKey (nil if no parser
	// was given).
	Material []byte
}

// S3Config holds the S3 options.
type S3Config struct {
	Region           Opt
	Profile          Opt
	EndpointOverride Opt
	// MinPartSize in bytes; 0 = automatic (asbackup only).
	MinPartSize       int64
	MaxAsyncDownloads int64 // default 32
	MaxAsyncUploads   int64 // default 16 (asbackup only)
	// LogLevel is one of Off, Fatal, Error, Warn, Info, Debug, Trace.
	LogLevel         string
	ConnectTimeout   time.Duration // default 1000 ms
	AllowSystemProxy bool
}

// S3 defaults.
const (
	DefaultS3MaxAsyncDownloads = 32
	DefaultS3MaxAsyncUploads   = 16 // asbackup only
	DefaultS3LogLevel          = "Fatal"
	DefaultS3ConnectTimeout    = 1000 * time.Millisecond
)

// Codec is the compression and encryption of backup files (-z,
// --compression-level, -y and the key options), shared by asbackup,
// asrestore and asbfs. StreamOptions turns it into the settings of package
// stream.
type Codec struct {
	Compress CompressMode
	// CompressionLevel is asbackup's --compression-level (0 = zstd's
	// default).
	CompressionLevel int
	Encrypt          EncryptMode
	Key              *EncryptionKey
}

// Common holds what the configurations of both tools share: the cluster
// connection, the Secret Agent, S3, the file codec, verbosity, and the
// messages printed while parsing.
type Common struct {
	Cluster     ClusterConfig
	SecretAgent SecretAgentConfig
	S3          S3Config
	Codec
	// Verbose enables VER lines (and, for asbackup, client trace logging).
	Verbose bool
	// Machine is the --machine path.
	Machine Opt

	// Messages are the non-fatal messages printed while parsing (warnings,
	// VER lines), in order; print them before running.
	Messages []msg.Line
	// Location is the time zone used for dates (TZ); print dates with
	// FormatDateTime(t, Location).
	Location *time.Location
}

// OutputMode is asbackup's output selection.
type OutputMode int

// Output modes of asbackup.
const (
	OutputNone      OutputMode = iota // only with --remove-artifacts
	OutputDirectory                   // -d
	OutputFile                        // -o
	OutputEstimate                    // -e
)

// BackupConfig is the validated configuration of asbackup.
type BackupConfig struct {
	Common

	// Namespace (truncated to 31 bytes).
	Namespace string
	// Sets from -s and `set` keys, accumulated; more than one means a
	// multi-set backup.
	Sets []string
	// Output is derived from Directory / OutputFile / Estimate.
	Output       OutputMode
	Directory    Opt
	OutputFile   Opt // "-" = stdout
	Estimate     bool
	OutputPrefix Opt // --output-file-prefix
	Continue     Opt // --continue state file
	StateFileDst Opt
	// FileLimit in bytes (default 250 MiB).
	FileLimit       int64
	RemoveFiles     bool
	RemoveArtifacts bool
	EstimateSamples int64 // default 10000
	// Parallel is the --parallel value; 0 = not given (default 1, or 16 with
	// --node-list when not estimating).
	Parallel int
	Compact  bool
	NoBins   bool
	// BinList raw (parse with ParseBinList when preparing the scan).
	BinList Opt
	// NodeList, PartitionList, AfterDigest, FilterExp raw (parse with
	// ParseNodeList, ParsePartitionList, ParseAfterDigest, DecodeFilterExp
	// after the start line, like the legacy tool).
	NodeList      Opt
	PartitionList Opt
	AfterDigest   Opt
	FilterExp     Opt
	// ModifiedAfter / ModifiedBefore: zero if not given; see DateActive.
	ModifiedAfter  time.Time
	ModifiedBefore time.Time
	NoTTLOnly      bool
	// RecordsPerSecond 0 = unlimited. MaxRecords 0 = all.
	RecordsPerSecond int64
	MaxRecords       int64
	// Bandwidth (--nice) in bytes per second; 0 = unlimited.
	Bandwidth           int64
	NoRecords           bool
	NoIndexes           bool
	NoUDFs              bool
	SocketTimeout       time.Duration // default 10 s; 0 = use TotalTimeout
	TotalTimeout        time.Duration // 0 = none
	MaxRetries          int64         // default 5
	SleepBetweenRetries time.Duration
	// PreferRacks raw (parse with ParseRackList at connect time).
	PreferRacks Opt
}

// RestoreConfig is the validated configuration of asrestore.
type RestoreConfig struct {
	Common

	// Namespace raw "src" or "src,dst" (parse with ParseNamespaceList).
	Namespace Opt
	Directory Opt
	// DirectoryList raw; ParentDirectory prefix (see DirectoryListPaths).
	DirectoryList   Opt
	ParentDirectory Opt
	// InputFile: a path, "-" (stdin) or "-:<bytes>" (see ParseStdinSize).
	InputFile Opt
	// Parallel threads (default 20).
	Parallel int
	// BinList, SetList raw (parse with ParseRestoreList).
	BinList           Opt
	SetList           Opt
	Unique            bool
	Replace           bool
	NoGeneration      bool
	IgnoreRecordError bool
	// ExtraTTL in seconds.
	ExtraTTL int64
	// Bandwidth in bytes per second and TPS (from --nice or the bandwidth /
	// tps keys); throttling is active only when both are non-zero.
	Bandwidth   int64
	TPS         int64
	Nice        Opt // raw --nice value (already parsed into Bandwidth/TPS)
	Validate    bool
	NoRecords   bool
	NoIndexes   bool
	IndexesLast bool
	NoUDFs      bool
	Wait        bool
	// Timeout (default 10 s): connect, info and total write timeout.
	Timeout            time.Duration
	SocketTimeout      time.Duration // default 10 s
	TotalTimeout       time.Duration // 0 = Timeout
	MaxRetries         int64         // default 5
	RetryScaleFactor   time.Duration // default 150 ms
	DisableBatchWrites bool
	MaxAsyncBatches    int64 // default 32
	// BatchSize: -1 = not given (128 with batch writes, 16 without).
	BatchSize  int64
	EventLoops int64 // default 1
}
