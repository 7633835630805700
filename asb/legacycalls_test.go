package asb

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"testing"
)

// TestLegacyCalls checks the pieces of records of every key and bin kind
// against the text WriteRecord writes: they cover it exactly, and each data
// piece is the value's payload, preceded by a piece ending in "<size> " and
// followed by the newline.
func TestLegacyCalls(t *testing.T) {
	ns := []byte("te st")
	recs := []*Record{
		{Key: Key{Type: KeyInt, Int: -42}, Namespace: ns, Set: []byte("s\\et"), HasSet: true, Generation: 3, VoidTime: 7,
			Bins: []Bin{{Name: []byte("n"), Type: BinNil}, {Name: []byte("b"), Type: BinBool, Bool: true},
				{Name: []byte("i i"), Type: BinInt, Int: 12345}, {Name: []byte("d"), Type: BinFloat, Float: 0.1}}},
		{Key: Key{Type: KeyString, Bytes: []byte("key\nwith newline")}, Namespace: ns,
			Bins: []Bin{{Name: []byte("s"), Type: BinString, Bytes: []byte("hello world")},
				{Name: []byte("g"), Type: BinGeoJSON, Bytes: []byte(`{"type":"Point"}`)},
				{Name: []byte("e"), Type: BinString, Bytes: []byte{}}}},
		{Key: Key{Type: KeyBytes, Bytes: []byte{0, 1, 2, 3, 4}}, Namespace: ns,
			Bins: []Bin{{Name: []byte("blob"), Type: BinBlob, Bytes: []byte{9, 8, 7, 6}},
				{Name: []byte("raw"), Type: BinBlob, Compact: true, Bytes: []byte("a\nb")},
				{Name: []byte("list"), Type: BinList, Bytes: []byte{0x92, 1, 2}}}},
		{Key: Key{Type: KeyBytes, Compact: true, Bytes: []byte("k\x00")}, Namespace: ns},
		{Key: Key{Type: KeyFloat, Float: 1.5}, Namespace: ns, Bins: []Bin{{Name: []byte("x"), Type: BinString64, Bytes: []byte("b64")}}},
		{Namespace: ns, Bins: []Bin{{Name: []byte("only"), Type: BinInt, Int: 1}}},
	}
	for ri, r := range recs {
		var out bytes.Buffer
		w := NewWriter(&out)
		if err := w.WriteHeader(&Header{Meta: []Meta{NamespaceMeta("te st")}}); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		start := out.Len()
		if err := w.WriteRecord(r); err != nil {
			t.Fatalf("record %d: %v", ri, err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		text := out.Bytes()[start:]
		calls := AppendLegacyCalls(nil, r)
		if got := calls[len(calls)-1].End; got != len(text) {
			t.Fatalf("record %d: pieces end at %d, text is %d bytes:\n%s", ri, got, len(text), text)
		}
		prev, datas := 0, 0
		for i, c := range calls {
			if c.End < prev {
				t.Fatalf("record %d: piece %d ends at %d before %d", ri, i, c.End, prev)
			}
			if !c.Data {
				prev = c.End
				continue
			}
			datas++
			var payload []byte
			compact := false
			if c.Bin == LegacyKey {
				payload, compact = r.Key.Bytes, r.Key.Compact || r.Key.Type == KeyString
			} else {
				b := r.Bins[c.Bin]
				payload, compact = b.Bytes, b.Compact || b.Type == BinString || b.Type == BinGeoJSON
			}
			want := payload
			if !compact {
				want = []byte(base64.StdEncoding.EncodeToString(payload))
			}
			if got := text[prev:c.End]; !bytes.Equal(got, want) {
				t.Errorf("record %d piece %d: data %q, want %q", ri, i, got, want)
			}
			if h := string(text[calls[i-1].End-len(strconv.Itoa(len(want)))-1 : prev]); h != strconv.Itoa(len(want))+" " {
				t.Errorf("record %d piece %d: header ends with %q", ri, i, h)
			}
			if i+1 >= len(calls) || calls[i+1].End != c.End+1 || text[c.End] != '\n' {
				t.Errorf("record %d piece %d: not followed by a newline piece", ri, i)
			}
			prev = c.End
		}
		wantDatas := 0
		if r.Key.Type == KeyString || r.Key.Type == KeyBytes {
			wantDatas++
		}
		for _, b := range r.Bins {
			switch b.Type {
			case BinNil, BinBool, BinInt, BinFloat:
			default:
				wantDatas++
			}
		}
		if datas != wantDatas {
			t.Errorf("record %d: %d data pieces, want %d", ri, datas, wantDatas)
		}
	}
}
