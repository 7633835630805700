package compat

import (
	"encoding/pem"
	"math"
	"strings"
)

// loadKeyPEM builds a key from PEM text (a key file's content or a secret).
func (p *parser) loadKeyPEM(k *EncryptionKey) *Error {
	if p.env.ParsePrivateKey != nil {
		m, err := p.env.ParsePrivateKey(k.PEM)
		if err != nil {
			return errLines("Unable to parse private key, make sure the key is in PEM format")
		}
		k.Material = m
		return nil
	}
	for rest := k.PEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return errLines("Unable to parse private key, make sure the key is in PEM format")
		}
		if strings.HasSuffix(b.Type, "PRIVATE KEY") {
			return nil
		}
	}
}

// loadKeyFile implements --encryption-key-file / encryption-key-file.
func (p *parser) loadKeyFile(value string, secret []byte) (*EncryptionKey, *Error) {
	k := &EncryptionKey{Source: KeyFromSecret, PEM: []byte(cut(string(secret)))}
	if secret == nil {
		data, err := p.env.ReadFile(value)
		if err != nil {
			return nil, errLines(`Could not open private key file "` + value + `"`)
		}
		k = &EncryptionKey{Source: KeyFromFile, Path: value, PEM: data}
	}
	if e := p.loadKeyPEM(k); e != nil {
		return nil, e
	}
	return k, nil
}

// loadKeyEnv implements --encryption-key-env / encryption-key-env.
func (p *parser) loadKeyEnv(name string) (*EncryptionKey, *Error) {
	v, ok := p.env.LookupEnv(name)
	if !ok {
		return nil, errLines(`No environment variable "` + name + `" found` + "\n")
	}
	raw, ok := DecodeBase64(v)
	if !ok {
		return nil, errLines(`Unable to decode enviroment variable "` + name + `" as base64` + "\n")
	}
	return &EncryptionKey{Source: KeyFromEnv, EnvVar: name, Material: raw}, nil
}

// keyConflict is the message for a second key source.
func (p *parser) keyConflict() string {
	if p.tool == restoreTool {
		return "Cannot specify both encryption-key-file and encryption-key-env\n"
	}
	return "Cannot specify both encryption-key-file and encryption-key-env"
}

// applyKeyOption handles the two key options of the main pass.
func (p *parser) applyKeyOption(a *mainArg) *Error {
	if *p.key != nil {
		return p.out.failLines(p.keyConflict())
	}
	var k *EncryptionKey
	var e *Error
	if a.code == optEncryptionKeyFile {
		k, e = p.loadKeyFile(a.arg, a.secret)
	} else {
		k, e = p.loadKeyEnv(a.arg)
	}
	if e != nil {
		return p.out.fail(e)
	}
	*p.key = k
	return nil
}

// parseCompress parses a --compress value.
func parseCompress(s string) (CompressMode, bool) {
	if s == "zstd" {
		return CompressZstd, true
	}
	return CompressNone, false
}

// parseEncrypt parses an --encrypt value.
func parseEncrypt(s string) (EncryptMode, bool) {
	switch s {
	case "aes128":
		return EncryptAES128, true
	case "aes256":
		return EncryptAES256, true
	}
	return EncryptNone, false
}

// ParseS3LogLevel parses an --s3-log-level value (case-insensitive) and
// returns its canonical spelling.
func ParseS3LogLevel(s string) (string, bool) {
	for _, l := range []string{"Off", "Fatal", "Error", "Warn", "Info", "Debug", "Trace"} {
		if strings.EqualFold(s, l) {
			return l, true
		}
	}
	return "", false
}

// applyClusterOption applies a [cluster] option of the main pass; it reports
// whether the option was one of them.
func (p *parser) applyClusterOption(a *mainArg) (bool, *Error) {
	c := p.cluster
	switch a.code {
	case 'h':
		c.Host = a.arg
	case 'p':
		return true, intOption(p, a, "port", inRange(1, 65535), &c.Port, toInt)
	case 'U':
		c.User = a.arg
	case 'P':
		v, e := p.optionalValue(a)
		if e != nil {
			return true, e
		}
		c.Password = v
	case 'A':
		c.AuthMode.set(a.arg)
	case 'S':
		c.UseServicesAlternate = true
	case optTLSEnable:
		c.TLS.Enable = true
	case optTLSName:
		c.TLS.Name.set(a.arg)
	case optTLSCAFile:
		setPEM(&c.TLS.CAFile, &c.TLS.CAFileContent, a.arg, a.isSecret())
	case optTLSCAPath:
		c.TLS.CAPath.set(a.arg)
	case optTLSProtocols:
		c.TLS.Protocols.set(a.arg)
	case optTLSCipherSuite:
		c.TLS.CipherSuite.set(a.arg)
	case optTLSCRLCheck:
		c.TLS.CRLCheck = true
	case optTLSCRLCheckAll:
		c.TLS.CRLCheckAll = true
	case optTLSCertBlacklist:
		c.TLS.CertBlacklist.set(a.arg)
		if p.tool == restoreTool {
			p.out.err("Warning: --tls-cert-blackList is deprecated and will be removed in the next release. Use a crl instead")
		} else {
			p.out.info("Warning: --tls-cert-blacklist is deprecated and will be removed in the next release. Use a crl instead")
		}
	case optTLSLogSessionInfo:
		c.TLS.LogSessionInfo = true
	case optTLSKeyFile:
		setPEM(&c.TLS.KeyFile, &c.TLS.KeyFileContent, a.arg, a.isSecret())
	case optTLSKeyFilePassword:
		v, e := p.optionalValue(a)
		if e != nil {
			return true, e
		}
		c.TLS.KeyFilePassword.set(v)
	case optTLSCertFile:
		setPEM(&c.TLS.CertFile, &c.TLS.CertFileContent, a.arg, a.isSecret())
	default:
		return false, nil
	}
	return true, nil
}

// setPEM stores a TLS file option (command line or [cluster] key): the
// path, or the PEM content when the value was a secret.
func setPEM(path *Opt, content *[]byte, value string, secret bool) {
	if secret {
		*content = []byte(value)
		*path = Opt{}
		return
	}
	path.set(value)
	*content = nil
}

// applyS3Option applies the S3 options shared by both tools.
func (p *parser) applyS3Option(a *mainArg) (bool, *Error) {
	s := p.s3
	switch a.code {
	case optS3Region:
		s.Region.set(a.arg)
	case optS3Profile:
		s.Profile.set(a.arg)
	case optS3EndpointOverride:
		s.EndpointOverride.set(a.arg)
	case optS3MaxAsyncDownloads:
		return true, intOption(p, a, "S3 max async downloads", inRange(1, math.MaxUint32), &s.MaxAsyncDownloads, identity)
	case optS3ConnectTimeout:
		return true, intOption(p, a, "S3 connect timeout", inRange(0, math.MaxUint32), &s.ConnectTimeout, ms)
	case optS3LogLevel:
		l, ok := ParseS3LogLevel(a.arg)
		if !ok {
			return true, p.out.failLines(`Invalid S3 log level "` + a.arg + `"`)
		}
		s.LogLevel = l
	case optS3AllowSystemProxy:
		s.AllowSystemProxy = true
	default:
		return false, nil
	}
	return true, nil
}
