package asb

import (
	"errors"
	"math"
	"reflect"
	"runtime"
	"testing"
)

func TestDecodeMsgpack(t *testing.T) {
	cases := []struct {
		in   []byte
		want any
	}{
		{[]byte{0xc0}, nil},
		{[]byte{0xc2}, false},
		{[]byte{0xc3}, true},
		{[]byte{0x7f}, int64(127)},
		{[]byte{0xff}, int64(-1)},
		{[]byte{0xcc, 0xff}, int64(255)},
		{[]byte{0xcd, 0x01, 0x00}, int64(256)},
		{[]byte{0xce, 0, 1, 0, 0}, int64(65536)},
		{[]byte{0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, uint64(math.MaxUint64)},
		{[]byte{0xd0, 0x80}, int64(-128)},
		{[]byte{0xd1, 0x80, 0x00}, int64(-32768)},
		{[]byte{0xd2, 0x80, 0, 0, 0}, int64(math.MinInt32)},
		{[]byte{0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0}, int64(math.MinInt64)},
		{[]byte{0xca, 0x3f, 0xc0, 0, 0}, float64(1.5)},
		{[]byte{0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0}, float64(1.5)},
		{[]byte{0xa3, 3, 'a', 'b'}, "ab"},
		{[]byte{0xa0}, ""},
		{[]byte{0xd9, 2, 3, 'x'}, "x"},
		{[]byte{0xda, 0, 2, 3, 'x'}, "x"},
		{[]byte{0xc4, 3, 4, 0, 1}, []byte{0, 1}},
		{[]byte{0xc5, 0, 1, 4}, []byte{}},
		{[]byte{0xa3, 23, '{', '}'}, GeoJSON("{}")},
		{[]byte{0xa2, 7, 9}, TypedBytes{Type: ParticleJava, Data: []byte{9}}},
		{[]byte{0xd4, 0xff, 0x00}, Wildcard{}},
		{[]byte{0xd4, 0xff, 0x01}, Infinity{}},
		{[]byte{0xd5, 0x05, 1, 2}, Ext{Type: 5, Data: []byte{1, 2}}},
		{[]byte{0x92, 0x01, 0xa2, 3, 'a'}, &List{Items: []any{int64(1), "a"}}},
		{[]byte{0x93, 0xc7, 0x00, 0x01, 0x02, 0x01}, &List{Flags: 1, Items: []any{int64(2), int64(1)}}},
		{[]byte{0x90}, &List{Items: []any{}}},
		{[]byte{0x82, 0xc7, 0x00, 0x03, 0xc0, 0xa2, 3, 'k', 0x91, 0xc0}, &Map{Flags: 3, Pairs: []MapPair{{"k", &List{Items: []any{nil}}}}}},
		{[]byte{0x81, 0x01, 0xc3}, &Map{Pairs: []MapPair{{int64(1), true}}}},
		{[]byte{0xdc, 0, 1, 0x05}, &List{Items: []any{int64(5)}}},
		{[]byte{0xde, 0, 1, 0x05, 0x06}, &Map{Pairs: []MapPair{{int64(5), int64(6)}}}},
	}
	for _, c := range cases {
		got, err := DecodeMsgpack(c.in)
		if err != nil {
			t.Fatalf("% x: %v", c.in, err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Fatalf("% x: %#v, want %#v", c.in, got, c.want)
		}
	}
	bad := [][]byte{
		{},
		{0xc1},
		{0x92, 0x01},
		{0xa5, 3},
		{0x01, 0x02},
		{0xdd, 0xff, 0xff, 0xff, 0xff},
		{0xdf, 0x7f, 0xff, 0xff, 0xff, 0x01},
		{0xcb, 0x00},
		{0xc9, 0xff, 0xff, 0xff, 0xff, 0x01},
	}
	for _, in := range bad {
		if _, err := DecodeMsgpack(in); !errors.Is(err, ErrMsgpack) {
			t.Fatalf("% x: %v", in, err)
		}
	}
	deep := make([]byte, 0, 2000)
	for i := 0; i < 1000; i++ {
		deep = append(deep, 0x91)
	}
	deep = append(deep, 0xc0)
	if _, err := DecodeMsgpack(deep); !errors.Is(err, ErrMsgpack) {
		t.Fatalf("deep nesting: %v", err)
	}
}

// TestMsgpackClaimedCounts pins the fix for nested containers that claim
// far more items than the data holds: decoding must fail without
// allocating for the claimed counts.
func TestMsgpackClaimedCounts(t *testing.T) {
	var in []byte
	for i := 0; i < 400; i++ {
		in = append(in, 0xdd, 0x00, 0x00, 0x80, 0x00) // list of 32768 items
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := DecodeMsgpack(in); !errors.Is(err, ErrMsgpack) {
		t.Fatalf("%v", err)
	}
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > 4<<20 {
		t.Fatalf("allocated %d bytes for a %d-byte input", d, len(in))
	}
}
