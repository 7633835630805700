package render

import (
	"encoding/json"
	"math"
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
