package asb

import "encoding/binary"

// Base64 in the legacy dialect, tuned for the record path.
//
// Decoding looks each character up in one of four tables, one per position
// in a 4-character group, whose entries hold the 6-bit digit already
// shifted into place within the group's 24 bits. OR-ing four lookups
// yields the group's three bytes; bits above the low 24 flag the cases the
// fast loop does not handle (a byte outside the alphabet, or a '=' in the
// third or fourth position, which shortens the group), so one test per 8
// characters covers them all and the exact, group-by-group loop takes over
// from there.
//
// Encoding maps each 12 input bits to two output characters through one
// 4096-entry table and stores 8 characters at a time.

const (
	// b64Bad flags a byte outside the alphabet.
	b64Bad = 1 << 31
	// b64Pad flags '=' in a group's third or fourth position.
	b64Pad = 1 << 30
	// b64Flags covers both.
	b64Flags = b64Bad | b64Pad
)

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// b64dec[k][c] is character c's contribution to a group's 24 bits when it
// stands at position k of the group.
var b64dec = func() (t [4][256]uint32) {
	for k := 0; k < 4; k++ {
		for c := range t[k] {
			t[k][c] = b64Bad
		}
		shift := 18 - 6*k
		for v := 0; v < len(b64Alphabet); v++ {
			t[k][b64Alphabet[v]] = uint32(v) << shift
		}
		// The legacy reader takes '=' as a zero digit anywhere; only at
		// the end of a group does it change the decoded size.
		t[k]['='] = 0
		if k >= 2 {
			t[k]['='] = b64Pad
		}
	}
	return
}()

// b64enc2[v] holds the two characters encoding the 12-bit value v, first
// character in the low byte.
var b64enc2 = func() (t [4096]uint16) {
	for v := range t {
		t[v] = uint16(b64Alphabet[v>>6]) | uint16(b64Alphabet[v&63])<<8
	}
	return
}()

// decodeBase64 decodes src (len a multiple of 4) into dst (len >= len(src)/4*3)
// with the legacy reader's rules: '=' counts as a zero digit anywhere, and
// the decoded size is 3 per group, 2 if the group ends in "=", 1 if it ends
// in "==". It returns the decoded size, or the index of the first group
// holding a byte outside the alphabet (bad >= 0).
func decodeBase64(dst, src []byte) (n int, bad int) {
	d0, d1, d2, d3 := &b64dec[0], &b64dec[1], &b64dec[2], &b64dec[3]
	g, o := 0, 0
	// Eight groups per step, validated together; the last 8-byte store
	// writes 2 bytes beyond the 24 decoded ones, so dst must have room
	// for them (the next step or the tail overwrites them). When a step
	// meets a flagged byte, the exact loop below redoes its groups.
	for ; g+32 <= len(src) && o+26 <= len(dst); g, o = g+32, o+24 {
		s := (*[32]byte)(src[g : g+32])
		x0 := binary.LittleEndian.Uint64(s[0:8])
		x1 := binary.LittleEndian.Uint64(s[8:16])
		x2 := binary.LittleEndian.Uint64(s[16:24])
		x3 := binary.LittleEndian.Uint64(s[24:32])
		a0, b0 := decodeGroups(x0, d0, d1, d2, d3)
		a1, b1 := decodeGroups(x1, d0, d1, d2, d3)
		a2, b2 := decodeGroups(x2, d0, d1, d2, d3)
		a3, b3 := decodeGroups(x3, d0, d1, d2, d3)
		if (a0|b0|a1|b1|a2|b2|a3|b3)&b64Flags != 0 {
			break
		}
		d := (*[26]byte)(dst[o : o+26])
		binary.BigEndian.PutUint64(d[0:8], uint64(a0)<<40|uint64(b0)<<16)
		binary.BigEndian.PutUint64(d[6:14], uint64(a1)<<40|uint64(b1)<<16)
		binary.BigEndian.PutUint64(d[12:20], uint64(a2)<<40|uint64(b2)<<16)
		binary.BigEndian.PutUint64(d[18:26], uint64(a3)<<40|uint64(b3)<<16)
	}
	for ; g+8 <= len(src) && o+8 <= len(dst); g, o = g+8, o+6 {
		a, b := decodeGroups(binary.LittleEndian.Uint64(src[g:g+8]), d0, d1, d2, d3)
		if (a|b)&b64Flags != 0 {
			break
		}
		binary.BigEndian.PutUint64(dst[o:o+8], uint64(a)<<40|uint64(b)<<16)
	}
	// Remaining groups one at a time, with the exact size and error rules.
	n = o
	for ; g+4 <= len(src); g, o = g+4, o+3 {
		s := src[g : g+4 : g+4]
		v := d0[s[0]] | d1[s[1]] | d2[s[2]] | d3[s[3]]
		if v&b64Bad != 0 {
			return 0, g
		}
		d := dst[o : o+3 : o+3]
		d[0], d[1], d[2] = byte(v>>16), byte(v>>8), byte(v)
		n += 3
		if s[3] == '=' {
			n--
			if s[2] == '=' {
				n--
			}
		}
	}
	return n, -1
}

// decodeGroups decodes the two groups in the 8 characters of x (first
// character in the low byte) to their 24 bits each, with flags.
func decodeGroups(x uint64, d0, d1, d2, d3 *[256]uint32) (a, b uint32) {
	a = d0[byte(x)] | d1[byte(x>>8)] | d2[byte(x>>16)] | d3[byte(x>>24)]
	b = d0[byte(x>>32)] | d1[byte(x>>40)] | d2[byte(x>>48)] | d3[byte(x>>56)]
	return
}

// decodeDigest decodes the 28 base64 characters of a "+ d" line into the
// 20 bytes the legacy reader keeps (of the 21 they encode). Padding does
// not matter there; ok is false if a byte is outside the alphabet.
func decodeDigest(d *[20]byte, s *[28]byte) (ok bool) {
	d0, d1, d2, d3 := &b64dec[0], &b64dec[1], &b64dec[2], &b64dec[3]
	a0, b0 := decodeGroups(binary.LittleEndian.Uint64(s[0:8]), d0, d1, d2, d3)
	a1, b1 := decodeGroups(binary.LittleEndian.Uint64(s[8:16]), d0, d1, d2, d3)
	a2, b2 := decodeGroups(binary.LittleEndian.Uint64(s[16:24]), d0, d1, d2, d3)
	c := d0[s[24]] | d1[s[25]] | d2[s[26]] | d3[s[27]]
	if (a0|b0|a1|b1|a2|b2|c)&b64Bad != 0 {
		return false
	}
	// Clear the padding flags before assembling the bytes.
	const m = 1<<24 - 1
	a0, b0, a1, b1, a2, b2, c = a0&m, b0&m, a1&m, b1&m, a2&m, b2&m, c&m
	binary.BigEndian.PutUint64(d[0:8], uint64(a0)<<40|uint64(b0)<<16|uint64(a1)>>8)
	binary.BigEndian.PutUint64(d[8:16], uint64(a1)<<56|uint64(b1)<<32|uint64(a2)<<8|uint64(b2)>>16)
	binary.BigEndian.PutUint32(d[16:20], b2<<16|c>>8)
	return true
}

// encodeSix returns the 8 characters (first in the low byte) encoding the
// 6 bytes in the high 48 bits of x.
func encodeSix(x uint64) uint64 {
	return uint64(b64enc2[x>>52]) | uint64(b64enc2[x>>40&0xfff])<<16 |
		uint64(b64enc2[x>>28&0xfff])<<32 | uint64(b64enc2[x>>16&0xfff])<<48
}

// encodeBase64 writes the padded standard base64 encoding of src to dst,
// which must be exactly 4*ceil(len(src)/3) bytes long.
func encodeBase64(dst, src []byte) {
	si, di := 0, 0
	// 24 input bytes become 32 output bytes per step; the last 8-byte load
	// reads two bytes beyond the 24 used.
	for ; si+26 <= len(src) && di+32 <= len(dst); si, di = si+24, di+32 {
		s := (*[26]byte)(src[si : si+26])
		d := (*[32]byte)(dst[di : di+32])
		binary.LittleEndian.PutUint64(d[0:8], encodeSix(binary.BigEndian.Uint64(s[0:8])))
		binary.LittleEndian.PutUint64(d[8:16], encodeSix(binary.BigEndian.Uint64(s[6:14])))
		binary.LittleEndian.PutUint64(d[16:24], encodeSix(binary.BigEndian.Uint64(s[12:20])))
		binary.LittleEndian.PutUint64(d[24:32], encodeSix(binary.BigEndian.Uint64(s[18:26])))
	}
	for ; si+8 <= len(src) && di+8 <= len(dst); si, di = si+6, di+8 {
		binary.LittleEndian.PutUint64(dst[di:di+8], encodeSix(binary.BigEndian.Uint64(src[si:si+8])))
	}
	for ; si+3 <= len(src); si, di = si+3, di+4 {
		s := src[si : si+3 : si+3]
		v := uint(s[0])<<16 | uint(s[1])<<8 | uint(s[2])
		binary.LittleEndian.PutUint32(dst[di:di+4], uint32(b64enc2[v>>12])|uint32(b64enc2[v&0xfff])<<16)
	}
	switch len(src) - si {
	case 1:
		v := uint(src[si]) << 4
		d := dst[di : di+4 : di+4]
		d[0], d[1], d[2], d[3] = b64Alphabet[v>>6], b64Alphabet[v&63], '=', '='
	case 2:
		v := (uint(src[si])<<8 | uint(src[si+1])) << 2
		d := dst[di : di+4 : di+4]
		d[0], d[1], d[2], d[3] = b64Alphabet[v>>12], b64Alphabet[v>>6&63], b64Alphabet[v&63], '='
	}
}
