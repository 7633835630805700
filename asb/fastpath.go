package asb

import (
	"encoding/binary"
	"math"
)

// The record fast path.
//
// Most records in a backup use only the plain forms of the grammar: names
// without escapes, unsigned short numbers, canonical doubles, and complete
// lines already in the read buffer. fastRecord decodes exactly those
// records in one pass with direct byte comparisons. As soon as it meets
// anything else (an escape, a long or signed field, a truncated buffer, a
// value the general parser would reject, ...) it gives up, and the general
// parser decodes the record from its start; errors and corner cases are
// therefore always the general parser's. A record fastRecord accepts
// decodes to exactly the value the general parser produces (the tests
// compare the two on many inputs).

// linePrefix returns the 4 bytes "+ c " as a little-endian word.
func linePrefix(c byte) uint32 {
	return uint32('+') | uint32(' ')<<8 | uint32(c)<<16 | uint32(' ')<<24
}

var (
	prefixKey   = linePrefix('k')
	prefixNS    = linePrefix('n')
	prefixDig   = linePrefix('d')
	prefixSet   = linePrefix('s')
	prefixGen   = linePrefix('g')
	prefixTTL   = linePrefix('t')
	prefixCount = linePrefix('b')
)

// hasPrefix reports whether b[i:] starts with the 4-byte word w.
func hasPrefix(b []byte, i int, w uint32) bool {
	return i+4 <= len(b) && binary.LittleEndian.Uint32(b[i:]) == w
}

// plainName scans a name token from b[i] up to (not including) the first
// space or line feed. It returns the delimiter's index, or -1 when the
// name holds a backslash, is longer than limit or is not terminated in b.
func plainName(b []byte, i, limit int) int {
	end := min(len(b), i+limit+1)
	j := i
	for j < end && !stopSpaceLF[b[j]] {
		j++
	}
	if j < end && b[j] != '\\' {
		return j
	}
	return -1
}

// plainLine is plainName for tokens that end only at a line feed.
func plainLine(b []byte, i, limit int) int {
	end := min(len(b), i+limit+1)
	j := i
	for j < end && !stopLF[b[j]] {
		j++
	}
	if j < end && b[j] == '\n' {
		return j
	}
	return -1
}

// plainInt reads an optionally negative integer of 1 to 18 digits followed
// by a line feed, the form the general parser also reads directly. It
// returns the line feed's index, or -1.
func plainInt(b []byte, i int) (int64, int) {
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	var v int64
	s := i
	end := min(len(b), i+18)
	for ; i < end; i++ {
		c := b[i] - '0'
		if c > 9 {
			break
		}
		v = v*10 + int64(c)
	}
	if i == s || i >= len(b) || b[i] != '\n' {
		return 0, -1
	}
	if neg {
		v = -v
	}
	return v, i
}

// plainSize reads a length of 1 to 15 digits followed by a space and
// returns the space's index, or -1.
func plainSize(b []byte, i int) (int, int) {
	v := 0
	s := i
	end := min(len(b), i+15)
	for ; i < end; i++ {
		c := b[i] - '0'
		if c > 9 {
			break
		}
		v = v*10 + int(c)
	}
	if i == s || i >= len(b) || b[i] != ' ' {
		return 0, -1
	}
	return v, i
}

// rawField reads "<size> <bytes>\n" at b[i] and returns the bytes and the
// index of the line feed, or -1.
func rawField(b []byte, i int) ([]byte, int) {
	n, j := plainSize(b, i)
	if j < 0 {
		return nil, -1
	}
	s := j + 1
	e := s + n
	if e >= len(b) || b[e] != '\n' {
		return nil, -1
	}
	return b[s:e:e], e
}

// b64Field reads "<encoded size> <base64>\n" at b[i], decodes into the
// arena and returns the value and the index of the line feed, or -1.
func (p *parser) b64Field(b []byte, i int) ([]byte, int) {
	n, j := plainSize(b, i)
	if j < 0 || n&3 != 0 {
		return nil, -1
	}
	s := j + 1
	e := s + n
	if e >= len(b) || b[e] != '\n' {
		return nil, -1
	}
	dst := p.ar.alloc(n / 4 * 3)
	m, bad := decodeBase64(dst, b[s:e])
	if bad >= 0 {
		return nil, -1
	}
	return dst[:m:m], e
}

// fastRecord decodes the record starting at p.b[0] ('+') if it is in the
// plain form described above and wholly in the buffer; then it sets p.i
// past the record and returns true. Otherwise it returns false and the
// record must be decoded by the general parser (rec is left partly
// filled, which the general parser resets).
func (p *parser) fastRecord(rec *Record) bool {
	b := p.b
	bins := rec.Bins[:0]
	*rec = Record{Bins: bins}
	i := 0
	if hasPrefix(b, i, prefixKey) {
		i = p.fastKey(&rec.Key, b, i+4)
		if i < 0 {
			return false
		}
		i++
	}
	if !hasPrefix(b, i, prefixNS) {
		return false
	}
	i += 4
	e := plainLine(b, i, maxNamespace)
	if e < 0 {
		return false
	}
	rec.Namespace = b[i:e:e]
	i = e + 1
	// "+ d " and 28 base64 characters decoding to 21 bytes, of which the
	// legacy reader keeps 20.
	if !hasPrefix(b, i, prefixDig) || i+4+28 >= len(b) || b[i+4+28] != '\n' {
		return false
	}
	if !decodeDigest(&rec.Digest, (*[28]byte)(b[i+4:i+4+28])) {
		return false
	}
	i += 4 + 28 + 1
	if hasPrefix(b, i, prefixSet) {
		i += 4
		e := plainLine(b, i, maxSet)
		if e < 0 {
			return false
		}
		rec.Set, rec.HasSet = b[i:e:e], true
		i = e + 1
	}
	if !hasPrefix(b, i, prefixGen) {
		return false
	}
	g, e := plainInt(b, i+4)
	if e < 0 || g < 0 || g > math.MaxUint16 {
		return false
	}
	rec.Generation = uint16(g)
	i = e + 1
	if !hasPrefix(b, i, prefixTTL) {
		return false
	}
	t, e := plainInt(b, i+4)
	if e < 0 || t < 0 || t > math.MaxUint32 {
		return false
	}
	rec.VoidTime = uint32(t)
	i = e + 1
	if !hasPrefix(b, i, prefixCount) {
		return false
	}
	n, e := plainInt(b, i+4)
	if e < 0 || n < 0 || n > math.MaxUint16 {
		return false
	}
	i = e + 1
	for k := 0; k < int(n); k++ {
		bins = append(bins, Bin{})
		i = p.fastBin(&bins[len(bins)-1], b, i)
		if i < 0 {
			return false
		}
		i++
	}
	rec.Bins = bins
	p.i = i
	return true
}

// fastKey reads the value of a "+ k " line at b[i] (the type letter) and
// returns the index of the line's line feed, or -1.
func (p *parser) fastKey(k *Key, b []byte, i int) int {
	if i+2 > len(b) {
		return -1
	}
	t := b[i]
	if b[i+1] == '!' && t == 'B' {
		k.Compact = true
		i++
	}
	if i+1 >= len(b) || b[i+1] != ' ' {
		return -1
	}
	i += 2
	var e int
	switch t {
	case 'I':
		k.Type = KeyInt
		k.Int, e = plainInt(b, i)
	case 'D':
		k.Type = KeyFloat
		k.Float, e = scanFloat(b, i)
	case 'S':
		k.Type = KeyString
		k.Bytes, e = rawField(b, i)
	case 'X':
		k.Type = KeyString64
		k.Bytes, e = p.b64Field(b, i)
	case 'B':
		k.Type = KeyBytes
		if k.Compact {
			k.Bytes, e = rawField(b, i)
		} else {
			k.Bytes, e = p.b64Field(b, i)
		}
		if len(k.Bytes) > math.MaxUint32 {
			return -1
		}
	default:
		return -1
	}
	return e
}

// fastBin reads a bin line at b[i] and returns the index of its line feed,
// or -1.
func (p *parser) fastBin(bn *Bin, b []byte, i int) int {
	// "- T" or "- T!", then a space.
	if i+4 > len(b) || b[i] != '-' || b[i+1] != ' ' {
		return -1
	}
	t := BinType(b[i+2])
	i += 3
	if b[i] == '!' {
		bn.Compact = true
		i++
	}
	if i >= len(b) || b[i] != ' ' {
		return -1
	}
	i++
	// Names of at most 15 bytes pass the legacy length check whatever
	// they hold.
	e := plainName(b, i, maxBinName)
	if e < 0 {
		return -1
	}
	bn.Name = b[i:e:e]
	bn.Type = t
	if t == BinNil {
		if b[e] != '\n' {
			return -1
		}
		return e
	}
	if b[e] != ' ' {
		return -1
	}
	i = e + 1
	switch t {
	case BinInt:
		bn.Int, e = plainInt(b, i)
	case BinFloat:
		bn.Float, e = scanFloat(b, i)
	case BinString, BinGeoJSON:
		bn.Bytes, e = rawField(b, i)
	case BinString64:
		bn.Bytes, e = p.b64Field(b, i)
	case BinBool:
		if i+1 >= len(b) || b[i+1] != '\n' {
			return -1
		}
		switch b[i] {
		case 'T':
			bn.Bool = true
		case 'F':
		default:
			return -1
		}
		e = i + 1
	case BinBlob, BinJava, BinCSharp, BinPython, BinRuby, BinPHP, BinErlang, BinHLL, BinMap, BinList:
		if bn.Compact {
			bn.Bytes, e = rawField(b, i)
		} else {
			bn.Bytes, e = p.b64Field(b, i)
		}
		if len(bn.Bytes) > math.MaxUint32 {
			return -1
		}
	default:
		return -1
	}
	return e
}
