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

// AppendRecord appends the JSON view of r (with a final newline) to dst.
func AppendRecord(dst []byte, r *asb.Record) []byte {
	dst = append(dst, "{\n  \"digest\": \""...)
	dst = base64.StdEncoding.AppendEncode(dst, r.Digest[:])
	dst = append(dst, "\",\n  \"namespace\": "...)
	dst = AppendString(dst, r.Namespace)
	dst = append(dst, ",\n  \"set\": "...)
	if r.HasSet || len(r.Set) > 0 {
		dst = AppendString(dst, r.Set)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, ",\n  \"key\": "...)
	dst = AppendKey(dst, &r.Key)
	dst = append(dst, ",\n  \"generation\": "...)
	dst = strconv.AppendUint(dst, uint64(r.Generation), 10)
	dst = append(dst, ",\n  \"void_time\": "...)
	dst = strconv.AppendUint(dst, uint64(r.VoidTime), 10)
	dst = append(dst, ",\n  \"expires\": "...)
	if t, ok := ExpiryTime(r.VoidTime); ok {
		dst = append(dst, '"')
		dst = t.AppendFormat(dst, time.RFC3339)
		dst = append(dst, '"')
	} else {
		dst = append(dst, "null"...)
	}
	if len(r.Bins) == 0 {
		return append(dst, ",\n  \"bins\": {}\n}\n"...)
	}
	dst = append(dst, ",\n  \"bins\": {"...)
	for i := range r.Bins {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, "\n    "...)
		dst = AppendString(dst, r.Bins[i].Name)
		dst = append(dst, ": "...)
		dst = AppendBin(dst, &r.Bins[i])
	}
	return append(dst, "\n  }\n}\n"...)
}

// AppendKey appends the typed JSON form of k, or null when there is no key.
func AppendKey(dst []byte, k *asb.Key) []byte {
	switch k.Type {
	case asb.KeyInt:
		dst = append(dst, `{"int": `...)
		dst = strconv.AppendInt(dst, k.Int, 10)
		return append(dst, '}')
	case asb.KeyFloat:
		return appendFloat(dst, k.Float)
	case asb.KeyString, asb.KeyString64:
		return appendStr(dst, k.Bytes)
	case asb.KeyBytes:
		return appendTagged(dst, "bytes", k.Bytes)
	}
	return append(dst, "null"...)
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
	switch b.Type {
	case asb.BinNil:
		return append(dst, `{"nil": null}`...)
	case asb.BinBool:
		if b.Bool {
			return append(dst, `{"bool": true}`...)
		}
		return append(dst, `{"bool": false}`...)
	case asb.BinInt:
		dst = append(dst, `{"int": `...)
		dst = strconv.AppendInt(dst, b.Int, 10)
		return append(dst, '}')
	case asb.BinFloat:
		return appendFloat(dst, b.Float)
	case asb.BinString, asb.BinString64:
		return appendStr(dst, b.Bytes)
	case asb.BinGeoJSON:
		dst = append(dst, `{"geo": `...)
		dst = AppendString(dst, b.Bytes)
		return append(dst, '}')
	case asb.BinMap, asb.BinList:
		v, err := asb.DecodeMsgpack(b.Bytes)
		if err != nil {
			dst = append(dst, `{"msgpack": "`...)
			dst = base64.StdEncoding.AppendEncode(dst, b.Bytes)
			dst = append(dst, `", "error": `...)
			dst = AppendString(dst, []byte(err.Error()))
			return append(dst, '}')
		}
		return appendValue(dst, v)
	}
	return appendTagged(dst, TypeName(b.Type), b.Bytes)
}

// appendValue appends a value decoded by asb.DecodeMsgpack.
func appendValue(dst []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(dst, `{"nil": null}`...)
	case bool:
		if v {
			return append(dst, `{"bool": true}`...)
		}
		return append(dst, `{"bool": false}`...)
	case int64:
		dst = append(dst, `{"int": `...)
		dst = strconv.AppendInt(dst, v, 10)
		return append(dst, '}')
	case uint64:
		dst = append(dst, `{"uint": `...)
		dst = strconv.AppendUint(dst, v, 10)
		return append(dst, '}')
	case float64:
		return appendFloat(dst, v)
	case string:
		return appendStr(dst, []byte(v))
	case []byte:
		return appendTagged(dst, "bytes", v)
	case asb.GeoJSON:
		dst = append(dst, `{"geo": `...)
		dst = AppendString(dst, []byte(v))
		return append(dst, '}')
	case asb.TypedBytes:
		name, ok := particleNames[v.Type]
		if !ok {
			name = "particle" + strconv.Itoa(int(v.Type))
		}
		return appendTagged(dst, name, v.Data)
	case *asb.List:
		dst = append(dst, `{"list": [`...)
		for i, it := range v.Items {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = appendValue(dst, it)
		}
		dst = append(dst, ']')
		if v.Flags != 0 {
			dst = append(dst, `, "flags": `...)
			dst = strconv.AppendUint(dst, uint64(v.Flags), 10)
		}
		return append(dst, '}')
	case *asb.Map:
		dst = append(dst, `{"map": [`...)
		for i, p := range v.Pairs {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = append(dst, '[')
			dst = appendValue(dst, p.Key)
			dst = append(dst, ", "...)
			dst = appendValue(dst, p.Value)
			dst = append(dst, ']')
		}
		dst = append(dst, ']')
		if v.Flags != 0 {
			dst = append(dst, `, "flags": `...)
			dst = strconv.AppendUint(dst, uint64(v.Flags), 10)
		}
		return append(dst, '}')
	case asb.Wildcard:
		return append(dst, `{"wildcard": null}`...)
	case asb.Infinity:
		return append(dst, `{"infinity": null}`...)
	case asb.Ext:
		dst = append(dst, `{"ext": {"type": `...)
		dst = strconv.AppendInt(dst, int64(v.Type), 10)
		dst = append(dst, `, "data": "`...)
		dst = base64.StdEncoding.AppendEncode(dst, v.Data)
		return append(dst, `"}}`...)
	}
	dst = append(dst, `{"unknown": `...)
	dst = AppendString(dst, []byte(fmt.Sprint(v)))
	return append(dst, '}')
}

func appendTagged(dst []byte, tag string, data []byte) []byte {
	dst = append(dst, `{"`...)
	dst = append(dst, tag...)
	dst = append(dst, `": "`...)
	dst = base64.StdEncoding.AppendEncode(dst, data)
	return append(dst, `"}`...)
}

func appendStr(dst []byte, s []byte) []byte {
	if !utf8.Valid(s) {
		return appendTagged(dst, "str64", s)
	}
	dst = append(dst, `{"str": `...)
	dst = AppendString(dst, s)
	return append(dst, '}')
}

func appendFloat(dst []byte, f float64) []byte {
	dst = append(dst, `{"float": "`...)
	dst = AppendFloat(dst, f)
	return append(dst, `"}`...)
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
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
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
