package asb

import (
	"bytes"
	"fmt"
)

// Version is the format version announced by a file's first line.
type Version uint8

// Known format versions.
const (
	// Version30 is "Version 3.0": no global section, tokens are not
	// backslash-unescaped.
	Version30 Version = 30
	// Version31 is "Version 3.1", the version the legacy tools write and the
	// highest one they read.
	Version31 Version = 31
	// Version32 is "Version 3.2": 3.1 plus expression-based secondary index
	// lines ("* e").
	Version32 Version = 32
)

// String returns the version as written in the header, e.g. "3.1".
func (v Version) String() string {
	switch v {
	case Version30:
		return "3.0"
	case Version31:
		return "3.1"
	case Version32:
		return "3.2"
	}
	return fmt.Sprintf("invalid(%d)", uint8(v))
}

// ParticleType is an Aerospike wire particle type number.
type ParticleType uint8

// Aerospike particle types.
const (
	ParticleNil     ParticleType = 0
	ParticleInteger ParticleType = 1
	ParticleFloat   ParticleType = 2
	ParticleString  ParticleType = 3
	ParticleBlob    ParticleType = 4
	ParticleJava    ParticleType = 7
	ParticleCSharp  ParticleType = 8
	ParticlePython  ParticleType = 9
	ParticleRuby    ParticleType = 10
	ParticlePHP     ParticleType = 11
	ParticleErlang  ParticleType = 12
	ParticleBool    ParticleType = 17
	ParticleHLL     ParticleType = 18
	ParticleMap     ParticleType = 19
	ParticleList    ParticleType = 20
	ParticleGeoJSON ParticleType = 23
)

// BinType is the one-letter token that introduces a bin line ("- I ...").
type BinType byte

// Bin type tokens. The bytes types (BinBlob through BinList) may carry the
// compact marker "!" meaning raw bytes instead of base64.
const (
	BinNil      BinType = 'N' // no value
	BinBool     BinType = 'Z' // T or F
	BinInt      BinType = 'I' // signed 64-bit decimal
	BinFloat    BinType = 'D' // %.17g double
	BinString   BinType = 'S' // length-prefixed raw string
	BinString64 BinType = 'X' // length-prefixed base64 string (read only by the legacy tools)
	BinGeoJSON  BinType = 'G' // length-prefixed raw GeoJSON text
	BinBlob     BinType = 'B'
	BinJava     BinType = 'J'
	BinCSharp   BinType = 'C'
	BinPython   BinType = 'P'
	BinRuby     BinType = 'R'
	BinPHP      BinType = 'H'
	BinErlang   BinType = 'E'
	BinHLL      BinType = 'Y'
	BinMap      BinType = 'M' // msgpack map, as the server stores it
	BinList     BinType = 'L' // msgpack list, as the server stores it
	// BinLDT is the obsolete large-data-type token; the legacy reader
	// rejects it and so does this package.
	BinLDT BinType = 'U'
)

// binTypeLetters lists every bin label the legacy reader accepts at the
// label position (BinLDT is accepted there and rejected afterwards).
const binTypeLetters = "NIDSXGBJCPRHEYMLUZ"

// IsBytes reports whether t is one of the bytes types that are written in
// base64 by default and raw with the compact marker.
func (t BinType) IsBytes() bool {
	switch t {
	case BinBlob, BinJava, BinCSharp, BinPython, BinRuby, BinPHP, BinErlang, BinHLL, BinMap, BinList:
		return true
	}
	return false
}

// Particle returns the Aerospike particle type a bin of type t holds. ok is
// false for tokens that have no particle type.
func (t BinType) Particle() (p ParticleType, ok bool) {
	switch t {
	case BinNil:
		return ParticleNil, true
	case BinBool:
		return ParticleBool, true
	case BinInt:
		return ParticleInteger, true
	case BinFloat:
		return ParticleFloat, true
	case BinString, BinString64:
		return ParticleString, true
	case BinGeoJSON:
		return ParticleGeoJSON, true
	case BinBlob:
		return ParticleBlob, true
	case BinJava:
		return ParticleJava, true
	case BinCSharp:
		return ParticleCSharp, true
	case BinPython:
		return ParticlePython, true
	case BinRuby:
		return ParticleRuby, true
	case BinPHP:
		return ParticlePHP, true
	case BinErlang:
		return ParticleErlang, true
	case BinHLL:
		return ParticleHLL, true
	case BinMap:
		return ParticleMap, true
	case BinList:
		return ParticleList, true
	}
	return 0, false
}

// BinTypeOf returns the bin token the legacy writer uses for particle type p.
func BinTypeOf(p ParticleType) (t BinType, ok bool) {
	switch p {
	case ParticleNil:
		return BinNil, true
	case ParticleInteger:
		return BinInt, true
	case ParticleFloat:
		return BinFloat, true
	case ParticleString:
		return BinString, true
	case ParticleBlob:
		return BinBlob, true
	case ParticleJava:
		return BinJava, true
	case ParticleCSharp:
		return BinCSharp, true
	case ParticlePython:
		return BinPython, true
	case ParticleRuby:
		return BinRuby, true
	case ParticlePHP:
		return BinPHP, true
	case ParticleErlang:
		return BinErlang, true
	case ParticleBool:
		return BinBool, true
	case ParticleHLL:
		return BinHLL, true
	case ParticleMap:
		return BinMap, true
	case ParticleList:
		return BinList, true
	case ParticleGeoJSON:
		return BinGeoJSON, true
	}
	return 0, false
}

// KeyType is the token of a "+ k" line.
type KeyType byte

// Key types. KeyNone means the record has no "+ k" line.
const (
	KeyNone     KeyType = 0
	KeyInt      KeyType = 'I'
	KeyFloat    KeyType = 'D'
	KeyString   KeyType = 'S' // raw, length-prefixed
	KeyString64 KeyType = 'X' // base64, length-prefixed (read only by the legacy tools)
	KeyBytes    KeyType = 'B' // base64, or raw with Compact ("B!")
)

// Key is a record's user key.
type Key struct {
	Type    KeyType
	Compact bool    // "B!" form (KeyBytes only)
	Int     int64   // KeyInt
	Float   float64 // KeyFloat
	Bytes   []byte  // KeyString, KeyString64, KeyBytes
}

// Bin is one "- " line of a record.
type Bin struct {
	// Name is the unescaped bin name.
	Name []byte
	// Type is the bin's token.
	Type BinType
	// Compact records a "!" after the token. The legacy writer uses it for
	// bytes types (raw instead of base64); the reader accepts and ignores it
	// on other types, and it is kept so that re-encoding is byte-exact.
	Compact bool
	Bool    bool    // BinBool
	Int     int64   // BinInt
	Float   float64 // BinFloat
	// Bytes holds the decoded value of BinString, BinString64, BinGeoJSON
	// and every bytes type (the raw msgpack for BinMap and BinList).
	Bytes []byte
}

// Record is one record of the records section.
type Record struct {
	Key       Key
	Namespace []byte
	Digest    [20]byte
	// Set is the unescaped set name; HasSet reports whether a "+ s" line was
	// present (the writer also writes one whenever Set is non-empty).
	Set        []byte
	HasSet     bool
	Generation uint16
	// VoidTime is the expiration in seconds since 2010-01-01 UTC; 0 means
	// the record never expires.
	VoidTime uint32
	Bins     []Bin
	// Offset and Line locate the record's first line in the file (Line is
	// 1-based). They are set by the Reader and ignored by the Writer.
	Offset int64
	Line   int
}

// Reset clears r for reuse, keeping allocated capacity.
func (r *Record) Reset() {
	bins := r.Bins[:0]
	*r = Record{Bins: bins}
}

// Clone returns a deep copy of r whose byte slices do not alias r's.
func (r *Record) Clone() *Record {
	c := new(Record)
	r.CopyTo(c)
	return c
}

// CopyTo deep-copies r into dst, reusing dst's bin slice capacity. All byte
// data is copied into one new allocation.
func (r *Record) CopyTo(dst *Record) {
	n := len(r.Key.Bytes) + len(r.Namespace) + len(r.Set)
	for i := range r.Bins {
		n += len(r.Bins[i].Name) + len(r.Bins[i].Bytes)
	}
	buf := make([]byte, 0, n)
	cp := func(b []byte) []byte {
		if b == nil {
			return nil
		}
		s := len(buf)
		buf = append(buf, b...)
		return buf[s:len(buf):len(buf)]
	}
	bins := dst.Bins[:0]
	*dst = *r
	dst.Key.Bytes = cp(r.Key.Bytes)
	dst.Namespace = cp(r.Namespace)
	dst.Set = cp(r.Set)
	for _, b := range r.Bins {
		b.Name = cp(b.Name)
		b.Bytes = cp(b.Bytes)
		bins = append(bins, b)
	}
	dst.Bins = bins
}

// Equal reports whether a and b hold the same record content (positions are
// ignored; floats compare by bit pattern).
func (r *Record) Equal(o *Record) bool {
	if r.Key.Type != o.Key.Type || r.Key.Compact != o.Key.Compact || r.Key.Int != o.Key.Int ||
		f64bits(r.Key.Float) != f64bits(o.Key.Float) || !bytes.Equal(r.Key.Bytes, o.Key.Bytes) ||
		!bytes.Equal(r.Namespace, o.Namespace) || r.Digest != o.Digest ||
		!bytes.Equal(r.Set, o.Set) || r.HasSet != o.HasSet || r.Generation != o.Generation ||
		r.VoidTime != o.VoidTime || len(r.Bins) != len(o.Bins) {
		return false
	}
	for i := range r.Bins {
		a, b := &r.Bins[i], &o.Bins[i]
		if !bytes.Equal(a.Name, b.Name) || a.Type != b.Type || a.Compact != b.Compact ||
			a.Bool != b.Bool || a.Int != b.Int || f64bits(a.Float) != f64bits(b.Float) ||
			!bytes.Equal(a.Bytes, b.Bytes) {
			return false
		}
	}
	return true
}

// IndexType is the collection type token of a secondary index line.
type IndexType byte

// Secondary index collection types.
const (
	IndexDefault   IndexType = 'N' // plain bin value
	IndexList      IndexType = 'L' // list elements
	IndexMapKeys   IndexType = 'K' // map keys
	IndexMapValues IndexType = 'V' // map values
)

// IndexDataType is the data type token of a secondary index path.
type IndexDataType byte

// Secondary index data types.
const (
	IndexNumeric IndexDataType = 'N'
	IndexString  IndexDataType = 'S'
	IndexGeo     IndexDataType = 'G'
	IndexBlob    IndexDataType = 'B'
)

// IndexPath is one indexed bin path with its data type.
type IndexPath struct {
	Bin  string
	Type IndexDataType
}

// Index is a secondary index definition ("* i" line, or "* e" line in
// version 3.2 when Expression is set).
type Index struct {
	Namespace string
	Set       string
	Name      string
	Type      IndexType
	Paths     []IndexPath
	// Context is the base64 CDT context. HasContext reports whether the
	// separator before it was present: the legacy writer emits "... N \n"
	// (trailing space, empty context) for some indexes.
	Context    string
	HasContext bool
	// Expression is the base64 filter expression of an expression index;
	// non-empty only on "* e" lines, which need Version32.
	Expression string
	Offset     int64
	Line       int
}

// UDF is a user-defined-function module ("* u" line).
type UDF struct {
	// Type is the language token; 'L' (Lua) is the only one defined.
	Type    byte
	Name    string
	Content []byte
	Offset  int64
	Line    int
}

// MetaKind distinguishes the header's "# " lines.
type MetaKind uint8

// Header meta line kinds.
const (
	MetaNamespace MetaKind = iota + 1 // "# namespace <ns>"
	MetaFirstFile                     // "# first-file"
)

// Meta is one "# " line of the header.
type Meta struct {
	Kind MetaKind
	// Text is the line's content after "# " and before the line feed, kept
	// verbatim (the legacy reader does not unescape it).
	Text string
}

// NamespaceMeta returns the meta line the legacy writer emits for ns
// (backslash-escaped).
func NamespaceMeta(ns string) Meta {
	return Meta{Kind: MetaNamespace, Text: "namespace " + string(escapeAppend(nil, []byte(ns)))}
}

// FirstFileMeta returns the "# first-file" meta line.
func FirstFileMeta() Meta { return Meta{Kind: MetaFirstFile, Text: "first-file"} }

// Header is the version line and the meta lines that follow it.
type Header struct {
	Version Version
	Meta    []Meta
	// Size is the header's length in bytes (set by the Reader); the first
	// entry starts at this offset on line 2+len(Meta).
	Size int64
}

// Namespace returns the value of the first "# namespace" line, verbatim.
func (h *Header) Namespace() (string, bool) {
	for _, m := range h.Meta {
		if m.Kind == MetaNamespace {
			if len(m.Text) > len("namespace") && m.Text[len("namespace")] == ' ' {
				return m.Text[len("namespace")+1:], true
			}
			return "", true
		}
	}
	return "", false
}

// FirstFile reports whether the header has a "# first-file" line.
func (h *Header) FirstFile() bool {
	for _, m := range h.Meta {
		if m.Kind == MetaFirstFile {
			return true
		}
	}
	return false
}

// BodyLine returns the line number of the first entry after the header.
func (h *Header) BodyLine() int { return 2 + len(h.Meta) }

// RequiredVersion returns the lowest version able to hold the given
// indexes: Version32 if any is an expression index, else Version31.
func RequiredVersion(indexes []Index) Version {
	for i := range indexes {
		if indexes[i].Expression != "" {
			return Version32
		}
	}
	return Version31
}
