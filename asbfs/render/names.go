package render

import (
	"encoding/hex"
	"strconv"
	"unicode/utf8"

	"asbtools/asb"
)

// Reserved names. Escaped names never contain '%' followed by anything but
// two upper-case hexadecimal digits, so names that start with '%' and a
// lower-case letter can never clash with a namespace, set, key or backup.
const (
	NoSetDir   = "%noset"  // records without a set
	SIndexDir  = "%sindex" // secondary index definitions, per namespace
	UDFDir     = "%udf"    // UDF modules
	RawDir     = "%raw"    // raw .asb text of every record
	ErrorsFile = "%errors" // unreadable spans of the backup files
	EmptyName  = "%empty"  // an empty key or name
)

// MaxNameLen bounds the length of a record file name built from a key;
// longer keys are cut and get the digest suffix ("%d" + 40 hex digits).
const MaxNameLen = 200

// EscapeName appends name made safe as one path component: '%', '/',
// control characters and bytes that are not UTF-8 become %XX (upper-case
// hex); "." and ".." get their first dot escaped; an empty name becomes
// EmptyName.
func EscapeName(dst []byte, name []byte) []byte {
	if len(name) == 0 {
		return append(dst, EmptyName...)
	}
	if name[0] == '.' && (len(name) == 1 || len(name) == 2 && name[1] == '.') {
		dst = append(dst, "%2E"...)
		return append(dst, name[1:]...)
	}
	for i := 0; i < len(name); {
		c := name[i]
		if c < utf8.RuneSelf {
			if c == '%' || c == '/' || c < 0x20 || c == 0x7f {
				dst = appendPct(dst, c)
			} else {
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(name[i:])
		if r == utf8.RuneError && size == 1 {
			dst = appendPct(dst, c)
			i++
			continue
		}
		dst = append(dst, name[i:i+size]...)
		i += size
	}
	return dst
}

// EscapeString is EscapeName for a string.
func EscapeString(name string) string {
	return string(EscapeName(nil, []byte(name)))
}

func appendPct(dst []byte, c byte) []byte {
	const upper = "0123456789ABCDEF"
	return append(dst, '%', upper[c>>4], upper[c&0xf])
}

// AppendDigestName appends the name of a record without a stored key: its
// digest as 40 lower-case hexadecimal digits.
func AppendDigestName(dst []byte, d *[20]byte) []byte {
	return hex.AppendEncode(dst, d[:])
}

// AppendKeyName appends the base file name of a record with a stored key:
// the escaped string or bytes, the decimal integer, or the shortest float
// text. ok is false when the key has no name (no key) and long is true when
// the name was cut at MaxNameLen and needs AppendDigestSuffix.
func AppendKeyName(dst []byte, k *asb.Key) (out []byte, long bool, ok bool) {
	start := len(dst)
	switch k.Type {
	case asb.KeyInt:
		return strconv.AppendInt(dst, k.Int, 10), false, true
	case asb.KeyFloat:
		return EscapeName(dst, AppendFloat(nil, k.Float)), false, true
	case asb.KeyString, asb.KeyString64, asb.KeyBytes:
		dst = EscapeName(dst, k.Bytes)
	default:
		return dst, false, false
	}
	if len(dst)-start <= MaxNameLen {
		return dst, false, true
	}
	// Cut at MaxNameLen, backing off so that no escape or rune is split.
	cut := start + MaxNameLen
	for cut > start && !utf8.RuneStart(dst[cut]) {
		cut--
	}
	for i := cut - 1; i >= cut-2 && i >= start; i-- {
		if dst[i] == '%' {
			cut = i
			break
		}
	}
	return dst[:cut], true, true
}

// KeySuffix returns the suffix a record name gets when records of different
// key types would share a name: "%int", "%float", "%str", "%bytes", or
// "%nokey" for a digest-named record.
func KeySuffix(t asb.KeyType) string {
	switch t {
	case asb.KeyInt:
		return "%int"
	case asb.KeyFloat:
		return "%float"
	case asb.KeyString, asb.KeyString64:
		return "%str"
	case asb.KeyBytes:
		return "%bytes"
	}
	return "%nokey"
}

// AppendDigestSuffix appends "%d" and the digest in hex, the suffix that
// makes any record name unique within its set.
func AppendDigestSuffix(dst []byte, d *[20]byte) []byte {
	dst = append(dst, "%d"...)
	return hex.AppendEncode(dst, d[:])
}
