package asb

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

func handmade(t *testing.T, name string, opts ReaderOptions) *decoded {
	t.Helper()
	d, err := decodeFile(t, filepath.Join(goldenDir, "handmade", name, "backup.asb"), opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func records(d *decoded) []*Record {
	var out []*Record
	for _, e := range d.entries {
		if e.Kind == EntryRecord {
			out = append(out, e.Record)
		}
	}
	return out
}

func bin(t *testing.T, r *Record, name string) *Bin {
	t.Helper()
	for i := range r.Bins {
		if string(r.Bins[i].Name) == name {
			return &r.Bins[i]
		}
	}
	t.Fatalf("no bin %q", name)
	return nil
}

func TestHandmadeV30(t *testing.T) {
	d := handmade(t, "accept-01-v30-basic", ReaderOptions{MaxVersion: Version31})
	if d.hdr.Version != Version30 {
		t.Fatalf("version %v", d.hdr.Version)
	}
	rs := records(d)
	if len(rs) != 2 || len(d.entries) != 2 {
		t.Fatalf("%d records", len(rs))
	}
	r := rs[0]
	if r.Key.Type != KeyInt || r.Key.Int != 42 || string(r.Set) != "hand" || r.Generation != 3 || len(r.Bins) != 5 {
		t.Fatalf("record 0: %+v", r)
	}
	if b := bin(t, r, "int"); b.Type != BinInt || b.Int != math.MinInt64 {
		t.Fatalf("int bin %+v", b)
	}
	if b := bin(t, r, "dbl"); b.Float != 3.5 {
		t.Fatalf("dbl %+v", b)
	}
	if b := bin(t, r, "str"); string(b.Bytes) != "hello\nworld" {
		t.Fatalf("str %q", b.Bytes)
	}
	if b := bin(t, r, "blob"); !bytes.Equal(b.Bytes, []byte{0, 1, 2, 3}) {
		t.Fatalf("blob %v", b.Bytes)
	}
	if b := bin(t, r, "nothing"); b.Type != BinNil {
		t.Fatalf("nil %+v", b)
	}
	// 3.0: no unescaping of keys or bin names.
	r = rs[1]
	if r.Key.Type != KeyString || string(r.Key.Bytes) != `a b\c` {
		t.Fatalf("key %q", r.Key.Bytes)
	}
	if b := bin(t, r, `back\slash`); string(b.Bytes) != "x y" {
		t.Fatalf("literal backslash name: %+v", b)
	}
	if b := bin(t, r, "flag"); b.Type != BinBool || !b.Bool {
		t.Fatalf("bool %+v", b)
	}
}

func TestHandmadeV31Grammar(t *testing.T) {
	d := handmade(t, "accept-02-v31-grammar", ReaderOptions{MaxVersion: Version31})
	var idx []*Index
	var udfs []*UDF
	for _, e := range d.entries {
		switch e.Kind {
		case EntryIndex:
			idx = append(idx, e.Index)
		case EntryUDF:
			udfs = append(udfs, e.UDF)
		}
	}
	if len(idx) != 7 || len(udfs) != 2 || !d.hdr.FirstFile() {
		t.Fatalf("%d indexes %d udfs", len(idx), len(udfs))
	}
	if ix := idx[0]; ix.Name != "idx_old" || !ix.HasContext || ix.Context != "" {
		t.Fatalf("old trailing-space form: %+v", ix)
	}
	if ix := idx[1]; ix.Context != "kiKiA2E=" || !ix.HasContext {
		t.Fatalf("context: %+v", ix)
	}
	if ix := idx[2]; ix.Set != "" || ix.HasContext || ix.Paths[0] != (IndexPath{"s", IndexString}) {
		t.Fatalf("empty set: %+v", ix)
	}
	if idx[3].Type != IndexList || idx[4].Type != IndexMapKeys || idx[4].Paths[0].Type != IndexBlob ||
		idx[5].Type != IndexMapValues || idx[5].Paths[0].Type != IndexGeo {
		t.Fatalf("index types")
	}
	if ix := idx[6]; ix.Set != "with space" || ix.Paths[0].Bin != "sp ace" {
		t.Fatalf("escaped: %+v", ix)
	}
	if udfs[0].Name != "empty.lua" || len(udfs[0].Content) != 0 {
		t.Fatalf("empty udf %+v", udfs[0])
	}
	if udfs[1].Name != "tricky.lua" || !strings.Contains(string(udfs[1].Content), "+ n test\n- I x 1\n") || len(udfs[1].Content) != 50 {
		t.Fatalf("tricky udf %q", udfs[1].Content)
	}
	rs := records(d)
	if len(rs) != 2 {
		t.Fatalf("%d records", len(rs))
	}
	if k := rs[0].Key; k.Type != KeyFloat || k.Float != 1.5 {
		t.Fatalf("float key %+v", k)
	}
	r := rs[1]
	if k := r.Key; k.Type != KeyBytes || !k.Compact || string(k.Bytes) != "a\nb\x00c" {
		t.Fatalf("compact key %+v", k)
	}
	if r.VoidTime != 900000000 || r.Generation != 2 || len(r.Bins) != 21 {
		t.Fatalf("meta %+v", r)
	}
	checks := []struct {
		name    string
		typ     BinType
		compact bool
		val     string
	}{
		{"s_nl", BinString, false, "line1\nline2\n"},
		{"s_nul", BinString, false, "nul\x00 and cr\r\n"},
		{"b_raw", BinBlob, true, "x\ny\n\x00z"},
		{"b_empty", BinBlob, false, ""},
		{"j", BinJava, false, "\x00\x01\x02"},
		{"c", BinCSharp, false, "\x00\x01\x02"},
		{"p", BinPython, false, "\x00\x01\x02"},
		{"r", BinRuby, false, "\x00\x01\x02"},
		{"h", BinPHP, false, "\x00\x01\x02"},
		{"e", BinErlang, false, "\x00\x01\x02"},
		{"e_raw", BinErlang, true, "\x00\n\x01"},
		{"y", BinHLL, false, "\x00\x04\x00"},
		{"g", BinGeoJSON, false, `{"type":"Point","coordinates":[1,2]}`},
		{"xs", BinString64, false, "hello"},
		{"nl\nbin", BinString, false, "v"},
	}
	for _, c := range checks {
		b := bin(t, r, c.name)
		if b.Type != c.typ || b.Compact != c.compact || string(b.Bytes) != c.val {
			t.Fatalf("bin %q: %c %v %q, want %c %v %q", c.name, b.Type, b.Compact, b.Bytes, c.typ, c.compact, c.val)
		}
	}
	if v, err := bin(t, r, "m").Value(); err != nil || len(v.(*Map).Pairs) != 1 || v.(*Map).Pairs[0].Key != "a" || v.(*Map).Pairs[0].Value != int64(1) {
		t.Fatalf("map %#v %v", v, err)
	}
	if v, err := bin(t, r, "l").Value(); err != nil || len(v.(*List).Items) != 2 {
		t.Fatalf("list %#v %v", v, err)
	}
	if b := bin(t, r, "dnan"); !math.IsNaN(b.Float) || math.Float64bits(b.Float) != nanBits {
		t.Fatalf("nan %x", math.Float64bits(b.Float))
	}
	if b := bin(t, r, "sp ace"); b.Int != 7 {
		t.Fatalf("escaped bin name %+v", b)
	}
	if b := bin(t, r, "nil"); b.Type != BinNil {
		t.Fatalf("nil bin")
	}
	if b := bin(t, r, "zt"); !b.Bool {
		t.Fatalf("bool")
	}
	if p := bin(t, r, "y").Particle(); p != ParticleHLL {
		t.Fatalf("particle %d", p)
	}
}

func TestHandmadeMinimalAndGlobals(t *testing.T) {
	rs := records(handmade(t, "accept-03-v31-minimal", ReaderOptions{MaxVersion: Version31}))
	if len(rs) != 4 {
		t.Fatalf("%d records", len(rs))
	}
	if k := rs[0].Key; k.Type != KeyString || len(k.Bytes) != 0 {
		t.Fatalf("empty string key %+v", k)
	}
	if k := rs[1].Key; k.Type != KeyBytes || k.Compact || len(k.Bytes) != 0 {
		t.Fatalf("empty bytes key %+v", k)
	}
	if r := rs[2]; string(r.Set) != `a b\c` || len(r.Bins) != 0 || r.Key.Int != -1 {
		t.Fatalf("record 2 %+v", r)
	}
	if r := rs[3]; r.Key.Type != KeyNone || r.HasSet || r.Generation != 65535 ||
		math.Float64bits(r.Bins[0].Float) != 1<<63 {
		t.Fatalf("record 3 %+v", r)
	}
	d := handmade(t, "accept-04-v31-globals-only", ReaderOptions{MaxVersion: Version31})
	if d.hdr.Meta[0].Kind != MetaFirstFile || d.hdr.Meta[1].Kind != MetaNamespace {
		t.Fatalf("meta %+v", d.hdr.Meta)
	}
	if ns, ok := d.hdr.Namespace(); !ok || ns != "test" {
		t.Fatalf("namespace %q", ns)
	}
	n := 0
	for _, e := range d.entries {
		switch e.Kind {
		case EntryIndex:
			n++
			want := "idx_" + string(e.Index.Type) + string(e.Index.Paths[0].Type)
			if e.Index.Name != want {
				t.Fatalf("index %q, want %q", e.Index.Name, want)
			}
		case EntryUDF:
			if e.UDF.Name == "my udf.lua" && string(e.UDF.Content) != "function f(r) return 1 end" {
				t.Fatalf("udf %q", e.UDF.Content)
			}
			if e.UDF.Name == "blank.lua" && string(e.UDF.Content) != "\n\n\n" {
				t.Fatalf("udf %q", e.UDF.Content)
			}
		case EntryRecord:
			t.Fatal("record")
		}
	}
	if n != 16 {
		t.Fatalf("%d indexes", n)
	}
}

const okHead = "Version 3.1\n# namespace test\n"
const okRec = "+ k I 1\n+ n test\n+ d AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n+ s s\n+ g 1\n+ t 0\n+ b 1\n- I i 5\n"

// TestRejects feeds malformed inputs: each must fail with a SyntaxError
// at the given line and column and never return a record that is not
// complete.
func TestRejects(t *testing.T) {
	cases := []struct {
		name, in  string
		line, col int
		want      string
	}{
		{"empty", "", 1, 1, "version line"},
		{"short version", "Version 3.1", 1, 1, "version line"},
		{"version 2.0", "Version 2.0\n", 1, 9, "version"},
		{"bad meta", "Version 3.1\n# foo\n", 2, 2, "meta data line"},
		{"meta no space", "Version 3.1\n#namespace x\n", 2, 2, "meta data line"},
		{"meta eof", "Version 3.1\n# namespace x", 2, 2, "meta data line"},
		{"start char", okHead + "x\n", 3, 1, "start of entry"},
		{"meta after body", okHead + okRec + "# first-file\n", 11, 1, "start of entry"},
		{"global in 3.0", "Version 3.0\n* u L a 0 \n", 2, 1, "start of entry"},
		{"expr index in 3.1", okHead + "* e test s n N 1 b N AAAA\n", 3, 3, "global line type"},
		{"missing digest", okHead + "+ k I 1\n+ n test\n+ s x\n", 5, 3, `record line: expected "d"`},
		{"bad key type", okHead + "+ k Q 1\n", 3, 5, "key type"},
		{"int overflow", okHead + "+ k I 9223372036854775808\n", 3, 7, "64-bit integer"},
		{"bad digit", okHead + "+ k I 12x\n", 3, 9, "digit"},
		{"short digest", okHead + "+ n test\n+ d AAAA\n+ g 1\n", 5, 3, "digest: expected base64 data, found \\x0a \"+\" \" \" \"g\""},
		{"bad base64", okHead + "+ n test\n+ d AAAAAAAAAAAAAAAAAAAAAAAAAA*=\n", 4, 32, "base64"},
		{"generation range", okHead + "+ n test\n+ d AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n+ g 65536\n", 5, 5, "generation"},
		{"ttl range", okHead + "+ n test\n+ d AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n+ g 1\n+ t -1\n", 6, 5, "expiration"},
		{"bin count", okHead + "+ n test\n+ d AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n+ g 1\n+ t 0\n+ b 70000\n", 7, 5, "bin count"},
		{"too few bins", okHead + "+ n test\n+ d AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n+ g 1\n+ t 0\n+ b 2\n- I a 1\n", 9, 1, "end of file"},
		{"ldt", okHead + "+ n test\n+ d AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n+ g 1\n+ t 0\n+ b 1\n- U a 1 x\n", 8, 3, "LDT"},
		{"bool", okHead + "+ n test\n+ d AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n+ g 1\n+ t 0\n+ b 1\n- Z a X\n", 8, 7, "boolean"},
		{"float E", okHead + "+ n test\n+ d AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n+ g 1\n+ t 0\n+ b 1\n- D a 1E5\n", 8, 8, "floating point"},
		{"float dangling e", okHead + "+ n test\n+ d AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n+ g 1\n+ t 0\n+ b 1\n- D a 1e\n", 8, 7, "floating-point"},
		{"b64 size", okHead + "+ n test\n+ d AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n+ g 1\n+ t 0\n+ b 1\n- B a 3 AAA\n", 8, 7, "multiple of 4"},
		{"long bin name", okHead + "+ n test\n+ d AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n+ g 1\n+ t 0\n+ b 1\n- I abcdefghijklmnop 1\n", 8, 5, "at most 15"},
		{"long namespace", okHead + "+ n " + strings.Repeat("n", 32) + "\n", 3, 36, "namespace"},
		{"missing newline", okHead + "+ n test\n+ d AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n+ g 1\n+ t 0\n+ b 1\n- S a 1 xy\n", 8, 10, `bin: expected \x0a, found "y"`},
		{"index type", okHead + "* i test s n Q 1 b N\n", 3, 14, "index type"},
		{"index no path", okHead + "* i test s n N 0 b N\n", 3, 16, "path count"},
		{"index data type", okHead + "* i test s n N 1 b X\n", 3, 20, "index data type"},
		{"udf type", okHead + "* u J a 0 \n", 3, 5, "UDF type"},
		{"udf overrun", okHead + "* u L a 10 abc\n", 4, 1, "end of file"},
		{"global type", okHead + "* x\n", 3, 3, "global line type"},
		{"cr in namespace is data", okHead + "+ n test\r\n", 4, 1, `record: expected "+", found end of file`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := decodeAll(strings.NewReader(c.in), ReaderOptions{FileName: "f.asb"})
			if err == nil {
				t.Fatalf("accepted: %+v", d)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("%T %v", err, err)
			}
			if se.Line != c.line || se.Column != c.col || !strings.Contains(err.Error(), c.want) ||
				!strings.HasPrefix(err.Error(), "f.asb: line ") {
				t.Fatalf("got %q (line %d col %d), want line %d col %d containing %q", err, se.Line, se.Column, c.line, c.col, c.want)
			}
			if se.Offset < 0 || se.Offset > int64(len(c.in)) {
				t.Fatalf("offset %d", se.Offset)
			}
		})
	}
}

// TestLegacyQuirks pins inputs the legacy reader accepts although its
// writer never produces them.
func TestLegacyQuirks(t *testing.T) {
	in := okHead + "+ n test\n+ d AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n+ g \n+ t 0\n+ b 6\n" +
		"- I! a \n" + // empty integer is 0; "!" accepted on any type
		"- D b \n" + // empty double is 0
		"- D c -nan\n" +
		"- D d INFINITY\n" +
		"- I e 1\\2\n" + // escapes apply inside numbers
		"- S  0 \n" // empty bin name
	d, err := decodeAll(strings.NewReader(in), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := d.entries[0].Record
	if r.Generation != 0 || r.Bins[0].Int != 0 || !r.Bins[0].Compact || r.Bins[1].Float != 0 ||
		math.Float64bits(r.Bins[2].Float) != negNanBits || !math.IsInf(r.Bins[3].Float, 1) ||
		r.Bins[4].Int != 12 || len(r.Bins[5].Name) != 0 {
		t.Fatalf("%+v", r.Bins)
	}
	// The "!" of a non-bytes bin survives re-encoding.
	out := encodeAll(t, d)
	if !bytes.Contains(out, []byte("- I! a 0\n")) || !bytes.Contains(out, []byte("- D c -nan\n")) {
		t.Fatalf("%s", out)
	}
}

// TestTruncation cuts golden files at every position: the reader must
// return exactly the complete entries before the cut and then an error (or
// io.EOF when the cut falls on an entry boundary).
func TestTruncation(t *testing.T) {
	for _, name := range []string{"accept-02-v31-grammar", "accept-03-v31-minimal", "accept-01-v30-basic"} {
		path := filepath.Join(goldenDir, "handmade", name, "backup.asb")
		full, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		all, err := decodeAll(bytes.NewReader(full), ReaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for cut := 0; cut < len(full); cut++ {
			d, err := decodeAll(iotest.HalfReader(bytes.NewReader(full[:cut])), ReaderOptions{})
			// A file may end after any header line.
			boundary := cut >= 12 && cut <= int(all.hdr.Size) && full[cut-1] == '\n'
			n := 0
			for _, e := range all.entries {
				if e.Offset == int64(cut) {
					boundary = true
				}
				if e.Offset < int64(cut) {
					n++
				}
			}
			if err == nil {
				if !boundary {
					t.Fatalf("%s cut %d: accepted", name, cut)
				}
				n = 0
				for _, e := range all.entries {
					if e.Offset < int64(cut) {
						n++
					}
				}
				if len(d.entries) != n {
					t.Fatalf("%s cut %d: %d entries, want %d", name, cut, len(d.entries), n)
				}
				continue
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("%s cut %d: %v", name, cut, err)
			}
			if d != nil {
				for i, e := range d.entries {
					if e.Kind == EntryRecord && !e.Record.Equal(all.entries[i].Record) {
						t.Fatalf("%s cut %d: entry %d differs", name, cut, i)
					}
					if int64(cut) < all.entries[i].Offset {
						t.Fatalf("%s cut %d: entry %d returned", name, cut, i)
					}
				}
			}
		}
	}
}

// TestSmallReads decodes golden files through one-byte reads and a tiny
// initial buffer: results must equal a normal decode.
func TestSmallReads(t *testing.T) {
	for _, path := range plainFiles(t) {
		full, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		a, err := decodeAll(bytes.NewReader(full), ReaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		src := iotest.OneByteReader(bytes.NewReader(full))
		if len(full) > 1<<20 {
			src = iotest.HalfReader(bytes.NewReader(full))
		}
		b, err := decodeAll(src, ReaderOptions{BufferSize: 16})
		if err != nil {
			t.Fatal(err)
		}
		if len(a.entries) != len(b.entries) {
			t.Fatalf("%s: %d vs %d entries", path, len(a.entries), len(b.entries))
		}
		for i := range a.entries {
			ea, eb := a.entries[i], b.entries[i]
			if ea.Offset != eb.Offset || ea.Line != eb.Line || ea.Kind != eb.Kind ||
				(ea.Kind == EntryRecord && !ea.Record.Equal(eb.Record)) {
				t.Fatalf("%s: entry %d differs", path, i)
			}
		}
	}
}

func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	r := NewReader(io.MultiReader(strings.NewReader(okHead+okRec), iotest.ErrReader(boom)), ReaderOptions{})
	var err error
	for err == nil {
		_, err = r.Next()
	}
	if !errors.Is(err, boom) {
		t.Fatalf("%v", err)
	}
	if _, err2 := r.Next(); err2 != err {
		t.Fatalf("error not sticky")
	}
}

func TestMaxEntrySize(t *testing.T) {
	in := okHead + "+ n test\n+ d AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n+ g 1\n+ t 0\n+ b 1\n- S a 100000 " + strings.Repeat("x", 100000) + "\n"
	if _, err := decodeAll(strings.NewReader(in), ReaderOptions{MaxEntrySize: 50000}); err == nil || !strings.Contains(err.Error(), "per entry") {
		t.Fatalf("%v", err)
	}
	if _, err := decodeAll(strings.NewReader(in), ReaderOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestBodyReader(t *testing.T) {
	in := okHead + okRec + okRec
	off := int64(len(okHead) + len(okRec))
	r := NewBodyReader(strings.NewReader(in[off:]), Version31, off, 11, ReaderOptions{})
	e, err := r.Next()
	if err != nil || e.Offset != off || e.Line != 11 || e.Record.Bins[0].Int != 5 {
		t.Fatalf("%+v %v", e, err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("%v", err)
	}
	_, err = ReadRecordAt(strings.NewReader(in), off+1, 12, Version31, ReaderOptions{FileName: "x.asb"})
	var se *SyntaxError
	if !errors.As(err, &se) || se.Line != 12 || se.File != "x.asb" {
		t.Fatalf("%v", err)
	}
}
