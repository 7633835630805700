package compat

import (
	"asbtools/logging"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// settingValue is a configuration value after secret resolution.
type settingValue struct {
	raw    any    // the TOML-typed value
	str    string // the value when it is (or resolved to) text
	isStr  bool
	secret []byte // fetched value when the setting was a secret reference
}

type sectionKind int

const (
	sectionOther sectionKind = iota
	sectionSecretAgent
	sectionCluster
	sectionTool
)

// classify returns the kind of a section and the name the legacy tools use in
// messages (the instance section, even when the plain one was the fallback).
func (p *parser) classify(section string) (sectionKind, string) {
	base := section
	if p.instance != "" {
		base = strings.TrimSuffix(section, "_"+p.instance)
	}
	label := func(b string) string {
		if p.instance != "" {
			return b + "_" + p.instance
		}
		return b
	}
	switch base {
	case "secret-agent":
		return sectionSecretAgent, label(base)
	case "cluster":
		return sectionCluster, label(base)
	case p.tool.name:
		return sectionTool, label(base)
	}
	return sectionOther, section
}

// fileRef is the "[level:path]" part of the legacy parse-error line.
func fileRef(s ConfigSetting) string { return fmt.Sprintf("[%d:%s]", s.Level, s.File) }

// invalidValue builds the legacy "Invalid parameter value" failure; the
// cluster section's message ends with a period.
func invalidValue(s ConfigSetting, kind sectionKind, label string) *Error {
	dot := ""
	if kind == sectionCluster {
		dot = "."
	}
	return rawError("Parse error `Invalid parameter value for `" + s.Key + "` in `" + label + "` section" + dot + "\n` in file " + fileRef(s) + "\n")
}

// emptyParseError is the legacy "Parse error “ in file [..]" line.
func emptyParseError(s ConfigSetting) *Error {
	return rawError("Parse error `` in file " + fileRef(s) + "\n")
}

func rawError(text string) *Error {
	return &Error{Code: 1, Messages: []Message{{Level: logging.Raw, Text: text}}}
}

// join concatenates the messages of several errors.
func join(es ...*Error) *Error {
	out := &Error{Code: 1}
	for _, e := range es {
		if e != nil {
			out.Messages = append(out.Messages, e.Messages...)
		}
	}
	return out
}

// applySettings applies configuration settings in order: [secret-agent]
// keys here, [cluster] and tool keys (after secret resolution with the
// Secret Agent configuration read so far) through the cluster handler and
// apply. Other sections are ignored.
func (p *parser) applySettings(settings []ConfigSetting, apply func(s ConfigSetting, key string, v settingValue) *Error) *Error {
	var saGroup string // file+section of the current [secret-agent] group
	saExplicitPort := false
	endSA := func() {
		if saGroup != "" {
			splitSAAddress(&p.sa, saExplicitPort)
			saGroup, saExplicitPort = "", false
		}
	}
	for _, s := range settings {
		kind, label := p.classify(s.Section)
		key := strings.ToLower(s.Key)
		if kind == sectionSecretAgent {
			group := s.File + "\x00" + s.Section
			if group != saGroup {
				endSA()
				saGroup = group
			}
			if key == "sa-port" {
				saExplicitPort = true
			}
			if e := p.applySASetting(s, key, label); e != nil {
				return p.out.fail(e)
			}
			continue
		}
		endSA()
		if kind != sectionCluster && kind != sectionTool {
			continue
		}
		v := settingValue{raw: s.Value}
		if str, ok := s.Value.(string); ok {
			v.str, v.isStr = str, true
			if s.Secret {
				// Already fetched by the loader.
				v.secret = []byte(str)
				v.str = cut(str)
			} else if strings.HasPrefix(str, secretPrefix) {
				val, e := p.fetchSecret(p.sa, str)
				if e != nil {
					return p.out.fail(join(e, errLines("failed requesting secret: "+str), emptyParseError(s)))
				}
				v.secret = val
				v.str = cut(string(val))
			}
		}
		var e *Error
		if kind == sectionCluster {
			e = p.applyClusterSetting(s, key, v, label)
		} else {
			e = apply(s, key, v)
		}
		if e != nil {
			return p.out.fail(e)
		}
	}
	endSA()
	return nil
}

// asString returns a string setting's text.
func (v settingValue) asString() (string, bool) { return v.str, v.isStr }

// asInt returns an integer setting (a TOML integer, or a secret holding
// TOML integer text).
func (v settingValue) asInt() (int64, bool) {
	if v.secret != nil {
		return parseTOMLInt(v.str)
	}
	i, ok := v.raw.(int64)
	return i, ok
}

// asBool returns a boolean setting (a TOML boolean, or a secret holding
// "true"/"false").
func (v settingValue) asBool() (bool, bool) {
	if v.secret != nil {
		switch v.str {
		case "true":
			return true, true
		case "false":
			return false, true
		}
		return false, false
	}
	b, ok := v.raw.(bool)
	return b, ok
}

// parseTOMLInt parses TOML integer syntax: optional sign, decimal digits
// with single underscores between digits, no leading zeros, int64 range.
func parseTOMLInt(s string) (int64, bool) {
	t := s
	if strings.HasPrefix(t, "+") || strings.HasPrefix(t, "-") {
		t = t[1:]
	}
	if t == "" || (len(t) > 1 && t[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c == '_' {
			if i == 0 || i == len(t)-1 || t[i-1] == '_' || t[i+1] < '0' || t[i+1] > '9' {
				return 0, false
			}
			continue
		}
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
	return v, err == nil
}

// applySASetting applies a [secret-agent] key (never secret-resolved).
func (p *parser) applySASetting(s ConfigSetting, key, label string) *Error {
	bad := func() *Error { return invalidValue(s, sectionSecretAgent, label) }
	switch key {
	case "sa-address", "sa-port", "sa-cafile":
		str, ok := s.Value.(string)
		if !ok {
			return bad()
		}
		switch key {
		case "sa-address":
			p.sa.Address = str
		case "sa-port":
			p.sa.Port = str
		default:
			data, err := p.env.ReadFile(str)
			if err != nil {
				return join(errLines("failed to open "+str), bad())
			}
			p.sa.CAFile, p.sa.CAContent, p.sa.TLS = str, data, true
		}
	case "sa-timeout":
		v, ok := s.Value.(int64)
		if !ok {
			return bad()
		}
		p.sa.Timeout = ms(v)
	default:
		return join(rawError("Unknown parameter `"+s.Key+"` in `"+label+"` section\n"), emptyParseError(s))
	}
	return nil
}

// applyClusterSetting applies a [cluster] key.
func (p *parser) applyClusterSetting(s ConfigSetting, key string, v settingValue, label string) *Error {
	c := p.cluster
	bad := func() *Error { return invalidValue(s, sectionCluster, label) }
	str := func(dst *string) *Error {
		t, ok := v.asString()
		if !ok {
			return bad()
		}
		*dst = t
		return nil
	}
	opt := func(dst *Opt) *Error {
		t, ok := v.asString()
		if !ok {
			return bad()
		}
		dst.set(t)
		return nil
	}
	boolean := func(dst *bool) *Error {
		b, ok := v.asBool()
		if !ok {
			return bad()
		}
		*dst = b
		return nil
	}
	pemOpt := func(path *Opt, content *[]byte) *Error {
		t, ok := v.asString()
		if !ok {
			return bad()
		}
		if v.secret != nil {
			*content = []byte(t)
			*path = Opt{}
		} else {
			path.set(t)
			*content = nil
		}
		return nil
	}
	switch key {
	case "host":
		return str(&c.Host)
	case "port":
		i, ok := v.asInt()
		if !ok {
			return bad()
		}
		c.Port = int(int32(i))
	case "use-services-alternate":
		return boolean(&c.UseServicesAlternate)
	case "user":
		return str(&c.User)
	case "password":
		return str(&c.Password)
	case "auth":
		return opt(&c.AuthMode)
	case "tls-enable":
		return boolean(&c.TLS.Enable)
	case "tls-name":
		return opt(&c.TLS.Name)
	case "tls-protocols":
		return opt(&c.TLS.Protocols)
	case "tls-cipher-suite":
		return opt(&c.TLS.CipherSuite)
	case "tls-crl-check":
		return boolean(&c.TLS.CRLCheck)
	case "tls-crl-check-all":
		return boolean(&c.TLS.CRLCheckAll)
	case "tls-keyfile":
		return pemOpt(&c.TLS.KeyFile, &c.TLS.KeyFileContent)
	case "tls-keyfile-password":
		return opt(&c.TLS.KeyFilePassword)
	case "tls-cafile":
		return pemOpt(&c.TLS.CAFile, &c.TLS.CAFileContent)
	case "tls-capath":
		return opt(&c.TLS.CAPath)
	case "tls-certfile":
		return pemOpt(&c.TLS.CertFile, &c.TLS.CertFileContent)
	case "tls-cert-blacklist":
		e := opt(&c.TLS.CertBlacklist)
		warn := rawError("Warning: --tls-cert-blacklist is deprecated and will be removed in the next release. Use a crl instead\n")
		if e != nil {
			return join(warn, e)
		}
		p.out.raw(warn.Messages[0].Text)
	default:
		return rawError("Parse error `Unknown parameter `" + s.Key + "` in `" + label + "` section.\n` in file " + fileRef(s) + "\n")
	}
	return nil
}

// toolSetting helps applying a tool-section key: every helper returns the
// legacy failure for the key.
type toolSetting struct {
	p     *parser
	s     ConfigSetting
	v     settingValue
	label string
}

func (t toolSetting) bad() *Error { return invalidValue(t.s, sectionTool, t.label) }

// badWith prefixes the invalid-value failure with ERR lines.
func (t toolSetting) badWith(e *Error) *Error { return join(e, t.bad()) }

func (t toolSetting) str(dst *string) *Error {
	s, ok := t.v.asString()
	if !ok {
		return t.bad()
	}
	*dst = s
	return nil
}

func (t toolSetting) opt(dst *Opt) *Error {
	s, ok := t.v.asString()
	if !ok {
		return t.bad()
	}
	dst.set(s)
	return nil
}

func (t toolSetting) boolean(dst *bool) *Error {
	b, ok := t.v.asBool()
	if !ok {
		return t.bad()
	}
	*dst = b
	return nil
}

// integer returns the value if it is an integer accepted by check.
func (t toolSetting) integer(check func(int64) bool) (int64, *Error) {
	i, ok := t.v.asInt()
	if !ok || (check != nil && !check(i)) {
		return 0, t.bad()
	}
	return i, nil
}

func positive(v int64) bool            { return v > 0 }
func nonNegative32(v int64) bool       { return int32(v) >= 0 }
func uint32Positive(v int64) bool      { return v > 0 && v <= math.MaxUint32 }
func uint32NonNeg(v int64) bool        { return v >= 0 && v <= math.MaxUint32 }
func msDuration(v int64) time.Duration { return ms(int64(uint32(int32(v)))) }

// keySetting applies encryption-key-file / encryption-key-env from a file.
func (t toolSetting) keySetting(key string, dst **EncryptionKey) *Error {
	if *dst != nil {
		return join(rawError("Cannot specify both encryption-key-file and encryption-key-env\n"), emptyParseError(t.s))
	}
	s, ok := t.v.asString()
	if !ok {
		return t.bad()
	}
	var k *EncryptionKey
	var e *Error
	if key == "encryption-key-file" {
		k, e = t.p.loadKeyFile(s, t.v.secret)
	} else {
		k, e = t.p.loadKeyEnv(s)
	}
	if e != nil {
		return t.badWith(e)
	}
	*dst = k
	return nil
}

// commonToolSetting handles keys shared by both tool sections; it reports
// whether the key was one of them.
func (t toolSetting) common(key string, s3 *S3Config, compress *CompressMode, encrypt *EncryptMode, k **EncryptionKey, verbose *bool) (bool, *Error) {
	switch key {
	case "compress":
		str, ok := t.v.asString()
		if !ok {
			return true, t.bad()
		}
		m, ok := parseCompress(str)
		if !ok {
			return true, t.bad()
		}
		*compress = m
	case "encrypt":
		str, ok := t.v.asString()
		if !ok {
			return true, t.bad()
		}
		m, ok := parseEncrypt(str)
		if !ok {
			return true, t.bad()
		}
		*encrypt = m
	case "encryption-key-file", "encryption-key-env":
		return true, t.keySetting(key, k)
	case "verbose":
		if e := t.boolean(verbose); e != nil {
			return true, e
		}
		t.p.out.verbose = *verbose
	case "s3-region":
		return true, t.opt(&s3.Region)
	case "s3-profile":
		return true, t.opt(&s3.Profile)
	case "s3-endpoint-override":
		return true, t.opt(&s3.EndpointOverride)
	case "s3-max-async-downloads":
		i, e := t.integer(uint32Positive)
		if e != nil {
			return true, e
		}
		s3.MaxAsyncDownloads = i
	case "s3-connect-timeout":
		i, e := t.integer(uint32NonNeg)
		if e != nil {
			return true, e
		}
		s3.ConnectTimeout = ms(i)
	case "s3-log-level":
		str, ok := t.v.asString()
		if !ok {
			return true, t.bad()
		}
		l, ok := ParseS3LogLevel(str)
		if !ok {
			return true, t.badWith(errLines(`Invalid S3 log level "` + str + `"`))
		}
		s3.LogLevel = l
	case "s3-allow-system-proxy":
		return true, t.boolean(&s3.AllowSystemProxy)
	default:
		return false, nil
	}
	return true, nil
}

func (t toolSetting) unknown() *Error {
	return join(rawError("Unknown parameter `"+t.s.Key+"` in `"+t.label+"` section\n"), emptyParseError(t.s))
}

// applyBackupSetting applies an [asbackup] key.
func (p *parser) applyBackupSetting(c *BackupConfig, s ConfigSetting, key string, v settingValue) *Error {
	_, label := p.classify(s.Section)
	t := toolSetting{p: p, s: s, v: v, label: label}
	if ok, e := t.common(key, &c.S3, &c.Compress, &c.Encrypt, &c.Key, &c.Verbose); ok {
		return e
	}
	switch key {
	case "namespace":
		var ns string
		if e := t.str(&ns); e != nil {
			return e
		}
		c.Namespace = truncate(ns, 31)
	case "set":
		str, ok := v.asString()
		if !ok {
			return t.bad()
		}
		sets, e := ParseSetList(c.Sets, str)
		c.Sets = sets
		if e != nil {
			return t.badWith(e)
		}
	case "continue":
		return t.opt(&c.Continue)
	case "state-file-dst":
		return t.opt(&c.StateFileDst)
	case "remove-files":
		return t.boolean(&c.RemoveFiles)
	case "remove-artifacts":
		return t.boolean(&c.RemoveArtifacts)
	case "directory":
		return t.opt(&c.Directory)
	case "output-file-prefix":
		return t.opt(&c.OutputPrefix)
	case "no-ttl-only":
		return t.boolean(&c.NoTTLOnly)
	case "max-records":
		i, e := t.integer(nil)
		if e != nil {
			return e
		}
		c.MaxRecords = i
	case "output-file":
		return t.opt(&c.OutputFile)
	case "file-limit":
		i, e := t.integer(positive)
		if e != nil {
			return e
		}
		c.FileLimit = mulMiB(i)
	case "records-per-second":
		i, e := t.integer(nil)
		if e != nil {
			return e
		}
		c.RecordsPerSecond = int64(uint32(int32(i)))
	case "no-bins":
		return t.boolean(&c.NoBins)
	case "compact":
		return t.boolean(&c.Compact)
	case "parallel":
		i, e := t.integer(positive)
		if e != nil {
			return e
		}
		c.Parallel = int(int32(i))
	case "compression-level":
		i, e := t.integer(nil)
		if e != nil {
			return e
		}
		c.CompressionLevel = int(int32(i))
	case "bin-list":
		return t.opt(&c.BinList)
	case "node-list":
		return t.opt(&c.NodeList)
	case "partition-list":
		return t.opt(&c.PartitionList)
	case "after-digest":
		return t.opt(&c.AfterDigest)
	case "filter-exp":
		return t.opt(&c.FilterExp)
	case "modified-after", "modified-before":
		str, ok := v.asString()
		if !ok {
			return t.bad()
		}
		p.out.ver("Parsing date and time string " + str)
		d, e := ParseDateTime(str, p.env.Now(), p.env.Location)
		if e != nil {
			// The generic "Invalid date and time string" line is only
			// printed for the command-line option.
			e.Messages = e.Messages[:len(e.Messages)-1]
			return t.badWith(e)
		}
		if key == "modified-after" {
			c.ModifiedAfter = d
		} else {
			c.ModifiedBefore = d
		}
	case "machine":
		return t.opt(&c.Machine)
	case "estimate":
		return t.boolean(&c.Estimate)
	case "estimate-samples":
		i, e := t.integer(positive)
		if e != nil {
			return e
		}
		c.EstimateSamples = int64(uint32(i))
	case "nice":
		i, e := t.integer(positive)
		if e != nil {
			return e
		}
		c.Bandwidth = mulMiB(i)
	case "no-records":
		return t.boolean(&c.NoRecords)
	case "no-indexes":
		return t.boolean(&c.NoIndexes)
	case "no-udfs":
		return t.boolean(&c.NoUDFs)
	case "socket-timeout", "total-timeout", "max-retries", "retry-delay", "sleep-between-retries":
		i, e := t.integer(nonNegative32)
		if e != nil {
			return e
		}
		switch key {
		case "socket-timeout":
			c.SocketTimeout = msDuration(i)
		case "total-timeout":
			c.TotalTimeout = msDuration(i)
		case "max-retries":
			c.MaxRetries = int64(uint32(int32(i)))
		default:
			c.SleepBetweenRetries = msDuration(i)
		}
	case "prefer-racks":
		return t.opt(&c.PreferRacks)
	case "s3-min-part-size":
		i, e := t.integer(positive)
		if e != nil {
			return e
		}
		c.S3.MinPartSize = mulMiB(i)
	case "s3-max-async-uploads":
		i, e := t.integer(uint32Positive)
		if e != nil {
			return e
		}
		c.S3.MaxAsyncUploads = i
	default:
		return t.unknown()
	}
	return nil
}

// applyRestoreSetting applies an [asrestore] key.
func (p *parser) applyRestoreSetting(c *RestoreConfig, s ConfigSetting, key string, v settingValue) *Error {
	_, label := p.classify(s.Section)
	t := toolSetting{p: p, s: s, v: v, label: label}
	if ok, e := t.common(key, &c.S3, &c.Compress, &c.Encrypt, &c.Key, &c.Verbose); ok {
		return e
	}
	switch key {
	case "namespace":
		return t.opt(&c.Namespace)
	case "directory":
		return t.opt(&c.Directory)
	case "directory-list":
		return t.opt(&c.DirectoryList)
	case "parent-directory":
		return t.opt(&c.ParentDirectory)
	case "input-file":
		return t.opt(&c.InputFile)
	case "parallel", "threads":
		i, e := t.integer(func(v int64) bool { return v >= 1 && v <= maxRestoreThreads })
		if e != nil {
			return e
		}
		c.Parallel = int(i)
	case "machine":
		return t.opt(&c.Machine)
	case "bin-list":
		return t.opt(&c.BinList)
	case "set-list":
		return t.opt(&c.SetList)
	case "unique":
		return t.boolean(&c.Unique)
	case "ignore-record-error":
		return t.boolean(&c.IgnoreRecordError)
	case "replace":
		return t.boolean(&c.Replace)
	case "no-generation":
		return t.boolean(&c.NoGeneration)
	case "extra-ttl":
		i, e := t.integer(nil)
		if e != nil {
			return e
		}
		c.ExtraTTL = int64(int32(i))
	case "bandwidth":
		i, e := t.integer(positive)
		if e != nil {
			return e
		}
		c.Bandwidth = mulMiB(i)
	case "tps":
		i, e := t.integer(nil)
		if e != nil {
			return e
		}
		c.TPS = int64(uint32(int32(i)))
	case "nice":
		return t.opt(&c.Nice)
	case "no-records":
		return t.boolean(&c.NoRecords)
	case "validate":
		return t.boolean(&c.Validate)
	case "no-indexes":
		return t.boolean(&c.NoIndexes)
	case "indexes-last":
		return t.boolean(&c.IndexesLast)
	case "no-udfs":
		return t.boolean(&c.NoUDFs)
	case "wait":
		return t.boolean(&c.Wait)
	case "timeout":
		i, e := t.integer(func(v int64) bool { return v >= 0 })
		if e != nil {
			return e
		}
		c.Timeout = ms(int64(uint32(i)))
	case "socket-timeout", "total-timeout", "max-retries", "batch-size", "event-loops", "max-async-batches", "retry-scale-factor":
		i, e := t.integer(nonNegative32)
		if e != nil {
			return e
		}
		u := int64(uint32(int32(i)))
		switch key {
		case "socket-timeout":
			c.SocketTimeout = ms(u)
		case "total-timeout":
			c.TotalTimeout = ms(u)
		case "max-retries":
			c.MaxRetries = u
		case "batch-size":
			c.BatchSize = u
		case "event-loops":
			c.EventLoops = u
		case "max-async-batches":
			c.MaxAsyncBatches = u
		default:
			c.RetryScaleFactor = time.Duration(u) * time.Microsecond
		}
	case "sleep-between-retries", "retry-delay":
		p.out.raw("Warning: `--" + key + "` is deprecated and has no effect, use `--retry-scale-factor` to configure the amount to back off when retrying transactions.")
	case "disable-batch-writes":
		return t.boolean(&c.DisableBatchWrites)
	default:
		return t.unknown()
	}
	return nil
}
