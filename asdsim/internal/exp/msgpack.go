// Package exp compiles and evaluates Aerospike filter expressions (the
// msgpack wire form sent in the FILTER_EXP field) against stored records.
package exp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// rawStr is a msgpack string or binary value, still carrying the Aerospike
// particle-type prefix byte when it is a literal.
type rawStr []byte

// extVal is a msgpack extension value (used for CDT flags and special
// values such as INFINITY and WILDCARD).
type extVal struct {
	typ  int8
	data []byte
}

// mapVal is a decoded msgpack map (key/value pairs in wire order).
type mapVal [][2]any

var errTrunc = errors.New("msgpack: truncated")

// decoder is a minimal msgpack decoder producing int64, uint64, float64,
// bool, nil, rawStr, []any, mapVal and extVal values.
type decoder struct {
	b     []byte
	pos   int
	depth int
}

func (d *decoder) need(n int) error {
	if n < 0 || len(d.b)-d.pos < n {
		return errTrunc
	}
	return nil
}

func (d *decoder) u8() (byte, error) {
	if err := d.need(1); err != nil {
		return 0, err
	}
	v := d.b[d.pos]
	d.pos++
	return v, nil
}

func (d *decoder) bytesN(n int) ([]byte, error) {
	if err := d.need(n); err != nil {
		return nil, err
	}
	v := d.b[d.pos : d.pos+n]
	d.pos += n
	return v, nil
}

func (d *decoder) uintN(n int) (uint64, error) {
	b, err := d.bytesN(n)
	if err != nil {
		return 0, err
	}
	switch n {
	case 1:
		return uint64(b[0]), nil
	case 2:
		return uint64(binary.BigEndian.Uint16(b)), nil
	case 4:
		return uint64(binary.BigEndian.Uint32(b)), nil
	default:
		return binary.BigEndian.Uint64(b), nil
	}
}

func (d *decoder) value() (any, error) {
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > 256 {
		return nil, errors.New("msgpack: nesting too deep")
	}
	c, err := d.u8()
	if err != nil {
		return nil, err
	}
	switch {
	case c <= 0x7f:
		return int64(c), nil
	case c >= 0xe0:
		return int64(int8(c)), nil
	case c >= 0x80 && c <= 0x8f:
		return d.mapN(int(c & 0x0f))
	case c >= 0x90 && c <= 0x9f:
		return d.arrayN(int(c & 0x0f))
	case c >= 0xa0 && c <= 0xbf:
		b, err := d.bytesN(int(c & 0x1f))
		return rawStr(b), err
	}
	switch c {
	case 0xc0:
		return nil, nil
	case 0xc2:
		return false, nil
	case 0xc3:
		return true, nil
	case 0xc4, 0xc5, 0xc6, 0xd9, 0xda, 0xdb:
		sz := map[byte]int{0xc4: 1, 0xc5: 2, 0xc6: 4, 0xd9: 1, 0xda: 2, 0xdb: 4}[c]
		n, err := d.uintN(sz)
		if err != nil {
			return nil, err
		}
		b, err := d.bytesN(int(n))
		return rawStr(b), err
	case 0xc7, 0xc8, 0xc9:
		sz := map[byte]int{0xc7: 1, 0xc8: 2, 0xc9: 4}[c]
		n, err := d.uintN(sz)
		if err != nil {
			return nil, err
		}
		t, err := d.u8()
		if err != nil {
			return nil, err
		}
		b, err := d.bytesN(int(n))
		return extVal{typ: int8(t), data: b}, err
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		n := 1 << (c - 0xd4)
		t, err := d.u8()
		if err != nil {
			return nil, err
		}
		b, err := d.bytesN(n)
		return extVal{typ: int8(t), data: b}, err
	case 0xca:
		v, err := d.uintN(4)
		return float64(math.Float32frombits(uint32(v))), err
	case 0xcb:
		v, err := d.uintN(8)
		return math.Float64frombits(v), err
	case 0xcc:
		v, err := d.uintN(1)
		return int64(v), err
	case 0xcd:
		v, err := d.uintN(2)
		return int64(v), err
	case 0xce:
		v, err := d.uintN(4)
		return int64(v), err
	case 0xcf:
		v, err := d.uintN(8)
		return int64(v), err
	case 0xd0:
		v, err := d.uintN(1)
		return int64(int8(v)), err
	case 0xd1:
		v, err := d.uintN(2)
		return int64(int16(v)), err
	case 0xd2:
		v, err := d.uintN(4)
		return int64(int32(v)), err
	case 0xd3:
		v, err := d.uintN(8)
		return int64(v), err
	case 0xdc:
		n, err := d.uintN(2)
		if err != nil {
			return nil, err
		}
		return d.arrayN(int(n))
	case 0xdd:
		n, err := d.uintN(4)
		if err != nil {
			return nil, err
		}
		return d.arrayN(int(n))
	case 0xde:
		n, err := d.uintN(2)
		if err != nil {
			return nil, err
		}
		return d.mapN(int(n))
	case 0xdf:
		n, err := d.uintN(4)
		if err != nil {
			return nil, err
		}
		return d.mapN(int(n))
	}
	return nil, fmt.Errorf("msgpack: unsupported type byte 0x%02x", c)
}

func (d *decoder) arrayN(n int) ([]any, error) {
	if n > len(d.b)-d.pos {
		return nil, errTrunc
	}
	out := make([]any, 0, n)
	for i := 0; i < n; i++ {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (d *decoder) mapN(n int) (mapVal, error) {
	if n > len(d.b)-d.pos {
		return nil, errTrunc
	}
	out := make(mapVal, 0, n)
	for i := 0; i < n; i++ {
		k, err := d.value()
		if err != nil {
			return nil, err
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		out = append(out, [2]any{k, v})
	}
	return out, nil
}

// decode decodes exactly one msgpack value occupying all of b.
func decode(b []byte) (any, error) {
	d := &decoder{b: b}
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	if d.pos != len(b) {
		return nil, fmt.Errorf("msgpack: %d trailing bytes", len(b)-d.pos)
	}
	return v, nil
}
