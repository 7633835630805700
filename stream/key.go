package stream

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
)

// KeyError is a key-loading failure. Its Error text is exactly the message
// the legacy tools log for the same failure (including the trailing newline
// some legacy messages carry), so callers can log it verbatim.
type KeyError struct {
	// Msg is the legacy message text.
	Msg string
	// Err is the underlying cause, if any (not part of the message).
	Err error
}

func (e *KeyError) Error() string { return e.Msg }

// Unwrap returns the underlying cause.
func (e *KeyError) Unwrap() error { return e.Err }

// KeyMaterialFromPEMFile reads the PEM private key in path and returns the
// key material K of the legacy key derivation: the key re-encoded in DER in
// its traditional, type-specific form (PKCS#1 for RSA, SEC1 for EC, PKCS#8 for
// types without a traditional form such as Ed25519 and X25519).
//
// Errors: `Could not open private key file "<path>"` when the file cannot be
// opened, `Unable to parse private key, make sure the key is in PEM format`
// when it holds no usable (unencrypted) private key.
func KeyMaterialFromPEMFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &KeyError{Msg: fmt.Sprintf("Could not open private key file \"%s\"", path), Err: err}
	}
	// Read-only: the key is complete once read.
	defer func() { _ = f.Close() }()
	// A key file is small; anything beyond 1 MiB is not a PEM key. A read
	// error (e.g. the path is a directory) is reported as a parse failure
	// like legacy does, with the read error as its cause.
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, &KeyError{Msg: "Unable to parse private key, make sure the key is in PEM format", Err: err}
	}
	return KeyMaterialFromPEM(data)
}

// KeyMaterialFromPEM is KeyMaterialFromPEMFile for PEM text already in memory
// (for example a key fetched from the secret agent).
func KeyMaterialFromPEM(data []byte) ([]byte, error) {
	parseErr := func(err error) error {
		return &KeyError{Msg: "Unable to parse private key, make sure the key is in PEM format", Err: err}
	}
	rest := data
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			return nil, parseErr(errors.New("no PEM private key block found"))
		}
		switch blk.Type {
		case "RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY":
		case "ENCRYPTED PRIVATE KEY":
			return nil, parseErr(errors.New("password-protected private keys are not supported"))
		default:
			// OpenSSL skips PEM blocks of other types.
			continue
		}
		if _, ok := blk.Headers["DEK-Info"]; ok {
			return nil, parseErr(errors.New("password-protected private keys are not supported"))
		}
		der, err := traditionalDER(blk)
		if err != nil {
			return nil, parseErr(err)
		}
		return der, nil
	}
}

func traditionalDER(blk *pem.Block) ([]byte, error) {
	var key any
	var err error
	switch blk.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(blk.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	}
	if err != nil {
		return nil, err
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return x509.MarshalPKCS1PrivateKey(k), nil
	case *ecdsa.PrivateKey:
		return x509.MarshalECPrivateKey(k)
	case ed25519.PrivateKey, *ecdh.PrivateKey:
		return x509.MarshalPKCS8PrivateKey(k)
	default:
		return nil, fmt.Errorf("unsupported private key type %T", key)
	}
}

// KeyMaterialFromEnv returns the key material K held base64-encoded in the
// environment variable name (used as is, not parsed as a key).
//
// Errors (legacy texts, with their trailing newline):
// `No environment variable "<name>" found` + "\n" when unset,
// `Unable to decode enviroment variable "<name>" as base64` + "\n" (sic)
// when the value is not padded standard base64 (empty values included).
func KeyMaterialFromEnv(name string) ([]byte, error) {
	v, ok := os.LookupEnv(name)
	if !ok {
		return nil, &KeyError{Msg: fmt.Sprintf("No environment variable \"%s\" found\n", name)}
	}
	k, err := DecodeBase64Key(v)
	if err != nil {
		return nil, &KeyError{Msg: fmt.Sprintf("Unable to decode enviroment variable \"%s\" as base64\n", name), Err: err}
	}
	return k, nil
}

// DecodeBase64Key decodes s with the legacy validation rules: standard
// alphabet, non-empty, length a multiple of 4, '=' only as one or two final
// padding characters, no whitespace. Non-zero trailing bits are accepted and
// ignored, as in legacy.
func DecodeBase64Key(s string) ([]byte, error) {
	if !validBase64(s) {
		return nil, errors.New("invalid base64")
	}
	// Validation guarantees Go's decoder sees no newlines; non-strict mode
	// ignores trailing bits like legacy.
	return base64.StdEncoding.DecodeString(s)
}

func isB64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
}

func validBase64(s string) bool {
	n := len(s)
	if n == 0 || n%4 != 0 {
		return false
	}
	for i := 0; i < n-2; i++ {
		if !isB64(s[i]) {
			return false
		}
	}
	if s[n-2] == '=' {
		return s[n-1] == '='
	}
	if !isB64(s[n-2]) {
		return false
	}
	return s[n-1] == '=' || isB64(s[n-1])
}

// DeriveKey returns the AES key for cipher c from key material K:
// SHA-256(K) truncated to 16 bytes (AES-128) or 32 bytes (AES-256).
// It returns nil for None.
func DeriveKey(material []byte, c Cipher) []byte {
	if c == None {
		return nil
	}
	d := sha256.Sum256(material)
	return append([]byte(nil), d[:c.KeySize()]...)
}
