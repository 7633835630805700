// Package render turns backup entries into the files asbfs shows: typed JSON
// for records and secondary indexes, and safe file names for namespaces, sets
// and record keys.
//
// # Record JSON
//
// A record file is one JSON object, one bin per line:
//
//	{
//	  "digest": "AGV2CcLblNBlYF/BJIf/oHjU0s0=",
//	  "namespace": "test",
//	  "set": "kitchen",
//	  "key": {"str": "user-1"},
//	  "generation": 3,
//	  "void_time": 596079845,
//	  "expires": "2028-11-22T02:24:05Z",
//	  "bins": {
//	    "age": {"int": 42},
//	    ...
//	  }
//	}
//
// "set" and "key" are null when absent, "expires" is null for records that
// never expire (void time 0). Every value is an object with one member naming
// its type, so int, float, string and bytes stay apart:
//
//	{"nil": null}   {"bool": true}   {"int": 42}   {"uint": 18446744073709551615}
//	{"float": "1.5"}  floats as Go's shortest round-trip text; "+Inf", "-Inf",
//	                  "NaN(0x7ff8000000000000)" (with the bit pattern)
//	{"str": "text"}   {"str64": "<base64>"} for strings that are not UTF-8
//	{"geo": "<GeoJSON text>"}
//	{"bytes": "<base64>"} blobs; language blobs and HLL as {"java": ...},
//	                  {"csharp": ...}, {"python": ...}, {"ruby": ...},
//	                  {"php": ...}, {"erlang": ...}, {"hll": ...}
//	{"list": [v, ...]}          with "flags": n when the list is ordered
//	{"map": [[k, v], ...]}      pairs in stored order, "flags": n when ordered
//	{"wildcard": null}  {"infinity": null}  {"ext": {"type": n, "data": "<base64>"}}
//	{"msgpack": "<base64>", "error": "..."}  a map or list bin that does not decode
//
// Keys use the same forms ({"int": n}, {"float": "..."}, {"str": "..."},
// {"bytes": "..."}).
package render

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"asbtools/asb"
)

// Epoch is the start of Aerospike's clock (void times count seconds from it).
var Epoch = time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)

// ExpiryTime returns the wall-clock time of a void time; ok is false for 0
// (never expires).
func ExpiryTime(voidTime uint32) (t time.Time, ok bool) {
	if voidTime == 0 {
		return time.Time{}, false
	}
	return Epoch.Add(time.Duration(voidTime) * time.Second), true
}

// out is where a view is rendered: appended to b, or, when count is set,
// only measured in n. Rendering and measuring run the same code, so a size
// computed without rendering is always the size of the rendered view.
type out struct {
	b     []byte
	n     int
	count bool
}

func (o *out) str(s string) {
	if o.count {
		o.n += len(s)
	} else {
		o.b = append(o.b, s...)
	}
}

func (o *out) raw(p []byte) {
	if o.count {
		o.n += len(p)
	} else {
		o.b = append(o.b, p...)
	}
}

func (o *out) c(c byte) {
	if o.count {
		o.n++
	} else {
		o.b = append(o.b, c)
	}
}

func (o *out) b64(p []byte) {
	if o.count {
		o.n += base64.StdEncoding.EncodedLen(len(p))
	} else {
		o.b = base64.StdEncoding.AppendEncode(o.b, p)
	}
}

func (o *out) int(v int64) {
	var t [24]byte
	o.raw(strconv.AppendInt(t[:0], v, 10))
}

func (o *out) uint(v uint64) {
	var t [24]byte
	o.raw(strconv.AppendUint(t[:0], v, 10))
}

// AppendRecord appends the JSON view of r (with a final newline) to dst.
func AppendRecord(dst []byte, r *asb.Record) []byte {
	o := out{b: dst}
	o.record(r)
	return o.b
}

// RecordSize returns the size of the JSON view of r (len(AppendRecord(nil,
// r))) without rendering it.
func RecordSize(r *asb.Record) int {
	o := out{count: true}
	o.record(r)
	return o.n
}

func (o *out) record(r *asb.Record) {
	o.str("{\n  \"digest\": \"")
	o.b64(r.Digest[:])
	o.str("\",\n  \"namespace\": ")
	o.jsonString(r.Namespace)
	o.str(",\n  \"set\": ")
	if r.HasSet || len(r.Set) > 0 {
		o.jsonString(r.Set)
	} else {
		o.str("null")
	}
	o.str(",\n  \"key\": ")
	o.key(&r.Key)
	o.str(",\n  \"generation\": ")
	o.uint(uint64(r.Generation))
	o.str(",\n  \"void_time\": ")
	o.uint(uint64(r.VoidTime))
	o.str(",\n  \"expires\": ")
	if t, ok := ExpiryTime(r.VoidTime); ok {
		var tb [64]byte
		o.c('"')
		o.raw(t.AppendFormat(tb[:0], time.RFC3339))
		o.c('"')
	} else {
		o.str("null")
	}
	if len(r.Bins) == 0 {
		o.str(",\n  \"bins\": {}\n}\n")
		return
	}
	o.str(",\n  \"bins\": {")
	for i := range r.Bins {
		if i > 0 {
			o.c(',')
		}
		o.str("\n    ")
		o.jsonString(r.Bins[i].Name)
		o.str(": ")
		o.bin(&r.Bins[i])
	}
	o.str("\n  }\n}\n")
}

// AppendKey appends the typed JSON form of k, or null when there is no key.
func AppendKey(dst []byte, k *asb.Key) []byte {
	o := out{b: dst}
	o.key(k)
	return o.b
}

func (o *out) key(k *asb.Key) {
	switch k.Type {
	case asb.KeyInt:
		o.str(`{"int": `)
		o.int(k.Int)
		o.c('}')
	case asb.KeyFloat:
		o.float(k.Float)
	case asb.KeyString, asb.KeyString64:
		o.strValue(k.Bytes)
	case asb.KeyBytes:
		o.tagged("bytes", k.Bytes)
	default:
		o.str("null")
	}
}

// particleNames names the tagged forms of the bytes particle types.
var particleNames = map[asb.ParticleType]string{
	asb.ParticleBlob:    "bytes",
	asb.ParticleJava:    "java",
	asb.ParticleCSharp:  "csharp",
	asb.ParticlePython:  "python",
	asb.ParticleRuby:    "ruby",
	asb.ParticlePHP:     "php",
	asb.ParticleErlang:  "erlang",
	asb.ParticleHLL:     "hll",
	asb.ParticleGeoJSON: "geo",
	asb.ParticleString:  "str",
}

// TypeName returns the tag used for a bin of type t ("int", "str", "map", ...).
func TypeName(t asb.BinType) string {
	switch t {
	case asb.BinNil:
		return "nil"
	case asb.BinBool:
		return "bool"
	case asb.BinInt:
		return "int"
	case asb.BinFloat:
		return "float"
	case asb.BinString, asb.BinString64:
		return "str"
	case asb.BinMap:
		return "map"
	case asb.BinList:
		return "list"
	}
	if p, ok := t.Particle(); ok {
		if n, ok := particleNames[p]; ok {
			return n
		}
	}
	return "unknown"
}

// AppendBin appends the typed JSON form of one bin's value.
func AppendBin(dst []byte, b *asb.Bin) []byte {
	o := out{b: dst}
	o.bin(b)
	return o.b
}

func (o *out) bin(b *asb.Bin) {
	switch b.Type {
	case asb.BinNil:
		o.str(`{"nil": null}`)
	case asb.BinBool:
		if b.Bool {
			o.str(`{"bool": true}`)
		} else {
			o.str(`{"bool": false}`)
		}
	case asb.BinInt:
		o.str(`{"int": `)
		o.int(b.Int)
		o.c('}')
	case asb.BinFloat:
		o.float(b.Float)
	case asb.BinString, asb.BinString64:
		o.strValue(b.Bytes)
	case asb.BinGeoJSON:
		o.str(`{"geo": `)
		o.jsonString(b.Bytes)
		o.c('}')
	case asb.BinMap, asb.BinList:
		v, err := asb.DecodeMsgpack(b.Bytes)
		if err != nil {
			o.str(`{"msgpack": "`)
			o.b64(b.Bytes)
			o.str(`", "error": `)
			o.jsonString([]byte(err.Error()))
			o.c('}')
			return
		}
		o.value(v)
	default:
		o.tagged(TypeName(b.Type), b.Bytes)
	}
}

// value renders a value decoded by asb.DecodeMsgpack.
func (o *out) value(v any) {
	switch v := v.(type) {
	case nil:
		o.str(`{"nil": null}`)
	case bool:
		if v {
			o.str(`{"bool": true}`)
		} else {
			o.str(`{"bool": false}`)
		}
	case int64:
		o.str(`{"int": `)
		o.int(v)
		o.c('}')
	case uint64:
		o.str(`{"uint": `)
		o.uint(v)
		o.c('}')
	case float64:
		o.float(v)
	case string:
		o.strValue([]byte(v))
	case []byte:
		o.tagged("bytes", v)
	case asb.GeoJSON:
		o.str(`{"geo": `)
		o.jsonString([]byte(v))
		o.c('}')
	case asb.TypedBytes:
		name, ok := particleNames[v.Type]
		if !ok {
			name = "particle" + strconv.Itoa(int(v.Type))
		}
		o.tagged(name, v.Data)
	case *asb.List:
		o.str(`{"list": [`)
		for i, it := range v.Items {
			if i > 0 {
				o.str(", ")
			}
			o.value(it)
		}
		o.c(']')
		if v.Flags != 0 {
			o.str(`, "flags": `)
			o.uint(uint64(v.Flags))
		}
		o.c('}')
	case *asb.Map:
		o.str(`{"map": [`)
		for i, p := range v.Pairs {
			if i > 0 {
				o.str(", ")
			}
			o.c('[')
			o.value(p.Key)
			o.str(", ")
			o.value(p.Value)
			o.c(']')
		}
		o.c(']')
		if v.Flags != 0 {
			o.str(`, "flags": `)
			o.uint(uint64(v.Flags))
		}
		o.c('}')
	case asb.Wildcard:
		o.str(`{"wildcard": null}`)
	case asb.Infinity:
		o.str(`{"infinity": null}`)
	case asb.Ext:
		o.str(`{"ext": {"type": `)
		o.int(int64(v.Type))
		o.str(`, "data": "`)
		o.b64(v.Data)
		o.str(`"}}`)
	default:
		o.str(`{"unknown": `)
		o.jsonString([]byte(fmt.Sprint(v)))
		o.c('}')
	}
}

func (o *out) tagged(tag string, data []byte) {
	o.str(`{"`)
	o.str(tag)
	o.str(`": "`)
	o.b64(data)
	o.str(`"}`)
}

func (o *out) strValue(s []byte) {
	if !utf8.Valid(s) {
		o.tagged("str64", s)
		return
	}
	o.str(`{"str": `)
	o.jsonString(s)
	o.c('}')
}

func (o *out) float(f float64) {
	var t [40]byte
	o.str(`{"float": "`)
	o.raw(AppendFloat(t[:0], f))
	o.str(`"}`)
}

// AppendFloat appends f as shown in record files: the shortest text that
// reads back to the same float64, "+Inf", "-Inf", or "NaN(0x…)" with the
// 64-bit pattern.
func AppendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) {
		dst = append(dst, "NaN(0x"...)
		bits := strconv.FormatUint(math.Float64bits(f), 16)
		for i := len(bits); i < 16; i++ {
			dst = append(dst, '0')
		}
		dst = append(dst, bits...)
		return append(dst, ')')
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string. Invalid UTF-8 bytes become
// U+FFFD (callers wanting lossless output check utf8.Valid first).
func AppendString(dst []byte, s []byte) []byte {
	o := out{b: dst}
	o.jsonString(s)
	return o.b
}

func (o *out) jsonString(s []byte) {
	o.c('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			o.raw(s[start:i])
			switch c {
			case '"', '\\':
				o.c('\\')
				o.c(c)
			case '\n':
				o.str(`\n`)
			case '\r':
				o.str(`\r`)
			case '\t':
				o.str(`\t`)
			default:
				o.str(`\u00`)
				o.c(hexDigits[c>>4])
				o.c(hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			o.raw(s[start:i])
			o.str(`\ufffd`)
			i++
			start = i
			continue
		}
		i += size
	}
	o.raw(s[start:])
	o.c('"')
}

// AppendIndex appends the JSON view of a secondary index definition.
func AppendIndex(dst []byte, ix *asb.Index) []byte {
	dst = append(dst, "{\n  \"name\": "...)
	dst = AppendString(dst, []byte(ix.Name))
	dst = append(dst, ",\n  \"namespace\": "...)
	dst = AppendString(dst, []byte(ix.Namespace))
	dst = append(dst, ",\n  \"set\": "...)
	dst = AppendString(dst, []byte(ix.Set))
	dst = append(dst, ",\n  \"type\": "...)
	dst = AppendString(dst, []byte(indexTypeName(ix.Type)))
	dst = append(dst, ",\n  \"paths\": ["...)
	for i, p := range ix.Paths {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, "\n    {\"bin\": "...)
		dst = AppendString(dst, []byte(p.Bin))
		dst = append(dst, ", \"type\": "...)
		dst = AppendString(dst, []byte(indexDataTypeName(p.Type)))
		dst = append(dst, '}')
	}
	if len(ix.Paths) > 0 {
		dst = append(dst, "\n  "...)
	}
	dst = append(dst, "],\n  \"context\": "...)
	dst = AppendString(dst, []byte(ix.Context))
	dst = append(dst, ",\n  \"expression\": "...)
	dst = AppendString(dst, []byte(ix.Expression))
	return append(dst, "\n}\n"...)
}

func indexTypeName(t asb.IndexType) string {
	switch t {
	case asb.IndexDefault:
		return "default"
	case asb.IndexList:
		return "list"
	case asb.IndexMapKeys:
		return "mapkeys"
	case asb.IndexMapValues:
		return "mapvalues"
	}
	return string(rune(t))
}

func indexDataTypeName(t asb.IndexDataType) string {
	switch t {
	case asb.IndexNumeric:
		return "numeric"
	case asb.IndexString:
		return "string"
	case asb.IndexGeo:
		return "geo2dsphere"
	case asb.IndexBlob:
		return "blob"
	}
	return string(rune(t))
}
