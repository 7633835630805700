package asb

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzReader decodes arbitrary input. It must never panic; errors must be
// SyntaxErrors; a file that decodes must re-encode to a file that decodes
// to the same entries and re-encodes to the same bytes; every record must
// be readable again at its offset; CDT bins must decode or fail cleanly.
func FuzzReader(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(goldenDir, "*", "*", "*.asb"))
	more, _ := filepath.Glob(filepath.Join(goldenDir, "*", "*", "backup", "*.asb"))
	for _, p := range append(seeds, more...) {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.HasPrefix(b, []byte("Version ")) {
			continue // compressed or encrypted
		}
		// Large seeds make minimization slow: cut them at an entry
		// boundary near 4 KiB.
		if len(b) > 4<<10 {
			d, _ := decodeAll(bytes.NewReader(b), ReaderOptions{})
			cut := 0
			for _, e := range d.entries {
				if e.Offset <= 4<<10 {
					cut = int(e.Offset)
				}
			}
			if cut == 0 {
				continue
			}
			b = b[:cut]
		}
		f.Add(b)
	}
	f.Add([]byte(okHead + okRec))
	f.Add([]byte("Version 3.2\n* e test s n N 1 b N kiKiA2E= kxSTUQKhaQE=\n"))
	f.Add([]byte("Version 3.0\n+ n t\n+ d AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n+ g 1\n+ t 0\n+ b 1\n- S a\\b 1 x\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		d, err := decodeAll(bytes.NewReader(in), ReaderOptions{BufferSize: 64})
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("non-syntax error %T: %v", err, err)
			}
			if se.Line < 1 || se.Column < 1 || se.Offset < 0 || se.Offset > int64(len(in)) {
				t.Fatalf("bad position in %v (offset %d)", err, se.Offset)
			}
			// A defect in the body carries the legacy chain, which ends
			// where the legacy reader stopped.
			if d != nil && se.Offset >= d.hdr.Size && !strings.Contains(se.Expected, "per entry") {
				if len(se.Legacy) == 0 || se.LegacyLine < 1 || se.Reached < se.Offset-1 || se.Reached > int64(len(in)) {
					t.Fatalf("legacy chain %q, line %d, reached %d for %v", se.Legacy, se.LegacyLine, se.Reached, err)
				}
			}
			return
		}
		for _, e := range d.entries {
			if e.Kind != EntryRecord {
				continue
			}
			for i := range e.Record.Bins {
				_, _ = e.Record.Bins[i].Value()
			}
			r, err := ReadRecordAt(bytes.NewReader(in), e.Offset, e.Line, d.hdr.Version, ReaderOptions{})
			if err != nil || !r.Equal(e.Record) {
				t.Fatalf("ReadRecordAt(%d): %v", e.Offset, err)
			}
		}
		out := encodeAll(t, d)
		d2, err := decodeAll(bytes.NewReader(out), ReaderOptions{})
		if err != nil {
			t.Fatalf("re-encoded file does not decode: %v\n%q", err, out)
		}
		if len(d2.entries) != len(d.entries) || d2.hdr.Version != d.hdr.Version ||
			!reflect.DeepEqual(d2.hdr.Meta, d.hdr.Meta) {
			t.Fatalf("re-decoded header/entry count differ")
		}
		for i := range d.entries {
			a, b := d.entries[i], d2.entries[i]
			if a.Kind != b.Kind {
				t.Fatalf("entry %d kind", i)
			}
			switch a.Kind {
			case EntryRecord:
				if !a.Record.Equal(b.Record) {
					t.Fatalf("entry %d record differs:\n%+v\n%+v", i, a.Record, b.Record)
				}
			case EntryIndex:
				x, y := *a.Index, *b.Index
				x.Offset, x.Line, y.Offset, y.Line = 0, 0, 0, 0
				if !reflect.DeepEqual(x, y) {
					t.Fatalf("entry %d index differs:\n%+v\n%+v", i, x, y)
				}
			case EntryUDF:
				if a.UDF.Name != b.UDF.Name || !bytes.Equal(a.UDF.Content, b.UDF.Content) {
					t.Fatalf("entry %d UDF differs", i)
				}
			}
		}
		if out2 := encodeAll(t, d2); !bytes.Equal(out, out2) {
			t.Fatalf("re-encoding is not stable")
		}
	})
}

// FuzzMsgpack checks that the CDT decoder never panics.
func FuzzMsgpack(f *testing.F) {
	f.Add([]byte{0x93, 0xc7, 0x00, 0x01, 0x01, 0xa2, 0x03, 'a'})
	f.Add([]byte{0x82, 0xc7, 0x00, 0x03, 0xc0, 0x01, 0xd4, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, in []byte) {
		_, _ = DecodeMsgpack(in)
	})
}
