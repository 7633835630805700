package asb

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Particle returns the bin's Aerospike particle type.
func (b *Bin) Particle() ParticleType {
	p, _ := b.Type.Particle()
	return p
}

// SetWire sets the bin from a server response: name, particle type and raw
// particle bytes (integers and doubles as 8 big-endian bytes, booleans as
// one byte, GeoJSON with its flags/cell header, everything else as is).
// The bin aliases name and data. compact selects the raw ("!") form for
// bytes types, as asbackup --compact does.
func (b *Bin) SetWire(name []byte, p ParticleType, data []byte, compact bool) error {
	t, ok := BinTypeOf(p)
	if !ok {
		return fmt.Errorf("asb: bin %q: unsupported particle type %d", name, p)
	}
	*b = Bin{Name: name, Type: t, Compact: compact && t.IsBytes()}
	switch t {
	case BinNil:
	case BinInt:
		if len(data) > 8 {
			return fmt.Errorf("asb: bin %q: integer of %d bytes", name, len(data))
		}
		var u uint64
		for _, c := range data {
			u = u<<8 | uint64(c)
		}
		b.Int = int64(u)
	case BinFloat:
		if len(data) != 8 {
			return fmt.Errorf("asb: bin %q: double of %d bytes", name, len(data))
		}
		b.Float = math.Float64frombits(binary.BigEndian.Uint64(data))
	case BinBool:
		if len(data) != 1 {
			return fmt.Errorf("asb: bin %q: boolean of %d bytes", name, len(data))
		}
		b.Bool = data[0] != 0
	case BinGeoJSON:
		if len(data) < 3 {
			return fmt.Errorf("asb: bin %q: GeoJSON of %d bytes", name, len(data))
		}
		h := 3 + 8*int(binary.BigEndian.Uint16(data[1:3]))
		if h > len(data) {
			return fmt.Errorf("asb: bin %q: GeoJSON header of %d bytes exceeds value", name, h)
		}
		b.Bytes = data[h:]
	default:
		b.Bytes = data
	}
	return nil
}

// AppendWire appends the bin's value in wire form (the form a write command
// carries: 8-byte big-endian integers and doubles, one-byte booleans,
// GeoJSON with an empty 3-byte header, raw bytes otherwise) and returns it
// with the particle type.
func (b *Bin) AppendWire(dst []byte) (ParticleType, []byte) {
	p := b.Particle()
	switch b.Type {
	case BinNil:
	case BinInt:
		dst = binary.BigEndian.AppendUint64(dst, uint64(b.Int))
	case BinFloat:
		dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(b.Float))
	case BinBool:
		if b.Bool {
			dst = append(dst, 1)
		} else {
			dst = append(dst, 0)
		}
	case BinGeoJSON:
		dst = append(dst, 0, 0, 0)
		dst = append(dst, b.Bytes...)
	default:
		dst = append(dst, b.Bytes...)
	}
	return p, dst
}

// Value returns the bin's value as a Go value for display: nil, bool, int64,
// float64, string, []byte (blob), GeoJSON, TypedBytes (language blobs and
// HLL), or the decoded *List / *Map of a CDT bin. Byte values alias the bin.
func (b *Bin) Value() (any, error) {
	switch b.Type {
	case BinNil:
		return nil, nil
	case BinBool:
		return b.Bool, nil
	case BinInt:
		return b.Int, nil
	case BinFloat:
		return b.Float, nil
	case BinString, BinString64:
		return string(b.Bytes), nil
	case BinGeoJSON:
		return GeoJSON(b.Bytes), nil
	case BinBlob:
		return b.Bytes, nil
	case BinMap, BinList:
		return DecodeMsgpack(b.Bytes)
	}
	if p, ok := b.Type.Particle(); ok {
		return TypedBytes{Type: p, Data: b.Bytes}, nil
	}
	return nil, fmt.Errorf("asb: bin %q: invalid bin type %q", b.Name, byte(b.Type))
}

// Value returns the key as a Go value: nil (no key), int64, float64, string
// or []byte.
func (k *Key) Value() any {
	switch k.Type {
	case KeyInt:
		return k.Int
	case KeyFloat:
		return k.Float
	case KeyString, KeyString64:
		return string(k.Bytes)
	case KeyBytes:
		return k.Bytes
	}
	return nil
}
