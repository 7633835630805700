package asb

import (
	"encoding/base64"
	"math"
	"strconv"
)

const (
	nanBits    = 0x7ff8000000000000
	negNanBits = 0xfff8000000000000
)

func f64bits(f float64) uint64 { return math.Float64bits(f) }

// AppendFloat appends f the way the legacy tools print doubles (C's "%.17g"
// on glibc): "nan", "-nan", "inf", "-inf", "-0", "0.10000000000000001",
// "4.9406564584124654e-324".
func AppendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		if math.Signbit(f) {
			return append(dst, "-nan"...)
		}
		return append(dst, "nan"...)
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	return strconv.AppendFloat(dst, f, 'g', 17, 64)
}

// floatBadIndex returns the index of the first byte at which the legacy
// reader's incremental floating-point check fails, or -1.
func floatBadIndex(tok []byte) int {
	start := 0
	if len(tok) > 0 && (tok[0] == '+' || tok[0] == '-') {
		start = 1
	}
	// numeric state machine: first failing index
	numFail := len(tok)
	dot, ex := false, false
	var prev, ch byte
	for i := start; i < len(tok); i++ {
		prev, ch = ch, tok[i]
		switch {
		case ch >= '0' && ch <= '9':
			continue
		case (ch == '+' || ch == '-') && prev == 'e':
			continue
		case ch == '.' && !dot && !ex:
			dot = true
			continue
		case ch == 'e' && !ex:
			ex = true
			continue
		}
		numFail = i
		break
	}
	for l := start + 1; l <= len(tok); l++ {
		if l-1 < numFail {
			continue
		}
		rest := tok[start:l]
		if prefixFold(rest, "nan") || prefixFold(rest, "inf") || prefixFold(rest, "infinity") {
			continue
		}
		return l - 1
	}
	return -1
}

func prefixFold(s []byte, word string) bool {
	if len(s) > len(word) {
		return false
	}
	for i := range s {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != word[i] {
			return false
		}
	}
	return true
}

func equalFold(s []byte, word string) bool { return len(s) == len(word) && prefixFold(s, word) }

// parseFloatToken converts a token that passed floatBadIndex the way strtod
// does. ok is false when strtod would not consume the whole token.
func parseFloatToken(tok []byte) (float64, bool) {
	if len(tok) == 0 {
		// strtod("") converts nothing but leaves *end == 0: the legacy
		// reader takes it as 0.
		return 0, true
	}
	neg := false
	body := tok
	if body[0] == '+' || body[0] == '-' {
		neg = body[0] == '-'
		body = body[1:]
	}
	switch {
	case equalFold(body, "nan"):
		if neg {
			return math.Float64frombits(negNanBits), true
		}
		return math.Float64frombits(nanBits), true
	case equalFold(body, "inf"), equalFold(body, "infinity"):
		if neg {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	// Only digits, one '.', one 'e' and exponent signs remain here.
	mant := false
	for i, c := range body {
		if c >= '0' && c <= '9' {
			mant = true
		}
		if c == 'e' {
			if !mant {
				return 0, false
			}
			exp := body[i+1:]
			if len(exp) > 0 && (exp[0] == '+' || exp[0] == '-') {
				exp = exp[1:]
			}
			if len(exp) == 0 {
				return 0, false
			}
			break
		}
	}
	if !mant {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}

var b64map = func() (m [256]byte) {
	for i := range m {
		m[i] = 0xff
	}
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(alpha); i++ {
		m[alpha[i]] = byte(i)
	}
	m['='] = 0
	return
}()

// decodeBase64 decodes src (len a multiple of 4) into dst (len >= len(src)/4*3)
// with the legacy reader's rules: '=' counts as a zero digit anywhere, and
// the decoded size is 3 per group, 2 if the group ends in "=", 1 if it ends
// in "==". It returns the decoded size, or the index of the first group
// holding a byte outside the alphabet (bad >= 0).
func decodeBase64(dst, src []byte) (n int, bad int) {
	if len(src) == 0 {
		return 0, -1
	}
	if len(src) < 512 {
		return decodeBase64Small(dst, src)
	}
	// Fast path: canonical base64 without line breaks.
	{
		// The standard decoder skips CR and LF; a result of the expected
		// size proves there were none (skipping needs 4 of them).
		if m, err := base64.StdEncoding.Decode(dst, src); err == nil && m == legacyB64Size(src) {
			return m, -1
		}
	}
	return decodeBase64Small(dst, src)
}

func decodeBase64Small(dst, src []byte) (n int, bad int) {
	size := 0
	for g := 0; g+4 <= len(src); g += 4 {
		d1, d2, d3, d4 := b64map[src[g]], b64map[src[g+1]], b64map[src[g+2]], b64map[src[g+3]]
		if (d1|d2|d3|d4)&0x80 != 0 {
			return 0, g
		}
		o := g / 4 * 3
		dst[o] = d1<<2 | d2>>4
		dst[o+1] = d2<<4 | d3>>2
		dst[o+2] = d3<<6 | d4
		size += 3
		if src[g+3] == '=' {
			size--
			if src[g+2] == '=' {
				size--
			}
		}
	}
	return size, -1
}

func legacyB64Size(src []byte) int {
	n := len(src) / 4 * 3
	if len(src) >= 4 && src[len(src)-1] == '=' {
		if src[len(src)-2] == '=' {
			n -= 2
		} else {
			n--
		}
	}
	return n
}

// escapeAppend appends s with '\\', ' ' and '\n' backslash-escaped, as the
// legacy writer escapes names.
func escapeAppend(dst, s []byte) []byte {
	if !needsEscape(s) {
		return append(dst, s...)
	}
	for _, c := range s {
		if c == '\\' || c == ' ' || c == '\n' {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return dst
}

var escTable = stopTable(" \n\\")

func needsEscape(s []byte) bool {
	for _, c := range s {
		if escTable[c] {
			return true
		}
	}
	return false
}
