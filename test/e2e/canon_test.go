package e2e

// An independent oracle for record values: the canonical typed JSON of the
// golden corpus's expected.jsonl (written by the harness's dump tool from a
// real server) is turned into asdsim particles, and asdsim's stored
// particles are rendered back to that JSON. This code follows the wire
// specification (particle table, Aerospike msgpack conventions) on its own
// and deliberately uses nothing of package asb, so a bug in the tools'
// encoders or decoders cannot cancel out against the expectations.

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"testing"

	"asbtools/asdsim"
)

// canonRecord is one record line of expected.jsonl.
type canonRecord struct {
	Digest   [20]byte
	Set      string // "" = no set
	Key      map[string]any
	VoidTime uint32
	Bins     map[string]any // bin name -> typed value
}

// loadCanon reads the record lines of an expected.jsonl file, keyed by digest.
func loadCanon(t testing.TB, path string) map[[20]byte]*canonRecord {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[[20]byte]*canonRecord{}
	for i, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		d := json.NewDecoder(bytes.NewReader(line))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			t.Fatalf("%s:%d: %v", path, i+1, err)
		}
		dg, ok := m["digest"].(string)
		if !ok {
			continue // index or UDF line
		}
		raw, err := base64.StdEncoding.DecodeString(dg)
		if err != nil || len(raw) != 20 {
			t.Fatalf("%s:%d: bad digest %q", path, i+1, dg)
		}
		r := &canonRecord{}
		copy(r.Digest[:], raw)
		if s, ok := m["set"].(string); ok {
			r.Set = s
		}
		if k, ok := m["key"].(map[string]any); ok {
			r.Key = k
		}
		vt, err := m["void_time"].(json.Number).Int64()
		if err != nil {
			t.Fatalf("%s:%d: void_time: %v", path, i+1, err)
		}
		r.VoidTime = uint32(vt)
		r.Bins, _ = m["bins"].(map[string]any)
		out[r.Digest] = r
	}
	return out
}

// canonText is the comparable text of a typed value.
func canonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(b)
}

// canonFloat formats a double as the corpus does (shortest round-trip form,
// NaN with its bits).
func canonFloat(f float64) string {
	if math.IsNaN(f) {
		return fmt.Sprintf("NaN(0x%016x)", math.Float64bits(f))
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func parseCanonFloat(s string) (float64, error) {
	var bits uint64
	if _, err := fmt.Sscanf(s, "NaN(0x%x)", &bits); err == nil {
		return math.Float64frombits(bits), nil
	}
	return strconv.ParseFloat(s, 64)
}

// Names of the typed values of blob-like particles.
var canonBlobNames = map[asdsim.ParticleType]string{
	asdsim.ParticleBlob: "bytes", asdsim.ParticleJava: "java", asdsim.ParticleCSharp: "csharp",
	asdsim.ParticlePython: "python", asdsim.ParticleRuby: "ruby", asdsim.ParticlePHP: "php",
	asdsim.ParticleErlang: "erlang", asdsim.ParticleHLL: "hll",
}

func canonBlobType(name string) (asdsim.ParticleType, bool) {
	for t, n := range canonBlobNames {
		if n == name {
			return t, true
		}
	}
	return 0, false
}

// renderParticle renders a stored particle as a typed value.
func renderParticle(t asdsim.ParticleType, d []byte) (any, error) {
	switch t {
	case asdsim.ParticleInteger:
		if len(d) != 8 {
			return nil, fmt.Errorf("integer of %d bytes", len(d))
		}
		return map[string]any{"int": json.Number(strconv.FormatInt(int64(binary.BigEndian.Uint64(d)), 10))}, nil
	case asdsim.ParticleFloat:
		if len(d) != 8 {
			return nil, fmt.Errorf("float of %d bytes", len(d))
		}
		return map[string]any{"float": canonFloat(math.Float64frombits(binary.BigEndian.Uint64(d)))}, nil
	case asdsim.ParticleString:
		return map[string]any{"str": string(d)}, nil
	case asdsim.ParticleBool:
		if len(d) != 1 || d[0] > 1 {
			return nil, fmt.Errorf("bool %x", d)
		}
		return map[string]any{"bool": d[0] == 1}, nil
	case asdsim.ParticleGeoJSON:
		if len(d) < 3 || 3+8*(int(d[1])<<8|int(d[2])) > len(d) {
			return nil, fmt.Errorf("geojson %x", d)
		}
		return map[string]any{"geo": string(d[3+8*(int(d[1])<<8|int(d[2])):])}, nil
	case asdsim.ParticleList, asdsim.ParticleMap:
		v, rest, err := renderMsgpack(d)
		if err != nil {
			return nil, err
		}
		if len(rest) != 0 {
			return nil, fmt.Errorf("%d bytes after the msgpack value", len(rest))
		}
		m, _ := v.(map[string]any)
		if (t == asdsim.ParticleList) != (m["list"] != nil) || (t == asdsim.ParticleMap) != (m["map"] != nil) {
			return nil, fmt.Errorf("particle type %d holds %s", t, canonText(v))
		}
		return v, nil
	}
	if name, ok := canonBlobNames[t]; ok {
		return map[string]any{name: base64.StdEncoding.EncodeToString(d)}, nil
	}
	return nil, fmt.Errorf("particle type %d", t)
}

func mpLen(d []byte, n int) (int, []byte, error) {
	if len(d) < n {
		return 0, nil, fmt.Errorf("msgpack truncated")
	}
	var v uint64
	for _, c := range d[:n] {
		v = v<<8 | uint64(c)
	}
	return int(v), d[n:], nil
}

// renderMsgpack renders one msgpack value (Aerospike conventions) and
// returns the bytes after it.
func renderMsgpack(d []byte) (any, []byte, error) {
	if len(d) == 0 {
		return nil, nil, fmt.Errorf("msgpack truncated")
	}
	c, d := d[0], d[1:]
	num := func(v string) map[string]any { return map[string]any{"int": json.Number(v)} }
	var n int
	var err error
	switch {
	case c <= 0x7f:
		return num(strconv.Itoa(int(c))), d, nil
	case c >= 0xe0:
		return num(strconv.Itoa(int(int8(c)))), d, nil
	case c == 0xc0:
		return map[string]any{"nil": nil}, d, nil
	case c == 0xc2 || c == 0xc3:
		return map[string]any{"bool": c == 0xc3}, d, nil
	case c >= 0xcc && c <= 0xcf:
		sz := 1 << (c - 0xcc)
		if len(d) < sz {
			return nil, nil, fmt.Errorf("msgpack truncated")
		}
		var v uint64
		for _, b := range d[:sz] {
			v = v<<8 | uint64(b)
		}
		return num(strconv.FormatUint(v, 10)), d[sz:], nil
	case c >= 0xd0 && c <= 0xd3:
		sz := 1 << (c - 0xd0)
		if len(d) < sz {
			return nil, nil, fmt.Errorf("msgpack truncated")
		}
		var v uint64
		for _, b := range d[:sz] {
			v = v<<8 | uint64(b)
		}
		shift := 64 - 8*uint(sz)
		return num(strconv.FormatInt(int64(v<<shift)>>shift, 10)), d[sz:], nil
	case c == 0xca:
		if len(d) < 4 {
			return nil, nil, fmt.Errorf("msgpack truncated")
		}
		return map[string]any{"float": canonFloat(float64(math.Float32frombits(binary.BigEndian.Uint32(d))))}, d[4:], nil
	case c == 0xcb:
		if len(d) < 8 {
			return nil, nil, fmt.Errorf("msgpack truncated")
		}
		return map[string]any{"float": canonFloat(math.Float64frombits(binary.BigEndian.Uint64(d)))}, d[8:], nil
	case c&0xe0 == 0xa0, c == 0xd9, c == 0xda, c == 0xdb, c == 0xc4, c == 0xc5, c == 0xc6:
		switch c {
		case 0xd9, 0xc4:
			n, d, err = mpLen(d, 1)
		case 0xda, 0xc5:
			n, d, err = mpLen(d, 2)
		case 0xdb, 0xc6:
			n, d, err = mpLen(d, 4)
		default:
			n = int(c & 0x1f)
		}
		if err != nil || n < 1 || len(d) < n {
			return nil, nil, fmt.Errorf("msgpack string of %d bytes", n)
		}
		pt, body := asdsim.ParticleType(d[0]), d[1:n]
		switch pt {
		case asdsim.ParticleString:
			return map[string]any{"str": string(body)}, d[n:], nil
		case asdsim.ParticleGeoJSON:
			return map[string]any{"geo": string(body)}, d[n:], nil
		}
		if name, ok := canonBlobNames[pt]; ok {
			return map[string]any{name: base64.StdEncoding.EncodeToString(body)}, d[n:], nil
		}
		return nil, nil, fmt.Errorf("msgpack string of particle type %d", pt)
	case c&0xf0 == 0x90, c == 0xdc, c == 0xdd, c&0xf0 == 0x80, c == 0xde, c == 0xdf:
		isMap := c&0xf0 == 0x80 || c == 0xde || c == 0xdf
		switch c {
		case 0xdc, 0xde:
			n, d, err = mpLen(d, 2)
		case 0xdd, 0xdf:
			n, d, err = mpLen(d, 4)
		default:
			n = int(c & 0x0f)
		}
		if err != nil {
			return nil, nil, err
		}
		out := map[string]any{}
		// An extension header c7 00 <flags> as the first element (the first
		// key of a map, with a nil value) carries the order flags.
		if n > 0 && len(d) >= 3 && d[0] == 0xc7 && d[1] == 0 {
			out["flags"] = json.Number(strconv.Itoa(int(d[2])))
			d = d[3:]
			if isMap {
				if len(d) == 0 || d[0] != 0xc0 {
					return nil, nil, fmt.Errorf("map flags without a nil value")
				}
				d = d[1:]
			}
			n--
		}
		elems := []any{}
		for i := 0; i < n; i++ {
			var k, v any
			if k, d, err = renderMsgpack(d); err != nil {
				return nil, nil, err
			}
			if !isMap {
				elems = append(elems, k)
				continue
			}
			if v, d, err = renderMsgpack(d); err != nil {
				return nil, nil, err
			}
			elems = append(elems, []any{k, v})
		}
		if isMap {
			out["map"] = elems
		} else {
			out["list"] = elems
		}
		return out, d, nil
	}
	return nil, nil, fmt.Errorf("msgpack byte %#x", c)
}

// typedValue splits a typed value {"<type>": v, ["flags": f]}.
func typedValue(v any) (string, any, int, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", nil, 0, fmt.Errorf("not a typed value: %s", canonText(v))
	}
	flags := -1
	if f, ok := m["flags"].(json.Number); ok {
		n, err := f.Int64()
		if err != nil {
			return "", nil, 0, err
		}
		flags = int(n)
	}
	for k, x := range m {
		if k != "flags" {
			return k, x, flags, nil
		}
	}
	return "", nil, 0, fmt.Errorf("empty typed value")
}

// encodeParticle turns a typed value into a particle as the client writes it.
func encodeParticle(v any) (asdsim.ParticleType, []byte, error) {
	name, x, _, err := typedValue(v)
	if err != nil {
		return 0, nil, err
	}
	switch name {
	case "int":
		n, err := x.(json.Number).Int64()
		if err != nil {
			return 0, nil, err
		}
		return asdsim.ParticleInteger, binary.BigEndian.AppendUint64(nil, uint64(n)), nil
	case "float":
		f, err := parseCanonFloat(x.(string))
		if err != nil {
			return 0, nil, err
		}
		return asdsim.ParticleFloat, binary.BigEndian.AppendUint64(nil, math.Float64bits(f)), nil
	case "str":
		return asdsim.ParticleString, []byte(x.(string)), nil
	case "bool":
		if x.(bool) {
			return asdsim.ParticleBool, []byte{1}, nil
		}
		return asdsim.ParticleBool, []byte{0}, nil
	case "geo":
		return asdsim.ParticleGeoJSON, append([]byte{0, 0, 0}, x.(string)...), nil
	case "list", "map":
		d, err := encodeMsgpack(nil, v)
		if err != nil {
			return 0, nil, err
		}
		if name == "list" {
			return asdsim.ParticleList, d, nil
		}
		return asdsim.ParticleMap, d, nil
	}
	if pt, ok := canonBlobType(name); ok {
		b, err := base64.StdEncoding.DecodeString(x.(string))
		return pt, b, err
	}
	return 0, nil, fmt.Errorf("typed value %q", name)
}

func mpHeader(b []byte, n int, fix, fixMax byte, c16, c32 byte) []byte {
	switch {
	case n <= int(fixMax):
		return append(b, fix|byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, c16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, c32), uint32(n))
}

// encodeMsgpack appends the msgpack form of a typed value (shortest
// integer forms, 0xcb doubles, str-family strings and blobs led by their
// particle type, flags as a leading extension header).
func encodeMsgpack(b []byte, v any) ([]byte, error) {
	name, x, flags, err := typedValue(v)
	if err != nil {
		return nil, err
	}
	str := func(pt asdsim.ParticleType, body []byte) []byte {
		n := len(body) + 1
		switch {
		case n < 32:
			b = append(b, 0xa0|byte(n))
		case n < 256:
			b = append(b, 0xd9, byte(n))
		case n <= 0xffff:
			b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
		default:
			b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
		}
		return append(append(b, byte(pt)), body...)
	}
	switch name {
	case "nil":
		return append(b, 0xc0), nil
	case "bool":
		if x.(bool) {
			return append(b, 0xc3), nil
		}
		return append(b, 0xc2), nil
	case "int":
		num := x.(json.Number)
		if n, err := num.Int64(); err == nil {
			switch {
			case n >= 0 && n <= 0x7f, n < 0 && n >= -32:
				return append(b, byte(n)), nil
			case n >= 0 && n <= 0xff:
				return append(b, 0xcc, byte(n)), nil
			case n >= 0 && n <= 0xffff:
				return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(n)), nil
			case n >= 0 && n <= 0xffffffff:
				return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(n)), nil
			case n >= -128 && n < 0:
				return append(b, 0xd0, byte(n)), nil
			case n >= -32768 && n < 0:
				return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(n)), nil
			case n >= -1<<31 && n < 0:
				return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(n)), nil
			}
			return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(n)), nil
		}
		u, err := strconv.ParseUint(num.String(), 10, 64)
		if err != nil {
			return nil, err
		}
		return binary.BigEndian.AppendUint64(append(b, 0xcf), u), nil
	case "float":
		f, err := parseCanonFloat(x.(string))
		if err != nil {
			return nil, err
		}
		return binary.BigEndian.AppendUint64(append(b, 0xcb), math.Float64bits(f)), nil
	case "str":
		return str(asdsim.ParticleString, []byte(x.(string))), nil
	case "geo":
		return str(asdsim.ParticleGeoJSON, []byte(x.(string))), nil
	case "list", "map":
		elems, _ := x.([]any)
		n := len(elems)
		if flags >= 0 {
			n++
		}
		if name == "list" {
			b = mpHeader(b, n, 0x90, 0x0f, 0xdc, 0xdd)
		} else {
			b = mpHeader(b, n, 0x80, 0x0f, 0xde, 0xdf)
		}
		if flags >= 0 {
			b = append(b, 0xc7, 0, byte(flags))
			if name == "map" {
				b = append(b, 0xc0)
			}
		}
		for _, e := range elems {
			if name == "map" {
				kv, ok := e.([]any)
				if !ok || len(kv) != 2 {
					return nil, fmt.Errorf("map entry %s", canonText(e))
				}
				if b, err = encodeMsgpack(b, kv[0]); err != nil {
					return nil, err
				}
				e = kv[1]
			}
			if b, err = encodeMsgpack(b, e); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	if pt, ok := canonBlobType(name); ok {
		body, err := base64.StdEncoding.DecodeString(x.(string))
		if err != nil {
			return nil, err
		}
		return str(pt, body), nil
	}
	return nil, fmt.Errorf("typed value %q in a list or map", name)
}

// canonKey converts a typed user key into the server's form.
func canonKey(k map[string]any) (*asdsim.UserKey, error) {
	if k == nil {
		return nil, nil
	}
	pt, d, err := encodeParticle(k)
	if err != nil {
		return nil, err
	}
	switch pt {
	case asdsim.ParticleInteger, asdsim.ParticleString, asdsim.ParticleBlob:
		return &asdsim.UserKey{Type: pt, Data: d}, nil
	}
	return nil, fmt.Errorf("key of particle type %d", pt)
}

// canonServerRecord builds the server record of an expected.jsonl record;
// order gives the bin order (bins not named there follow in name order),
// gen the generation.
func canonServerRecord(r *canonRecord, order []string, gen uint16) (asdsim.Record, error) {
	key, err := canonKey(r.Key)
	if err != nil {
		return asdsim.Record{}, err
	}
	out := asdsim.Record{Set: r.Set, Digest: r.Digest, Key: key, Generation: gen, VoidTime: r.VoidTime}
	seen := map[string]bool{}
	var names []string
	for _, n := range order {
		if _, ok := r.Bins[n]; ok && !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	var rest []string
	for n := range r.Bins {
		if !seen[n] {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	for _, n := range append(names, rest...) {
		pt, d, err := encodeParticle(r.Bins[n])
		if err != nil {
			return asdsim.Record{}, fmt.Errorf("bin %q: %v", n, err)
		}
		out.Bins = append(out.Bins, asdsim.Bin{Name: n, Type: pt, Data: d})
	}
	return out, nil
}

// compareCanon compares a server record with its expected.jsonl record:
// set, key, every bin's typed value, and the void time within slack
// seconds. It returns the differences.
func compareCanon(got asdsim.Record, want *canonRecord, slack int64) []string {
	var diffs []string
	if got.Set != want.Set {
		diffs = append(diffs, fmt.Sprintf("set %q, expected %q", got.Set, want.Set))
	}
	var gotKey any
	if got.Key != nil {
		v, err := renderParticle(got.Key.Type, got.Key.Data)
		if err != nil {
			diffs = append(diffs, "key: "+err.Error())
		}
		gotKey = v
	}
	var wantKey any
	if want.Key != nil {
		wantKey = want.Key
	}
	if canonText(gotKey) != canonText(wantKey) {
		diffs = append(diffs, fmt.Sprintf("key %s, expected %s", canonText(gotKey), canonText(wantKey)))
	}
	if d := int64(got.VoidTime) - int64(want.VoidTime); d < -slack || d > slack {
		diffs = append(diffs, fmt.Sprintf("void time %d, expected %d", got.VoidTime, want.VoidTime))
	}
	seen := map[string]bool{}
	for _, b := range got.Bins {
		seen[b.Name] = true
		w, ok := want.Bins[b.Name]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("unexpected bin %q", b.Name))
			continue
		}
		v, err := renderParticle(b.Type, b.Data)
		if err != nil {
			diffs = append(diffs, fmt.Sprintf("bin %q: %v", b.Name, err))
			continue
		}
		if g, e := canonText(canonSorted(v)), canonText(w); g != e {
			diffs = append(diffs, fmt.Sprintf("bin %q = %.200s, expected %.200s", b.Name, g, e))
		}
	}
	for n := range want.Bins {
		if !seen[n] {
			diffs = append(diffs, fmt.Sprintf("bin %q missing", n))
		}
	}
	return diffs
}

// canonSorted returns v with the entries of every unordered map (one
// without flags) sorted by the text of their keys, the order in which the
// corpus writes them; ordered maps keep their stored order.
func canonSorted(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := map[string]any{}
	for k, x := range m {
		out[k] = x
	}
	if l, ok := m["list"].([]any); ok {
		nl := make([]any, len(l))
		for i, e := range l {
			nl[i] = canonSorted(e)
		}
		out["list"] = nl
	}
	if l, ok := m["map"].([]any); ok {
		nl := make([]any, len(l))
		for i, e := range l {
			kv, _ := e.([]any)
			if len(kv) == 2 {
				nl[i] = []any{canonSorted(kv[0]), canonSorted(kv[1])}
			} else {
				nl[i] = e
			}
		}
		if _, ordered := m["flags"]; !ordered {
			sort.SliceStable(nl, func(i, j int) bool {
				a, _ := nl[i].([]any)
				b, _ := nl[j].([]any)
				if len(a) != 2 || len(b) != 2 {
					return false
				}
				return canonText(a[0]) < canonText(b[0])
			})
		}
		out["map"] = nl
	}
	return out
}
