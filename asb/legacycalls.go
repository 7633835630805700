package asb

// LegacyCall is one write of the legacy text encoder (enc_text.c) while it
// writes a record: the legacy tool writes each record in pieces, one
// formatted line (or two or three lines) at a time, and a string, GeoJSON or
// bytes value (key or bin) as a header ("- S name 5 "), the payload and
// "\n". When a write fails, the piece it failed in decides the error lines
// the legacy tool prints.
type LegacyCall struct {
	// End is the offset just past the piece in the record's text.
	End int
	// Data marks the payload write of a string, GeoJSON or bytes value,
	// the only write whose failure the legacy encoder notices.
	Data bool
	// Bin is the index of the bin the piece belongs to; LegacyKey for the
	// key, LegacyMeta for the namespace, digest, set, generation,
	// expiration and bin count lines.
	Bin int
}

// Bin values of LegacyCall that are not bins.
const (
	LegacyKey  = -1
	LegacyMeta = -2
)

// AppendLegacyCalls appends the pieces of r's text (as WriteRecord writes
// it in a version 3.1 file) to dst. The End of the last piece is the length
// of the record's text.
func AppendLegacyCalls(dst []LegacyCall, r *Record) []LegacyCall {
	var buf []byte
	mark := func(data bool, bin int) { dst = append(dst, LegacyCall{End: len(buf), Data: data, Bin: bin}) }
	// value writes a "<size> <payload>\n" value whose header is already
	// in buf: the header, the payload and the newline are three pieces.
	value := func(payload []byte, b64 bool, bin int) {
		n := len(payload)
		if b64 {
			n = (len(payload) + 2) / 3 * 4
		}
		buf = appendUint(buf, uint64(n))
		buf = append(buf, ' ')
		mark(false, bin)
		buf = growTo(buf, len(buf)+n)
		mark(true, bin)
		buf = append(buf, '\n')
		mark(false, bin)
	}
	k := &r.Key
	switch k.Type {
	case KeyInt:
		buf = append(buf, "+ k I "...)
		buf = appendInt(buf, k.Int)
		buf = append(buf, '\n')
		mark(false, LegacyKey)
	case KeyFloat:
		buf = append(buf, "+ k D "...)
		buf = AppendFloat(buf, k.Float)
		buf = append(buf, '\n')
		mark(false, LegacyKey)
	case KeyString:
		buf = append(buf, "+ k S "...)
		value(k.Bytes, false, LegacyKey)
	case KeyString64:
		buf = append(buf, "+ k X "...)
		value(k.Bytes, true, LegacyKey)
	case KeyBytes:
		if k.Compact {
			buf = append(buf, "+ k B! "...)
		} else {
			buf = append(buf, "+ k B "...)
		}
		value(k.Bytes, !k.Compact, LegacyKey)
	}
	buf = append(buf, "+ n "...)
	buf = escapeAppend(buf, r.Namespace)
	buf = append(buf, "\n+ d "...)
	buf = growTo(buf, len(buf)+28)
	buf = append(buf, '\n')
	mark(false, LegacyMeta)
	if r.HasSet || len(r.Set) > 0 {
		buf = append(buf, "+ s "...)
		buf = escapeAppend(buf, r.Set)
		buf = append(buf, '\n')
		mark(false, LegacyMeta)
	}
	buf = append(buf, "+ g "...)
	buf = appendUint(buf, uint64(r.Generation))
	buf = append(buf, "\n+ t "...)
	buf = appendUint(buf, uint64(r.VoidTime))
	buf = append(buf, "\n+ b "...)
	buf = appendUint(buf, uint64(len(r.Bins)))
	buf = append(buf, '\n')
	mark(false, LegacyMeta)
	for i := range r.Bins {
		b := &r.Bins[i]
		buf = append(buf, '-', ' ', byte(b.Type))
		if b.Compact {
			buf = append(buf, '!')
		}
		buf = append(buf, ' ')
		buf = escapeAppend(buf, b.Name)
		switch b.Type {
		case BinNil:
			buf = append(buf, '\n')
			mark(false, i)
		case BinBool:
			buf = append(buf, " T\n"...)
			mark(false, i)
		case BinInt:
			buf = append(buf, ' ')
			buf = appendInt(buf, b.Int)
			buf = append(buf, '\n')
			mark(false, i)
		case BinFloat:
			buf = append(buf, ' ')
			buf = AppendFloat(buf, b.Float)
			buf = append(buf, '\n')
			mark(false, i)
		case BinString, BinGeoJSON:
			buf = append(buf, ' ')
			value(b.Bytes, false, i)
		case BinString64:
			buf = append(buf, ' ')
			value(b.Bytes, true, i)
		default:
			buf = append(buf, ' ')
			value(b.Bytes, !b.Compact, i)
		}
	}
	return dst
}
