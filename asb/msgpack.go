package asb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Values produced by DecodeMsgpack and Bin.Value, beside nil, bool, int64,
// uint64, float64, string and []byte (a blob).

// List is a decoded CDT list. Flags is the list order flag from the
// optional ext header (1 = ordered), 0 when absent.
type List struct {
	Flags uint8
	Items []any
}

// Map is a decoded CDT map in stored order. Flags is the map order flag
// from the optional ext header (1 = key ordered, 3 = key/value ordered),
// 0 when absent.
type Map struct {
	Flags uint8
	Pairs []MapPair
}

// MapPair is one map entry.
type MapPair struct {
	Key, Value any
}

// GeoJSON is a GeoJSON text value.
type GeoJSON string

// TypedBytes is a bytes value of a particle type other than string, blob
// and GeoJSON (language blobs, HLL).
type TypedBytes struct {
	Type ParticleType
	Data []byte
}

// Ext is a msgpack extension value that has no Aerospike meaning.
type Ext struct {
	Type int8
	Data []byte
}

// Wildcard is the CDT wildcard value (ext 0xff, data 0x00).
type Wildcard struct{}

// Infinity is the CDT infinity value (ext 0xff, data 0x01).
type Infinity struct{}

// maxMsgpackDepth bounds nesting to keep decoding of hostile data cheap.
const maxMsgpackDepth = 512

// ErrMsgpack is wrapped by every DecodeMsgpack error.
var ErrMsgpack = errors.New("invalid msgpack")

// DecodeMsgpack decodes one Aerospike CDT msgpack value occupying all of
// data. Strings and bin (bytes) values carry a leading particle type byte,
// as the server stores them. Returned []byte and string values do not
// alias data.
func DecodeMsgpack(data []byte) (any, error) {
	d := mpDecoder{b: data}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if d.i != len(d.b) {
		return nil, d.errf("%d trailing bytes", len(d.b)-d.i)
	}
	return v, nil
}

type mpDecoder struct {
	b []byte
	i int
}

func (d *mpDecoder) errf(format string, args ...any) error {
	return fmt.Errorf("%w at byte %d: %s", ErrMsgpack, d.i, fmt.Sprintf(format, args...))
}

func (d *mpDecoder) take(n int) ([]byte, error) {
	if n < 0 || len(d.b)-d.i < n {
		return nil, d.errf("truncated: need %d bytes, have %d", n, len(d.b)-d.i)
	}
	v := d.b[d.i : d.i+n]
	d.i += n
	return v, nil
}

func (d *mpDecoder) uint(n int) (uint64, error) {
	b, err := d.take(n)
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
	}
	return binary.BigEndian.Uint64(b), nil
}

func (d *mpDecoder) value(depth int) (any, error) {
	if depth > maxMsgpackDepth {
		return nil, d.errf("nesting deeper than %d", maxMsgpackDepth)
	}
	tb, err := d.take(1)
	if err != nil {
		return nil, err
	}
	t := tb[0]
	switch {
	case t <= 0x7f:
		return int64(t), nil
	case t >= 0xe0:
		return int64(int8(t)), nil
	case t >= 0xa0 && t <= 0xbf:
		return d.blob(int(t&0x1f), true)
	case t >= 0x90 && t <= 0x9f:
		return d.list(int(t&0x0f), depth)
	case t >= 0x80 && t <= 0x8f:
		return d.mapv(int(t&0x0f), depth)
	}
	switch t {
	case 0xc0:
		return nil, nil
	case 0xc2:
		return false, nil
	case 0xc3:
		return true, nil
	case 0xca:
		u, err := d.uint(4)
		return float64(math.Float32frombits(uint32(u))), err
	case 0xcb:
		u, err := d.uint(8)
		return math.Float64frombits(u), err
	case 0xcc, 0xcd, 0xce, 0xcf:
		u, err := d.uint(1 << (t - 0xcc))
		if err != nil {
			return nil, err
		}
		if u > math.MaxInt64 {
			return u, nil
		}
		return int64(u), nil
	case 0xd0:
		u, err := d.uint(1)
		return int64(int8(u)), err
	case 0xd1:
		u, err := d.uint(2)
		return int64(int16(u)), err
	case 0xd2:
		u, err := d.uint(4)
		return int64(int32(u)), err
	case 0xd3:
		u, err := d.uint(8)
		return int64(u), err
	case 0xd9, 0xda, 0xdb:
		n, err := d.uint(1 << (t - 0xd9))
		if err != nil {
			return nil, err
		}
		return d.blob(int(min(n, math.MaxInt32)), true)
	case 0xc4, 0xc5, 0xc6:
		n, err := d.uint(1 << (t - 0xc4))
		if err != nil {
			return nil, err
		}
		return d.blob(int(min(n, math.MaxInt32)), false)
	case 0xdc, 0xdd:
		n, err := d.uint(2 << (t - 0xdc))
		if err != nil {
			return nil, err
		}
		return d.list(int(min(n, math.MaxInt32)), depth)
	case 0xde, 0xdf:
		n, err := d.uint(2 << (t - 0xde))
		if err != nil {
			return nil, err
		}
		return d.mapv(int(min(n, math.MaxInt32)), depth)
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		return d.ext(1 << (t - 0xd4))
	case 0xc7, 0xc8, 0xc9:
		n, err := d.uint(1 << (t - 0xc7))
		if err != nil {
			return nil, err
		}
		return d.ext(int(min(n, math.MaxInt32)))
	}
	d.i--
	return nil, d.errf("unknown type byte 0x%02x", t)
}

func (d *mpDecoder) ext(n int) (any, error) {
	tb, err := d.take(1)
	if err != nil {
		return nil, err
	}
	data, err := d.take(n)
	if err != nil {
		return nil, err
	}
	if tb[0] == 0xff && n == 1 {
		switch data[0] {
		case 0:
			return Wildcard{}, nil
		case 1:
			return Infinity{}, nil
		}
	}
	return Ext{Type: int8(tb[0]), Data: append([]byte(nil), data...)}, nil
}

// blob decodes a str/bin payload whose first byte is the particle type.
func (d *mpDecoder) blob(n int, str bool) (any, error) {
	data, err := d.take(n)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		if str {
			return "", nil
		}
		return []byte{}, nil
	}
	body := data[1:]
	switch ParticleType(data[0]) {
	case ParticleString:
		return string(body), nil
	case ParticleBlob:
		return append([]byte{}, body...), nil
	case ParticleGeoJSON:
		return GeoJSON(body), nil
	}
	return TypedBytes{Type: ParticleType(data[0]), Data: append([]byte{}, body...)}, nil
}

// header reports whether the next item is an Aerospike order header:
// ext8 with zero length ("c7 00 <flags>").
func (d *mpDecoder) header() (uint8, bool) {
	if len(d.b)-d.i >= 3 && d.b[d.i] == 0xc7 && d.b[d.i+1] == 0 {
		f := d.b[d.i+2]
		d.i += 3
		return f, true
	}
	return 0, false
}

func (d *mpDecoder) list(n int, depth int) (any, error) {
	if n > len(d.b)-d.i {
		return nil, d.errf("list of %d items in %d bytes", n, len(d.b)-d.i)
	}
	l := &List{}
	if n > 0 {
		if f, ok := d.header(); ok {
			l.Flags = f
			n--
		}
	}
	l.Items = make([]any, 0, min(n, 64))
	for k := 0; k < n; k++ {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		l.Items = append(l.Items, v)
	}
	return l, nil
}

func (d *mpDecoder) mapv(n int, depth int) (any, error) {
	if 2*n > len(d.b)-d.i {
		return nil, d.errf("map of %d entries in %d bytes", n, len(d.b)-d.i)
	}
	m := &Map{}
	if n > 0 {
		if f, ok := d.header(); ok {
			m.Flags = f
			// the header's value (nil)
			if _, err := d.value(depth + 1); err != nil {
				return nil, err
			}
			n--
		}
	}
	m.Pairs = make([]MapPair, 0, min(n, 64))
	for k := 0; k < n; k++ {
		key, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		val, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m.Pairs = append(m.Pairs, MapPair{Key: key, Value: val})
	}
	return m, nil
}
