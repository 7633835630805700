package render

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"asbtools/asb"
)

func TestEscapeName(t *testing.T) {
	cases := map[string]string{
		"":            EmptyName,
		".":           "%2E",
		"..":          "%2E.",
		"...":         "...",
		"a/b":         "a%2Fb",
		"50%":         "50%25",
		"tab\there":   "tab%09here",
		"nl\n":        "nl%0A",
		"\x7f":        "%7F",
		"\xff\xfe":    "%FF%FE",
		"with space":  "with space",
		"日本":          "日本",
		`back\slash`:  `back\slash`,
		"%noset":      "%25noset",
		"user-000001": "user-000001",
	}
	for in, want := range cases {
		if got := EscapeString(in); got != want {
			t.Errorf("EscapeString(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKeyNames(t *testing.T) {
	long := make([]byte, 300)
	for i := range long {
		long[i] = '/'
	}
	for _, c := range []struct {
		key  asb.Key
		want string
		long bool
	}{
		{asb.Key{Type: asb.KeyInt, Int: -42}, "-42", false},
		{asb.Key{Type: asb.KeyFloat, Float: 1.5}, "1.5", false},
		{asb.Key{Type: asb.KeyString, Bytes: []byte("a/b")}, "a%2Fb", false},
		{asb.Key{Type: asb.KeyBytes, Bytes: []byte{0, 'x'}}, "%00x", false},
		{asb.Key{Type: asb.KeyString, Bytes: long}, string(EscapeName(nil, long[:66])), true},
	} {
		got, isLong, ok := AppendKeyName(nil, &c.key)
		if !ok || string(got) != c.want || isLong != c.long {
			t.Errorf("AppendKeyName(%+v) = %q, %v, %v; want %q, %v", c.key, got, isLong, ok, c.want, c.long)
		}
		if len(got) > MaxNameLen {
			t.Errorf("name of %d bytes", len(got))
		}
	}
	if _, _, ok := AppendKeyName(nil, &asb.Key{}); ok {
		t.Errorf("a record without key has a key name")
	}
}

func TestAppendRecordIsTypedJSON(t *testing.T) {
	r := &asb.Record{
		Namespace: []byte("test"), Set: []byte("s"), HasSet: true, Generation: 7, VoidTime: 100,
		Key: asb.Key{Type: asb.KeyString, Bytes: []byte("k\"1")},
		Bins: []asb.Bin{
			{Name: []byte("i"), Type: asb.BinInt, Int: 1},
			{Name: []byte("f"), Type: asb.BinFloat, Float: math.NaN()},
			{Name: []byte("s"), Type: asb.BinString, Bytes: []byte("a\x00\n")},
			{Name: []byte("x"), Type: asb.BinString, Bytes: []byte{0xff}},
			{Name: []byte("b"), Type: asb.BinBlob, Bytes: []byte{1, 2}},
			{Name: []byte("h"), Type: asb.BinHLL, Bytes: []byte{3}},
			{Name: []byte("l"), Type: asb.BinList, Bytes: []byte{0x92, 0x01, 0xa2, 0x03, 'z'}},
			{Name: []byte("bad"), Type: asb.BinMap, Bytes: []byte{0x81}},
		},
	}
	out := AppendRecord(nil, r)
	var v struct {
		Set        string
		Key        map[string]string
		Generation int
		VoidTime   int    `json:"void_time"`
		Expires    string `json:"expires"`
		Bins       map[string]map[string]any
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if v.Key["str"] != "k\"1" || v.Generation != 7 || v.VoidTime != 100 || v.Expires != "2010-01-01T00:01:40Z" {
		t.Errorf("metadata wrong: %+v", v)
	}
	want := map[string]string{"i": "int", "f": "float", "s": "str", "x": "str64", "b": "bytes", "h": "hll", "l": "list", "bad": "msgpack"}
	for bin, typ := range want {
		if _, ok := v.Bins[bin][typ]; !ok {
			t.Errorf("bin %s: %v, want type %s", bin, v.Bins[bin], typ)
		}
	}
	if v.Bins["f"]["float"] != "NaN(0x7ff8000000000001)" && v.Bins["f"]["float"] != "NaN(0x7ff8000000000000)" {
		t.Errorf("NaN rendered as %v", v.Bins["f"]["float"])
	}
	if v.Bins["s"]["str"] != "a\x00\n" {
		t.Errorf("string rendered as %q", v.Bins["s"]["str"])
	}
}

// TestRecordSize checks that RecordSize measures exactly what AppendRecord
// renders, for every record of the golden backups and for values that need
// escaping, base64 or msgpack decoding.
func TestRecordSize(t *testing.T) {
	files, _ := filepath.Glob("../../test/golden/legacy-4.5.8/*/*.asb")
	more, _ := filepath.Glob("../../test/golden/legacy-4.5.8/*/*/*.asb")
	files = append(files, more...)
	n := 0
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rd := asb.NewReader(bytes.NewReader(data), asb.ReaderOptions{FileName: p})
		for {
			e, err := rd.Next()
			if err != nil {
				break // encrypted or compressed files stop at once
			}
			if e.Kind != asb.EntryRecord {
				continue
			}
			n++
			if got, want := RecordSize(e.Record), len(AppendRecord(nil, e.Record)); got != want {
				t.Fatalf("%s: line %d: RecordSize %d, rendered %d bytes", p, e.Line, got, want)
			}
		}
	}
	if n < 1000 {
		t.Fatalf("only %d golden records checked", n)
	}
	odd := &asb.Record{Namespace: []byte("n\x01\"\\"), Set: []byte("s\t\n\r"), HasSet: true,
		Key: asb.Key{Type: asb.KeyFloat, Float: math.NaN()}, VoidTime: 123,
		Bins: []asb.Bin{
			{Name: []byte("bad\xff"), Type: asb.BinString, Bytes: []byte("\xff\xfe")},
			{Name: []byte("u"), Type: asb.BinString, Bytes: []byte("日本\x7f")},
			{Name: []byte("m"), Type: asb.BinMap, Bytes: []byte{0x82, 0xa1, 'a', 0xcb, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18, 0x01, 0x93, 0xc0, 0xc3, 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
			{Name: []byte("bad-map"), Type: asb.BinMap, Bytes: []byte{0x82, 0x01}},
			{Name: []byte("f"), Type: asb.BinFloat, Float: math.Inf(-1)},
			{Name: []byte("i"), Type: asb.BinInt, Int: math.MinInt64},
		}}
	if got, want := RecordSize(odd), len(AppendRecord(nil, odd)); got != want {
		t.Fatalf("RecordSize %d, rendered %d bytes:\n%s", got, want, AppendRecord(nil, odd))
	}
}
