package compat

import (
	"asbtools/logging"
	"fmt"
	"math"
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
		return ParseTOMLInt(v.str)
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
	t := toolSetting{p: p, s: s, v: v, label: label, kind: sectionCluster}
	str, opt, boolean, pemOpt := t.str, t.opt, t.boolean, t.pem
	switch key {
	case "host":
		return str(&c.Host)
	case "port":
		return intSetting(t, nil, &c.Port, int32ToInt)
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

// toolSetting helps applying a [cluster] or tool-section key: every helper
// returns the legacy failure for the key.
type toolSetting struct {
	p     *parser
	s     ConfigSetting
	v     settingValue
	label string
	kind  sectionKind // sectionTool or sectionCluster
}

func (t toolSetting) bad() *Error { return invalidValue(t.s, t.kind, t.label) }

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

// pem stores a path setting, or the PEM content when the value was a
// secret.
func (t toolSetting) pem(path *Opt, content *[]byte) *Error {
	s, ok := t.v.asString()
	if !ok {
		return t.bad()
	}
	setPEM(path, content, s, t.v.secret != nil)
	return nil
}

// intSetting stores conv(v) in *dst if the value is an integer accepted by
// check (nil: any integer).
func intSetting[T any](t toolSetting, check func(int64) bool, dst *T, conv func(int64) T) *Error {
	v, ok := t.v.asInt()
	if !storeInt(v, ok, check, dst, conv) {
		return t.bad()
	}
	return nil
}

func positive(v int64) bool       { return v > 0 }
func nonNegative32(v int64) bool  { return int32(v) >= 0 }
func uint32Positive(v int64) bool { return v > 0 && v <= math.MaxUint32 }
func uint32NonNeg(v int64) bool   { return v >= 0 && v <= math.MaxUint32 }

// Legacy casts of a TOML integer: (uint32_t)(int32_t), (uint32_t),
// (int32_t), and durations in milliseconds of the first two.
func msDuration(v int64) time.Duration { return ms(uint32Cast(v)) }
func msUint32(v int64) time.Duration   { return ms(uint32Trunc(v)) }
func uint32Trunc(v int64) int64        { return int64(uint32(v)) }
func uint32Cast(v int64) int64         { return int64(uint32(int32(v))) }
func int32Cast(v int64) int64          { return int64(int32(v)) }
func int32ToInt(v int64) int           { return int(int32(v)) }

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
		return true, intSetting(t, uint32Positive, &s3.MaxAsyncDownloads, identity)
	case "s3-connect-timeout":
		return true, intSetting(t, uint32NonNeg, &s3.ConnectTimeout, ms)
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
	t := toolSetting{p: p, s: s, v: v, label: label, kind: sectionTool}
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
		return intSetting(t, nil, &c.MaxRecords, identity)
	case "output-file":
		return t.opt(&c.OutputFile)
	case "file-limit":
		return intSetting(t, positive, &c.FileLimit, mulMiB)
	case "records-per-second":
		return intSetting(t, nil, &c.RecordsPerSecond, uint32Cast)
	case "no-bins":
		return t.boolean(&c.NoBins)
	case "compact":
		return t.boolean(&c.Compact)
	case "parallel":
		return intSetting(t, positive, &c.Parallel, int32ToInt)
	case "compression-level":
		return intSetting(t, nil, &c.CompressionLevel, int32ToInt)
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
		return intSetting(t, positive, &c.EstimateSamples, uint32Trunc)
	case "nice":
		return intSetting(t, positive, &c.Bandwidth, mulMiB)
	case "no-records":
		return t.boolean(&c.NoRecords)
	case "no-indexes":
		return t.boolean(&c.NoIndexes)
	case "no-udfs":
		return t.boolean(&c.NoUDFs)
	case "socket-timeout":
		return intSetting(t, nonNegative32, &c.SocketTimeout, msDuration)
	case "total-timeout":
		return intSetting(t, nonNegative32, &c.TotalTimeout, msDuration)
	case "max-retries":
		return intSetting(t, nonNegative32, &c.MaxRetries, uint32Cast)
	case "retry-delay", "sleep-between-retries":
		return intSetting(t, nonNegative32, &c.SleepBetweenRetries, msDuration)
	case "prefer-racks":
		return t.opt(&c.PreferRacks)
	case "s3-min-part-size":
		return intSetting(t, positive, &c.S3.MinPartSize, mulMiB)
	case "s3-max-async-uploads":
		return intSetting(t, uint32Positive, &c.S3.MaxAsyncUploads, identity)
	default:
		return t.unknown()
	}
	return nil
}

// applyRestoreSetting applies an [asrestore] key.
func (p *parser) applyRestoreSetting(c *RestoreConfig, s ConfigSetting, key string, v settingValue) *Error {
	_, label := p.classify(s.Section)
	t := toolSetting{p: p, s: s, v: v, label: label, kind: sectionTool}
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
		return intSetting(t, inRange(1, maxRestoreThreads), &c.Parallel, toInt)
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
		return intSetting(t, nil, &c.ExtraTTL, int32Cast)
	case "bandwidth":
		return intSetting(t, positive, &c.Bandwidth, mulMiB)
	case "tps":
		return intSetting(t, nil, &c.TPS, uint32Cast)
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
		return intSetting(t, atLeast(0), &c.Timeout, msUint32)
	case "socket-timeout":
		return intSetting(t, nonNegative32, &c.SocketTimeout, msDuration)
	case "total-timeout":
		return intSetting(t, nonNegative32, &c.TotalTimeout, msDuration)
	case "max-retries":
		return intSetting(t, nonNegative32, &c.MaxRetries, uint32Cast)
	case "batch-size":
		return intSetting(t, nonNegative32, &c.BatchSize, uint32Cast)
	case "event-loops":
		return intSetting(t, nonNegative32, &c.EventLoops, uint32Cast)
	case "max-async-batches":
		return intSetting(t, nonNegative32, &c.MaxAsyncBatches, uint32Cast)
	case "retry-scale-factor":
		return intSetting(t, nonNegative32, &c.RetryScaleFactor, func(v int64) time.Duration { return us(uint32Cast(v)) })
	case "sleep-between-retries", "retry-delay":
		p.out.raw("Warning: `--" + key + "` is deprecated and has no effect, use `--retry-scale-factor` to configure the amount to back off when retrying transactions.")
	case "disable-batch-writes":
		return t.boolean(&c.DisableBatchWrites)
	default:
		return t.unknown()
	}
	return nil
}
