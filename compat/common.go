package compat

import (
	"encoding/pem"
	"strings"

	"asbtools/msg"
)

// loadKeyPEM builds a key from PEM text (a key file's content or a secret).
func (p *parser) loadKeyPEM(k *EncryptionKey) *msg.Error {
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
func (p *parser) loadKeyFile(value string, secret []byte) (*EncryptionKey, *msg.Error) {
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
func (p *parser) loadKeyEnv(name string) (*EncryptionKey, *msg.Error) {
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
