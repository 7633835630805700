package exp

import (
	"encoding/binary"
	"encoding/hex"
	"math"
	"strings"
	"testing"
	"time"
)

type rec struct {
	digest [20]byte
	set    string
	key    []byte
	bins   map[string][2][]byte // name -> {ptype, data}
	void   uint32
	lut    int64
}

func (r *rec) DigestBytes() *[20]byte { return &r.digest }
func (r *rec) SetName() string        { return r.set }
func (r *rec) StoredKey() (byte, []byte, bool) {
	if r.key == nil {
		return 0, nil, false
	}
	return r.key[0], r.key[1:], true
}
func (r *rec) BinValue(n string) (byte, []byte, bool) {
	b, ok := r.bins[n]
	if !ok {
		return 0, nil, false
	}
	return b[0][0], b[1], true
}
func (r *rec) Void() uint32    { return r.void }
func (r *rec) LUTNanos() int64 { return r.lut }
func (r *rec) StoredSize() int { return 100 }

func be(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// Vectors are the client's wire encodings (wire-protocol.md §16).
func TestVectors(t *testing.T) {
	now := time.Unix(1700000000, 0)
	r := &rec{set: "demo", key: append([]byte{1}, be(5)...), lut: now.Add(-2 * time.Second).UnixNano(),
		bins: map[string][2][]byte{
			"s": {{3}, []byte("x")}, "a": {{1}, be(301)}, "b": {{4}, {1, 2}},
			"t": {{17}, {1}}, "f": {{2}, be(math.Float64bits(1.5))},
		}}
	r.digest[16] = 3 // digest modulo 3 == 0
	cases := []struct {
		hex  string
		want bool
	}{
		{"93 01 93 51 03 a1 73 a2 03 78", true},
		{"93 01 91 46 a5 03 64 65 6d 6f", true},
		{"93 01 92 40 03 00", true},
		{"93 02 92 52 a1 61 00", true},
		{"92 12 91 47", false},
		{"93 03 93 51 02 a1 61 cd 01 2c", true},
		{"93 01 92 50 02 05", true},
		{"93 01 93 51 06 a1 62 a3 04 01 02", true},
		{"93 01 93 51 01 a1 74 c3", true},
		{"93 01 93 51 07 a1 66 cb 3f f8 00 00 00 00 00 00", true},
		{"94 07 02 a4 5e 61 2e 2a 93 51 03 a1 73", false},
		{"93 04 91 43 cd 03 e8", true},
		{"93 11 91 48 93 01 91 45 ff", true},
		{"93 10 93 04 91 42 01 93 05 91 42 02", false},
		{"93 01 93 51 02 a1 7a 01", false}, // missing bin: unknown, not a match
	}
	for _, c := range cases {
		b, _ := hex.DecodeString(strings.ReplaceAll(c.hex, " ", ""))
		e, err := Compile(b)
		if err != nil {
			t.Fatalf("%s: %v", c.hex, err)
		}
		if got := e.Match(r, now); got != c.want {
			t.Errorf("%s: got %v want %v", c.hex, got, c.want)
		}
	}
	// list size via CALL is not implemented: compile error, never a silent match
	b, _ := hex.DecodeString("93037f02009110935104a16c00")
	if _, err := Compile(b); err == nil {
		t.Fatal("CALL compiled")
	}
	for _, bad := range []string{"", "93", "93 01", "c1", "93 01 91 46"} {
		b, _ := hex.DecodeString(strings.ReplaceAll(bad, " ", ""))
		if _, err := Compile(b); err == nil {
			t.Errorf("%q compiled", bad)
		}
	}
}

func FuzzCompile(f *testing.F) {
	f.Add([]byte{0x93, 0x01, 0x91, 0x46, 0xa5, 0x03, 0x64, 0x65, 0x6d, 0x6f})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Compile(b)
		if err == nil {
			e.Match(&rec{}, time.Now())
		}
	})
}
