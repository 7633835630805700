package asb

import (
	"encoding/binary"
	"math"
	"math/big"
	"math/bits"
	"sync"
)

// Fast decimal-to-double conversion for the record path, after Lemire's
// "Number Parsing at a Gigabyte per Second" (the Eisel-Lemire method): a
// decimal mantissa of at most 19 digits is multiplied by a 128-bit
// truncation of the power of ten, and the result is used only when the
// truncation provably cannot change the correctly rounded double. Every
// other case (more digits, subnormal or overflowing results, products too
// close to a rounding boundary) is left to strconv.ParseFloat, so the
// results are exactly ParseFloat's.

const (
	pow10Min = -348
	pow10Max = 347
)

var (
	pow10Once sync.Once
	pow10Tab  *[pow10Max - pow10Min + 1][2]uint64
	// pow10Exp[q-pow10Min] is the binary exponent E of the table entry P
	// for q: 10^q lies in [P, P+1) * 2^E.
	pow10Exp [pow10Max - pow10Min + 1]int16
)

// pow10Table returns, for each q in [pow10Min, pow10Max], the 128 most
// significant bits of 10^q (rounded down) as {high, low} 64-bit halves.
// It is built on first use from exact big-integer arithmetic.
func pow10Table() *[pow10Max - pow10Min + 1][2]uint64 {
	pow10Once.Do(func() {
		t := new([pow10Max - pow10Min + 1][2]uint64)
		mask := new(big.Int).SetUint64(math.MaxUint64)
		ten := big.NewInt(10)
		split := func(q int, v *big.Int, e int) {
			pow10Exp[q-pow10Min] = int16(e)
			lo := new(big.Int).And(v, mask).Uint64()
			hi := new(big.Int).Rsh(v, 64).Uint64()
			t[q-pow10Min] = [2]uint64{hi, lo}
		}
		// Non-negative powers: shift 10^q so that it has exactly 128 bits.
		p := big.NewInt(1)
		for q := 0; q <= pow10Max; q++ {
			v := new(big.Int)
			l := p.BitLen()
			if l >= 128 {
				v.Rsh(p, uint(l-128))
			} else {
				v.Lsh(p, uint(128-l))
			}
			split(q, v, l-128)
			p.Mul(p, ten)
		}
		// Negative powers: floor(2^k / 10^-q) with k chosen so that the
		// quotient has exactly 128 bits (10^-q is not a power of two, so
		// the quotient lies strictly between 2^127 and 2^128).
		d := big.NewInt(1)
		for q := -1; q >= pow10Min; q-- {
			d.Mul(d, ten)
			k := d.BitLen() + 127
			num := new(big.Int).Lsh(big.NewInt(1), uint(k))
			split(q, num.Quo(num, d), -k)
		}
		pow10Tab = t
	})
	return pow10Tab
}

// eiselLemire returns man * 10^q correctly rounded to a double, negated if
// neg, or ok == false when the method cannot decide (the caller then uses
// an exact algorithm).
func eiselLemire(man uint64, q int, neg bool) (f float64, ok bool) {
	if man == 0 {
		if neg {
			return math.Copysign(0, -1), true
		}
		return 0, true
	}
	if q < pow10Min || q > pow10Max {
		return 0, false
	}
	pow := &pow10Table()[q-pow10Min]
	lz := bits.LeadingZeros64(man)
	man <<= uint(lz)
	// Binary exponent estimate: floor(q * log2(10)) + 63 + bias, less the
	// normalization shift; 217706 / 2^16 approximates log2(10) closely
	// enough over the table's range.
	exp2 := uint64(217706*q>>16+64+1023) - uint64(lz)
	hi, lo := bits.Mul64(man, pow[0])
	// The 9 bits below the 54 kept ones are all ones and the low half
	// could overflow into them: refine with the power's next 64 bits.
	if hi&0x1ff == 0x1ff && lo+man < man {
		hi2, lo2 := bits.Mul64(man, pow[1])
		mhi, mlo := hi, lo+hi2
		if mlo < lo {
			mhi++
		}
		if mhi&0x1ff == 0x1ff && mlo+1 == 0 && lo2+man < man {
			return 0, false
		}
		hi, lo = mhi, mlo
	}
	top := hi >> 63
	m := hi >> (top + 9)
	exp2 -= 1 ^ top
	// An exact tie between two doubles cannot be told apart from a value
	// just above or below it with the truncated power.
	if lo == 0 && hi&0x1ff == 0 && m&3 == 1 {
		return 0, false
	}
	m += m & 1 // round half up on the extra bit, then drop it
	m >>= 1
	if m>>53 > 0 {
		m >>= 1
		exp2++
	}
	// Subnormal or infinite results are not handled here.
	if exp2-1 >= 0x7ff-1 {
		return 0, false
	}
	b := exp2<<52 | m&(1<<52-1)
	if neg {
		b |= 1 << 63
	}
	return math.Float64frombits(b), true
}

// scanFloat reads a double starting at b[i] in the plain form
// -?D+(.D+)?(e[+-]?D+)? followed by a line feed, and returns it with the
// index of the line feed. end < 0 means the text is not in that form or
// the line feed is not in b; the general parser then decides. The value is
// exactly what parseFloatToken returns for the same text.
func scanFloat(b []byte, i int) (f float64, end int) {
	start := i
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	var man uint64
	nd := 0 // significant digits in man; more than 19 go to ParseFloat
	s := i
	i, man, nd = scanDigits(b, i, man, nd)
	if i == s {
		return 0, -1
	}
	frac := 0 // digits after the point
	if i < len(b) && b[i] == '.' {
		i++
		s = i
		i, man, nd = scanDigits(b, i, man, nd)
		if i == s {
			return 0, -1
		}
		frac = i - s
	}
	exp := 0
	if i < len(b) && b[i] == 'e' {
		i++
		eneg := false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			eneg = b[i] == '-'
			i++
		}
		s = i
		for ; i < len(b) && b[i]-'0' <= 9; i++ {
			exp = exp*10 + int(b[i]-'0')
		}
		if i == s || i-s > 4 {
			return 0, -1
		}
		if eneg {
			exp = -exp
		}
	}
	if i >= len(b) || b[i] != '\n' {
		return 0, -1
	}
	if nd <= 19 {
		if f, ok := eiselLemire(man, exp-frac, neg); ok {
			return f, i
		}
	}
	f, ok := parseFloatToken(b[start:i])
	if !ok {
		return 0, -1
	}
	return f, i
}

// scanDigits accumulates the decimal digits from b[i] into man, skipping
// leading zeros; nd counts the significant digits, and goes past 19 (with
// man no longer updated) when there are too many for a uint64.
func scanDigits(b []byte, i int, man uint64, nd int) (int, uint64, int) {
	// Leading zeros, up to the first significant digit.
	for man == 0 && i < len(b) {
		c := b[i] - '0'
		if c > 9 {
			return i, man, nd
		}
		if c != 0 {
			man, nd = uint64(c), 1
		}
		i++
	}
	// Eight digits at once while they all are digits and fit.
	for nd <= 11 && i+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[i : i+8])
		if x&0xF0F0F0F0F0F0F0F0 != 0x3030303030303030 ||
			(x+0x0606060606060606)&0xF0F0F0F0F0F0F0F0 != 0x3030303030303030 {
			break
		}
		man = man*100000000 + eightDigits(x)
		nd += 8
		i += 8
	}
	for ; i < len(b); i++ {
		c := b[i] - '0'
		if c > 9 {
			break
		}
		if nd < 19 {
			man = man*10 + uint64(c)
			nd++
		} else {
			nd = 20
		}
	}
	return i, man, nd
}

// eightDigits returns the value of the 8 ASCII digits in x (first digit
// in the low byte), combining neighbours pairwise: digits into 2-digit
// values in 16-bit lanes, those into 4-digit values, then the result.
func eightDigits(x uint64) uint64 {
	x -= 0x3030303030303030
	x = (x*10 + x>>8) & 0x00FF00FF00FF00FF
	x = (x*100 + x>>16) & 0x0000FFFF0000FFFF
	return (x*10000 + x>>32) & 0xFFFFFFFF
}
