package asb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

func TestAppendFloat(t *testing.T) {
	cases := []struct {
		f    float64
		want string
	}{
		{0.1, "0.10000000000000001"},
		{5e-324, "4.9406564584124654e-324"},
		{math.Copysign(0, -1), "-0"},
		{0, "0"},
		{math.Float64frombits(nanBits), "nan"},
		{math.Float64frombits(negNanBits), "-nan"},
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
		{1e16, "10000000000000000"},
		{1e17, "1e+17"},
		{123456789012345678, "1.2345678901234568e+17"},
		{1e-5, "1.0000000000000001e-05"},
		{0.0001, "0.0001"},
		{1.5, "1.5"},
		{-219.37556434098394, "-219.37556434098394"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
	}
	for _, c := range cases {
		if got := string(AppendFloat(nil, c.f)); got != c.want {
			t.Errorf("AppendFloat(%v) = %q, want %q", c.f, got, c.want)
		}
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 100000; i++ {
		f := math.Float64frombits(rng.Uint64())
		if math.IsNaN(f) {
			continue
		}
		s := AppendFloat(nil, f)
		if bad := floatBadIndex(s); bad >= 0 {
			t.Fatalf("%q rejected at %d", s, bad)
		}
		g, ok := parseFloatToken(s)
		if !ok || math.Float64bits(g) != math.Float64bits(f) {
			t.Fatalf("%q -> %v (%v), want %v", s, g, ok, f)
		}
	}
}

// sampleRecords covers every key and bin type with edge values.
func sampleRecords() []Record {
	big := bytes.Repeat([]byte("0123456789abcdef\n\x00 \\"), (1<<20)/20+1)[:1<<20]
	nasty := []byte("a\x00b\nc d\\e\r\n")
	digest := [20]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}
	var recs []Record
	keys := []Key{
		{},
		{Type: KeyInt, Int: math.MinInt64},
		{Type: KeyInt, Int: math.MaxInt64},
		{Type: KeyFloat, Float: math.Copysign(0, -1)},
		{Type: KeyFloat, Float: math.Float64frombits(nanBits)},
		{Type: KeyString, Bytes: nasty},
		{Type: KeyString, Bytes: []byte{}},
		{Type: KeyString64, Bytes: nasty},
		{Type: KeyBytes, Bytes: nasty},
		{Type: KeyBytes, Compact: true, Bytes: nasty},
		{Type: KeyBytes, Compact: true, Bytes: []byte{}},
	}
	for i, k := range keys {
		recs = append(recs, Record{Key: k, Namespace: []byte("test"), Digest: digest,
			Set: []byte("set with space\\"), HasSet: i%2 == 0, Generation: uint16(i), VoidTime: uint32(i * 1000),
			Bins: []Bin{{Name: []byte("i"), Type: BinInt, Int: int64(i)}}})
	}
	bins := []Bin{
		{Name: []byte("nil"), Type: BinNil},
		{Name: []byte("t"), Type: BinBool, Bool: true},
		{Name: []byte("f"), Type: BinBool},
		{Name: []byte("imin"), Type: BinInt, Int: math.MinInt64},
		{Name: []byte("imax"), Type: BinInt, Int: math.MaxInt64},
		{Name: []byte("fneg0"), Type: BinFloat, Float: math.Copysign(0, -1)},
		{Name: []byte("fnan"), Type: BinFloat, Float: math.Float64frombits(nanBits)},
		{Name: []byte("fnnan"), Type: BinFloat, Float: math.Float64frombits(negNanBits)},
		{Name: []byte("finf"), Type: BinFloat, Float: math.Inf(1)},
		{Name: []byte("fminf"), Type: BinFloat, Float: math.Inf(-1)},
		{Name: []byte("ftiny"), Type: BinFloat, Float: 5e-324},
		{Name: []byte("fmax"), Type: BinFloat, Float: math.MaxFloat64},
		{Name: []byte("s"), Type: BinString, Bytes: nasty},
		{Name: []byte("s empty"), Type: BinString, Bytes: []byte{}},
		{Name: []byte("big\nname\\"), Type: BinString, Bytes: big},
		{Name: []byte("x"), Type: BinString64, Bytes: nasty},
		{Name: []byte("g"), Type: BinGeoJSON, Bytes: []byte(`{"type":"Point","coordinates":[1,2]}`)},
		{Name: []byte("bigblob"), Type: BinBlob, Bytes: big},
		{Name: []byte("bigraw"), Type: BinBlob, Compact: true, Bytes: big},
		{Name: []byte("m"), Type: BinMap, Bytes: []byte{0x81, 0xa2, 3, 'a', 1}},
		{Name: []byte("l"), Type: BinList, Compact: true, Bytes: []byte{0x92, 1, 2}},
	}
	for _, t := range []BinType{BinJava, BinCSharp, BinPython, BinRuby, BinPHP, BinErlang, BinHLL} {
		bins = append(bins, Bin{Name: []byte{byte(t)}, Type: t, Bytes: nasty},
			Bin{Name: []byte{byte(t), '!'}, Type: t, Compact: true, Bytes: nasty},
			Bin{Name: []byte{byte(t), '0'}, Type: t, Bytes: []byte{}})
	}
	recs = append(recs, Record{Namespace: []byte("test"), Digest: digest, Generation: 65535,
		VoidTime: math.MaxUint32, Bins: bins})
	recs = append(recs, Record{Namespace: []byte("test"), Digest: digest})
	return recs
}

func TestWriteReadRecords(t *testing.T) {
	recs := sampleRecords()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.WriteHeader(&Header{Meta: []Meta{NamespaceMeta("test"), FirstFileMeta()}}); err != nil {
		t.Fatal(err)
	}
	ix := Index{Namespace: "test", Set: "s et", Name: "n", Type: IndexMapKeys,
		Paths: []IndexPath{{"a b", IndexString}}, Context: "kiKiA2E=", HasContext: true}
	if err := w.WriteIndex(&ix); err != nil {
		t.Fatal(err)
	}
	u := UDF{Type: 'L', Name: "x y.lua", Content: []byte("-- a\n+ n test\n")}
	if err := w.WriteUDF(&u); err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if err := w.WriteRecord(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if int64(buf.Len()) != w.Offset() {
		t.Fatalf("offset %d, len %d", w.Offset(), buf.Len())
	}
	out := buf.Bytes()
	if !bytes.HasPrefix(out, []byte("Version 3.1\n# namespace test\n# first-file\n* i test s\\ et n K 1 a\\ b S kiKiA2E=\n* u L x\\ y.lua 14 -- a\n+ n test\n\n")) {
		t.Fatalf("%q", out[:120])
	}
	d, err := decodeAll(bytes.NewReader(out), ReaderOptions{MaxVersion: Version31})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.entries) != len(recs)+2 {
		t.Fatalf("%d entries", len(d.entries))
	}
	got := *d.entries[0].Index
	got.Offset, got.Line = 0, 0
	if !reflect.DeepEqual(got, ix) {
		t.Fatalf("index %+v", got)
	}
	if g := d.entries[1].UDF; g.Name != u.Name || !bytes.Equal(g.Content, u.Content) {
		t.Fatalf("udf %+v", g)
	}
	for i := range recs {
		r := d.entries[i+2].Record
		want := recs[i]
		want.HasSet = want.HasSet || len(want.Set) > 0
		if !r.Equal(&want) {
			t.Fatalf("record %d differs:\n%+v\n%+v", i, r, &want)
		}
	}
	// Re-encoding reproduces the bytes.
	if again := encodeAll(t, d); !bytes.Equal(again, out) {
		t.Fatal("re-encoding differs")
	}
}

func TestWriterErrors(t *testing.T) {
	w := NewWriter(io.Discard)
	if err := w.WriteRecord(&Record{}); err == nil {
		t.Fatal("record before header")
	}
	if err := w.WriteHeader(&Header{Version: Version30}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteRecord(&Record{Namespace: []byte("t"), Bins: []Bin{{Name: []byte("a b"), Type: BinInt}}}); err == nil {
		t.Fatal("3.0 bin name with space")
	}
	if err := w.WriteUDF(&UDF{Name: "a"}); err == nil {
		t.Fatal("3.0 UDF")
	}
	if err := w.WriteRecord(&Record{Namespace: []byte("t"), Bins: []Bin{{Name: []byte("a"), Type: 'Q'}}}); err == nil {
		t.Fatal("bad bin type")
	}
	if err := w.WriteHeader(&Header{}); err == nil {
		t.Fatal("second header")
	}
	// A failed record leaves nothing behind.
	var buf bytes.Buffer
	w = NewWriter(&buf)
	_ = w.WriteHeader(&Header{})
	_ = w.WriteRecord(&Record{Namespace: []byte("t"), Bins: []Bin{{Name: []byte("a"), Type: BinLDT}}})
	_ = w.Flush()
	if buf.String() != "Version 3.1\n" {
		t.Fatalf("%q", buf.String())
	}
	// Write errors are sticky.
	boom := errors.New("boom")
	w = NewWriter(failWriter{boom})
	_ = w.WriteHeader(&Header{})
	if err := w.Flush(); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if err := w.WriteRecord(&Record{}); !errors.Is(err, boom) {
		t.Fatal(err)
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

func TestV30Writer(t *testing.T) {
	in := "Version 3.0\n# namespace test\n+ n test\n+ d AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n+ s a b\\c\n+ g 1\n+ t 0\n+ b 1\n- S back\\slash 1 x\n"
	d, err := decodeAll(strings.NewReader(in), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r := d.entries[0].Record; string(r.Set) != `a b\c` || string(r.Bins[0].Name) != `back\slash` {
		t.Fatalf("%+v", r)
	}
	if out := encodeAll(t, d); string(out) != in {
		t.Fatalf("%q", out)
	}
}

func TestExpressionIndex(t *testing.T) {
	ix := Index{Namespace: "test", Set: "kitchen", Name: "kit_exp", Type: IndexDefault,
		Paths: []IndexPath{{"", IndexNumeric}}, Expression: "kxSTUQKhaQE="}
	if RequiredVersion([]Index{ix}) != Version32 || RequiredVersion(nil) != Version31 {
		t.Fatal("RequiredVersion")
	}
	w := NewWriter(io.Discard)
	_ = w.WriteHeader(&Header{})
	if err := w.WriteIndex(&ix); err == nil {
		t.Fatal("expression index in a 3.1 file")
	}
	for _, withCtx := range []bool{false, true} {
		ix := ix
		if withCtx {
			ix.Context, ix.HasContext = "kiKiA2E=", true
		}
		var buf bytes.Buffer
		w = NewWriter(&buf)
		if err := w.WriteHeader(&Header{Version: Version32, Meta: []Meta{NamespaceMeta("test")}}); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteIndex(&ix); err != nil {
			t.Fatal(err)
		}
		_ = w.Flush()
		want := "Version 3.2\n# namespace test\n* e test kitchen kit_exp N 1  N kxSTUQKhaQE=\n"
		if withCtx {
			want = "Version 3.2\n# namespace test\n* e test kitchen kit_exp N 1  N kiKiA2E= kxSTUQKhaQE=\n"
		}
		if buf.String() != want {
			t.Fatalf("%q", buf.String())
		}
		d, err := decodeAll(bytes.NewReader(buf.Bytes()), ReaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := *d.entries[0].Index
		got.Offset, got.Line = 0, 0
		if !reflect.DeepEqual(got, ix) {
			t.Fatalf("%+v", got)
		}
		if _, err := decodeAll(bytes.NewReader(buf.Bytes()), ReaderOptions{MaxVersion: Version31}); err == nil {
			t.Fatal("legacy strictness accepted 3.2")
		}
	}
}

func TestMultiPathIndex(t *testing.T) {
	in := okHead + "* i test s n N 2 a N  b S\n"
	d, err := decodeAll(strings.NewReader(in), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ps := d.entries[0].Index.Paths; len(ps) != 2 || ps[1] != (IndexPath{"b", IndexString}) {
		t.Fatalf("%+v", ps)
	}
	if out := encodeAll(t, d); string(out) != in {
		t.Fatalf("%q", out)
	}
}

func TestWire(t *testing.T) {
	be := func(u uint64) []byte { return binary.BigEndian.AppendUint64(nil, u) }
	cases := []struct {
		p    ParticleType
		data []byte
		want Bin
	}{
		{ParticleInteger, be(uint64(1<<63) | 5), Bin{Type: BinInt, Int: math.MinInt64 + 5}},
		{ParticleFloat, be(math.Float64bits(-1.5)), Bin{Type: BinFloat, Float: -1.5}},
		{ParticleBool, []byte{1}, Bin{Type: BinBool, Bool: true}},
		{ParticleString, []byte("s"), Bin{Type: BinString, Bytes: []byte("s")}},
		{ParticleBlob, []byte{0}, Bin{Type: BinBlob, Compact: true, Bytes: []byte{0}}},
		{ParticleHLL, []byte{0}, Bin{Type: BinHLL, Compact: true, Bytes: []byte{0}}},
		{ParticleMap, []byte{0x80}, Bin{Type: BinMap, Compact: true, Bytes: []byte{0x80}}},
		{ParticleList, []byte{0x90}, Bin{Type: BinList, Compact: true, Bytes: []byte{0x90}}},
		{ParticleJava, []byte{7}, Bin{Type: BinJava, Compact: true, Bytes: []byte{7}}},
		{ParticleGeoJSON, append([]byte{0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8}, "{}"...), Bin{Type: BinGeoJSON, Bytes: []byte("{}")}},
		{ParticleNil, nil, Bin{Type: BinNil}},
	}
	for _, c := range cases {
		var b Bin
		if err := b.SetWire([]byte("n"), c.p, c.data, true); err != nil {
			t.Fatal(err)
		}
		c.want.Name = []byte("n")
		if !reflect.DeepEqual(b, c.want) {
			t.Fatalf("particle %d: %+v, want %+v", c.p, b, c.want)
		}
		p, wire := b.AppendWire(nil)
		if p != c.p {
			t.Fatalf("particle %d -> %d", c.p, p)
		}
		var b2 Bin
		if err := b2.SetWire([]byte("n"), p, wire, true); err != nil || !reflect.DeepEqual(b2, b) {
			t.Fatalf("particle %d wire round trip %+v %v", c.p, b2, err)
		}
		if bt, ok := BinTypeOf(c.p); !ok || bt != b.Type {
			t.Fatalf("BinTypeOf(%d)", c.p)
		}
	}
	var b Bin
	if err := b.SetWire([]byte("n"), 99, nil, false); err == nil {
		t.Fatal("unknown particle")
	}
	if err := b.SetWire([]byte("n"), ParticleGeoJSON, []byte{0, 0, 9}, false); err == nil {
		t.Fatal("bad geo header")
	}
	nums := map[BinType]ParticleType{BinInt: 1, BinFloat: 2, BinString: 3, BinBlob: 4, BinJava: 7, BinCSharp: 8,
		BinPython: 9, BinRuby: 10, BinPHP: 11, BinErlang: 12, BinBool: 17, BinHLL: 18, BinMap: 19, BinList: 20, BinGeoJSON: 23}
	for bt, p := range nums {
		if got, ok := bt.Particle(); !ok || got != p {
			t.Fatalf("%c -> %d", bt, got)
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	corpus, n := genCorpus(200, 2000)
	recs := decodeCorpus(t, corpus)
	w := NewWriter(io.Discard)
	_ = w.WriteHeader(&Header{})
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		if err := w.WriteRecord(recs[i%len(recs)]); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if allocs != 0 {
		t.Fatalf("WriteRecord: %v allocs per record", allocs)
	}
	// Reading: after warm-up, Next allocates nothing.
	src := bytes.NewReader(corpus)
	r := NewReader(src, ReaderOptions{})
	for k := 0; k < n/2; k++ {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	}
	allocs = testing.AllocsPerRun(n/4, func() {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Next: %v allocs per record", allocs)
	}
}
