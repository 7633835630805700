package asb

import (
	"math"
	"math/bits"
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
	b := math.Float64bits(f)
	if b>>63 != 0 {
		dst = append(dst, '-')
		b &^= 1 << 63
	}
	if b == 0 {
		return append(dst, '0')
	}
	var dig [17]byte
	d, x, ok := digits17(b)
	if ok {
		// Write the 17 digits of d, two at a time from the end.
		for i := 15; i > 0; i -= 2 {
			q := d / 100
			r := (d - q*100) * 2
			dig[i], dig[i+1] = digitPairs[r], digitPairs[r+1]
			d = q
		}
		dig[0] = byte('0' + d)
	} else {
		// strconv's %e with 16 decimals yields the same 17 digits.
		var tmp [32]byte
		e := strconv.AppendFloat(tmp[:0], math.Float64frombits(b), 'e', 16, 64)
		// e is "d.dddddddddddddddde±XX" (two or three exponent digits).
		dig[0] = e[0]
		copy(dig[1:], e[2:18])
		x = 0
		for _, c := range e[20:] {
			x = x*10 + int(c-'0')
		}
		if e[19] == '-' {
			x = -x
		}
	}
	nd := 17 // significant digits without trailing zeros
	for nd > 1 && dig[nd-1] == '0' {
		nd--
	}
	// C's %g: exponential notation when the exponent is below -4 or at
	// least the precision; trailing zeros are dropped either way.
	if x < -4 || x >= 17 {
		dst = append(dst, dig[0])
		if nd > 1 {
			dst = append(dst, '.')
			dst = append(dst, dig[1:nd]...)
		}
		dst = append(dst, 'e', '+')
		if x < 0 {
			dst[len(dst)-1] = '-'
			x = -x
		}
		if x < 100 {
			return append(dst, digitPairs[2*x], digitPairs[2*x+1])
		}
		return append(dst, byte('0'+x/100), digitPairs[2*(x%100)], digitPairs[2*(x%100)+1])
	}
	dp := x + 1 // position of the decimal point in the digits
	if dp <= 0 {
		// 0.000ddd
		dst = append(dst, '0', '.')
		dst = append(dst, "0000"[:-dp]...)
		return append(dst, dig[:nd]...)
	}
	if dp >= nd {
		// ddd000
		dst = append(dst, dig[:nd]...)
		return append(dst, "0000000000000000"[:dp-nd]...)
	}
	// ddd.ddd
	dst = append(dst, dig[:dp]...)
	dst = append(dst, '.')
	return append(dst, dig[dp:nd]...)
}

// digits17 returns the positive normal double with bits b rounded to 17
// significant digits: d in [10^16, 10^17) and the decimal exponent x, so
// that the value is about d * 10^(x-16). ok is false for subnormals and
// whenever the 128-bit power of ten leaves the rounding in doubt (a tie
// or a value too close to one); strconv then does the exact work.
func digits17(b uint64) (d uint64, x int, ok bool) {
	be := int(b >> 52)
	if be == 0 {
		return 0, 0, false
	}
	m := b&(1<<52-1) | 1<<52
	e2 := be - 1075 // the value is m * 2^e2, 2^52 <= m < 2^53
	// floor(log10(2^(e2+52))) (78913 / 2^18 approximates log10(2)); the
	// value's own decimal exponent is this or one more.
	x = (e2 + 52) * 78913 >> 18
	for try := 0; try < 2; try++ {
		q := 16 - x
		if q < pow10Min || q > pow10Max {
			return 0, 0, false
		}
		tab := pow10Table()
		p := &tab[q-pow10Min]
		// 10^q lies in [P, P+1) * 2^E with P the 128-bit table entry, so
		// V = m * 2^e2 * 10^q lies in [N, N+m) / 2^sh with N = m*P.
		sh := -(e2 + int(pow10Exp[q-pow10Min]))
		if sh < 65 || sh > 127 {
			return 0, 0, false
		}
		a1, a0 := bits.Mul64(m, p[1])
		b1, b0 := bits.Mul64(m, p[0])
		n1, c := bits.Add64(a1, b0, 0)
		n2 := b1 + c
		n0 := a0
		// Round half up at both ends of the interval: add 2^(sh-1).
		h1, c1 := bits.Add64(n1, 1<<uint(sh-65), 0)
		h2 := n2 + c1
		lo := h2<<uint(128-sh) | h1>>uint(sh-64)
		_, c2 := bits.Add64(n0, m-1, 0)
		u1, c3 := bits.Add64(h1, 0, c2)
		u2 := h2 + c3
		hi := u2<<uint(128-sh) | u1>>uint(sh-64)
		// A rounding that differs across the interval, or a lower end
		// exactly halfway (possibly a tie, which rounds to even), is left
		// to strconv.
		if lo != hi || (n0 == 0 && h1&(1<<uint(sh-64)-1) == 0) {
			return 0, 0, false
		}
		switch {
		case lo >= 1e17:
			if lo == 1e17 && try == 1 {
				// rounded up to the next power of ten
				return 1e16, x + 1, true
			}
			x++
			continue
		case lo < 1e16:
			return 0, 0, false
		}
		return lo, x, true
	}
	return 0, 0, false
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

// escapeAppend appends s with '\\', ' ' and '\n' backslash-escaped, as the
// legacy writer escapes names, and NUL (which the legacy writer never
// meets in its C strings, and which ends a token for its reader).
func escapeAppend(dst, s []byte) []byte {
	if !needsEscape(s) {
		return append(dst, s...)
	}
	for _, c := range s {
		if c == '\\' || c == ' ' || c == '\n' || c == 0 {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return dst
}

// escTable also holds NUL, which ends any token for the legacy reader
// unless it is escaped.
var escTable = stopTable(" \n\\\x00")

func needsEscape(s []byte) bool {
	for _, c := range s {
		if escTable[c] {
			return true
		}
	}
	return false
}
