package index

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"asbtools/asb"
	"asbtools/stream"
)

func writeFile(t *testing.T, path string, recs []asb.Record) {
	t.Helper()
	var buf bytes.Buffer
	w := asb.NewWriter(&buf)
	w.WriteHeader(&asb.Header{Meta: []asb.Meta{asb.NamespaceMeta("ns")}})
	for i := range recs {
		if err := w.WriteRecord(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func rec(d byte, k asb.Key, gen uint16) asb.Record {
	return asb.Record{Namespace: []byte("ns"), Digest: [20]byte{d}, Key: k, Set: []byte("s"), HasSet: true, Generation: gen,
		Bins: []asb.Bin{{Name: []byte("v"), Type: asb.BinInt, Int: int64(d)}}}
}

func TestCollisionsAndDuplicates(t *testing.T) {
	dir := t.TempDir()
	digestName := "0300000000000000000000000000000000000000"
	writeFile(t, filepath.Join(dir, "a_00000.asb"), []asb.Record{
		rec(1, asb.Key{Type: asb.KeyInt, Int: 42}, 1),
		rec(2, asb.Key{Type: asb.KeyString, Bytes: []byte("42")}, 1),
		rec(3, asb.Key{}, 1),
		rec(4, asb.Key{Type: asb.KeyString, Bytes: []byte(digestName)}, 1),
		rec(5, asb.Key{Type: asb.KeyString, Bytes: []byte("dup")}, 1),
	})
	writeFile(t, filepath.Join(dir, "a_00001.asb"), []asb.Record{
		rec(5, asb.Key{Type: asb.KeyString, Bytes: []byte("dup")}, 2),
		rec(6, asb.Key{Type: asb.KeyString, Bytes: []byte("plain")}, 1),
	})
	tree, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	s := tree.Backups[0].Namespaces[0].Sets[0]
	var names []string
	for i := 0; i < s.Len(); i++ {
		names = append(names, s.FileName(i))
	}
	sort.Strings(names)
	want := []string{digestName + "%nokey", digestName + "%str", "42%int", "42%str", "dup", "plain"}
	if strings.Join(names, "|") != strings.Join(want, "|") {
		t.Fatalf("names %q, want %q", names, want)
	}
	i, ok := s.Lookup("dup")
	if !ok {
		t.Fatal("dup not found")
	}
	r, err := s.Record(i)
	if err != nil || r.Generation != 2 {
		t.Errorf("dup: generation %v (%v), want the later copy (2)", r, err)
	}
	for _, n := range want {
		i, ok := s.Lookup(n)
		if !ok {
			t.Errorf("Lookup(%q) failed", n)
			continue
		}
		js, err := s.JSON(i)
		if err != nil || int64(len(js)) != s.Info(i).JSONSize {
			t.Errorf("%s: JSON %d bytes (%v), index says %d", n, len(js), err, s.Info(i).JSONSize)
		}
		raw, err := s.Raw(i)
		if err != nil || !bytes.HasPrefix(raw, []byte("+ ")) || !bytes.HasSuffix(raw, []byte("\n")) {
			t.Errorf("%s: raw %q (%v)", n, raw, err)
		}
	}
	if _, ok := s.Lookup("nope"); ok {
		t.Error("Lookup of a missing name succeeded")
	}
}

// TestCompressedEncrypted indexes a zstd+AES file written by package stream:
// records are read back through the encrypted spill file.
func TestCompressedEncrypted(t *testing.T) {
	dir := t.TempDir()
	var text bytes.Buffer
	w := asb.NewWriter(&text)
	w.WriteHeader(&asb.Header{Meta: []asb.Meta{asb.NamespaceMeta("ns")}})
	for d := byte(1); d < 200; d++ {
		r := rec(d, asb.Key{Type: asb.KeyInt, Int: int64(d)}, 1)
		w.WriteRecord(&r)
	}
	w.Flush()
	key := stream.DeriveKey([]byte("material"), stream.AES256)
	f, _ := os.Create(filepath.Join(dir, "x.asb"))
	sw, err := stream.NewWriter(f, stream.Options{Compress: true, Cipher: stream.AES256, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	sw.Write(text.Bytes())
	sw.Close()
	f.Close()
	tree, err := Open(filepath.Join(dir, "x.asb"), Options{Cipher: stream.AES256, Key: key, TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	if tree.Records() != 199 || len(tree.Backups[0].Problems) != 0 {
		t.Fatalf("%d records, problems %v", tree.Records(), tree.Backups[0].Problems)
	}
	s := tree.Backups[0].Namespaces[0].Sets[0]
	i, ok := s.Lookup("150")
	if !ok {
		t.Fatal("record 150 missing")
	}
	r, err := s.Record(i)
	if err != nil || r.Bins[0].Int != 150 {
		t.Fatalf("record 150: %+v %v", r, err)
	}
	// Cut into small chunks, the encrypted spill file gives the same index.
	chunked, err := Open(filepath.Join(dir, "x.asb"), Options{Cipher: stream.AES256, Key: key, TempDir: dir, ChunkSize: 1000, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := strings.Join(snapshot(t, tree), "\n"), strings.Join(snapshot(t, chunked), "\n"); a != b {
		t.Errorf("chunked index differs:\n%s\nwant\n%s", b, a)
	}
	chunked.Close()
	// The spill file is unlinked: nothing is left in TempDir but the backup.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("temp dir holds %d entries, want only the backup", len(ents))
	}
	// A wrong key reads nothing and says so.
	if _, err := Open(filepath.Join(dir, "x.asb"), Options{Cipher: stream.AES256, Key: stream.DeriveKey([]byte("other"), stream.AES256)}); err == nil {
		t.Error("wrong key accepted")
	}
}

// snapshot lists everything the index holds about a tree, in order.
func snapshot(t *testing.T, tree *Tree) []string {
	t.Helper()
	var out []string
	// Line numbers, from each file's newline offsets (File.LineAt reads
	// the file from its start every time).
	newlines := map[*File][]int64{}
	lineAt := func(f *File, off int64) int {
		nl, ok := newlines[f]
		if !ok {
			data := make([]byte, f.Size)
			f.ReadAt(data, 0)
			for i, c := range data {
				if c == '\n' {
					nl = append(nl, int64(i))
				}
			}
			newlines[f] = nl
			if len(nl) > 0 && f.LineAt(nl[len(nl)-1]+1) != len(nl)+1 {
				t.Errorf("%s: LineAt disagrees with the newline count", f.Path)
			}
		}
		return sort.Search(len(nl), func(k int) bool { return nl[k] >= off }) + 1
	}
	for _, b := range tree.Backups {
		for _, p := range b.Problems {
			out = append(out, "problem "+p.String())
		}
		for _, ns := range b.Namespaces {
			for _, s := range ns.Sets {
				for i := 0; i < s.Len(); i++ {
					in := s.Info(i)
					out = append(out, fmt.Sprintf("%s/%s/%s %x %d %d %d", ns.DirName, s.DirName, s.FileName(i), in.Digest, in.Offset, lineAt(in.File, in.Offset), in.RawSize))
					if j, ok := s.Lookup(s.FileName(i)); !ok || j != i {
						t.Errorf("Lookup(%q) = %d, %v, want %d", s.FileName(i), j, ok, i)
					}
				}
			}
		}
	}
	return out
}

// TestChunkedParsing cuts a file into tiny chunks, some of them at lines
// that look like record starts but sit inside string values, and checks
// that the index is the same as with one sequential pass, line numbers and
// problems included.
func TestChunkedParsing(t *testing.T) {
	dir := t.TempDir()
	var recs []asb.Record
	for d := 0; d < 20000; d++ { // enough for several hash table regions
		r := rec(byte(d), asb.Key{Type: asb.KeyInt, Int: int64(d)}, 1)
		r.Digest[1], r.Digest[2] = byte(d>>8), 7
		if d%7 == 0 {
			// A string value holding fake record lines.
			r.Bins = append(r.Bins, asb.Bin{Name: []byte("s"), Type: asb.BinString,
				Bytes: []byte("x\n+ n ns\n+ d AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n+ k I 5\n+ n ns\n")})
		}
		if d%11 == 0 {
			r.Key = asb.Key{Type: asb.KeyString, Bytes: []byte(fmt.Sprintf("k\n+ n ns\n%d", d))}
		}
		recs = append(recs, r)
	}
	path := filepath.Join(dir, "a.asb")
	writeFile(t, path, recs)
	// Damage one record in the second half.
	data, _ := os.ReadFile(path)
	i := bytes.Index(data[len(data)*3/4:], []byte("\n- I v ")) + len(data)*3/4 + 3
	data[i] = 'Q'
	os.WriteFile(path, data, 0o644)

	seq, err := Open(path, Options{ChunkSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Close()
	want := snapshot(t, seq)
	// Resyncing may stop inside a string value holding fake record lines,
	// so the damage may cost more than one record.
	if seq.Records() < len(recs)-3 || seq.Records() == len(recs) || len(seq.Backups[0].Problems) == 0 {
		t.Fatalf("sequential: %d records, problems %v", seq.Records(), seq.Backups[0].Problems)
	}
	for _, size := range []int64{700, 4096, 50000} {
		reparsed := 0
		par, err := Open(path, Options{ChunkSize: size, Workers: 3, reparsed: &reparsed})
		if err != nil {
			t.Fatal(err)
		}
		got := snapshot(t, par)
		par.Close()
		if size == 700 && reparsed == 0 {
			t.Errorf("chunk size %d: no cut fell inside a string value; the test does not test the stitching", size)
		}
		t.Logf("chunk size %d: %d cuts were not record boundaries", size, reparsed)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			for k := range min(len(got), len(want)) {
				if got[k] != want[k] {
					t.Fatalf("chunk size %d: entry %d = %q, want %q", size, k, got[k], want[k])
				}
			}
			t.Fatalf("chunk size %d: %d entries, want %d", size, len(got), len(want))
		}
	}
}

// TestDigestsAndStreamOffsets checks, on a backup of many records in two
// sets over several files, that every record is found by digest, that
// Locate maps every record's first and last stream byte back to it, that
// Walk visits the records in order, and the summaries' counts.
func TestDigestsAndStreamOffsets(t *testing.T) {
	dir := t.TempDir()
	const perFile, files = 1500, 3
	n := 0
	for f := 0; f < files; f++ {
		var recs []asb.Record
		for i := 0; i < perFile; i++ {
			var r asb.Record
			r.Namespace = []byte("ns")
			r.Digest = [20]byte{byte(n), byte(n >> 8), byte(n >> 16), 0xaa}
			if n%3 == 0 {
				r.Set, r.HasSet = []byte("other"), true
			} else {
				r.Set, r.HasSet = []byte("s"), true
			}
			if n%2 == 0 {
				r.Key = asb.Key{Type: asb.KeyInt, Int: int64(n)}
			}
			if n%5 == 0 {
				r.VoidTime = 1
			}
			r.Bins = []asb.Bin{{Name: []byte("v"), Type: asb.BinInt, Int: int64(n)}, {Name: []byte("w"), Type: asb.BinString, Bytes: []byte(strings.Repeat("x", n%50))}}
			recs = append(recs, r)
			n++
		}
		writeFile(t, filepath.Join(dir, fmt.Sprintf("b_%05d.asb", f)), recs)
	}
	tree, err := Open(dir, Options{ChunkSize: 20 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	ns := tree.Backups[0].Namespaces[0]
	found := 0
	for k, s := range ns.Sets {
		var pos, rawPos int64
		next := 0
		s.Walk(0, func(i int, name []byte, in *Info) bool {
			if i != next || string(name) != s.FileName(i) || *in != s.Info(i) {
				t.Fatalf("Walk: record %d (%q %+v), want %d (%q %+v)", i, name, in, next, s.FileName(next), s.Info(next))
			}
			next++
			return true
		})
		if next != s.Len() {
			t.Errorf("Walk visited %d records of %d", next, s.Len())
		}
		for i := 0; i < s.Len(); i++ {
			in := s.Info(i)
			if sk, si, ok := ns.LookupDigest(&in.Digest); !ok || sk != k || si != i {
				t.Errorf("LookupDigest(%x) = %d %d %v, want %d %d", in.Digest, sk, si, ok, k, i)
			}
			found++
			for _, off := range []int64{pos, pos + in.JSONSize - 1} {
				if j, start := s.Locate(off, false); j != i || start != pos {
					t.Errorf("Locate(%d) = %d %d, want %d %d", off, j, start, i, pos)
				}
			}
			if j, start := s.Locate(rawPos+in.RawSize-1, true); j != i || start != rawPos {
				t.Errorf("Locate(raw %d) = %d %d, want %d %d", rawPos, j, start, i, rawPos)
			}
			pos, rawPos = pos+in.JSONSize, rawPos+in.RawSize
		}
		if pos != s.JSONTotal() || rawPos != s.RawTotal() {
			t.Errorf("totals %d %d, want %d %d", s.JSONTotal(), s.RawTotal(), pos, rawPos)
		}
		var sum Summary
		if err := json.Unmarshal(s.Stats, &sum); err != nil {
			t.Fatal(err)
		}
		if sum.Records != int64(s.Len()) || sum.Bins["v"]["int"] != int64(s.Len()) || sum.Bins["w"]["str"] != int64(s.Len()) ||
			sum.VoidTimes["never"]+sum.VoidTimes["expired"] != int64(s.Len()) || len(sum.Files) != files {
			t.Errorf("set %s summary: %s", s.Name, s.Stats)
		}
	}
	if found != n {
		t.Errorf("found %d records by digest, want %d", found, n)
	}
	var d [20]byte
	if _, _, ok := ns.LookupDigest(&d); ok {
		t.Errorf("LookupDigest found the zero digest")
	}
	var sum Summary
	if err := json.Unmarshal(ns.Stats, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Records != int64(n) || sum.KeyedRecords != int64((n+1)/2) || sum.VoidTimes["expired"] != int64((n+4)/5) || *sum.Sets != 2 {
		t.Errorf("namespace summary: %s", ns.Stats)
	}
}

// TestTableSize checks the sizing of the hash tables: a load of at most
// 0.8, and whole regions above one region.
func TestTableSize(t *testing.T) {
	for _, n := range []int{0, 1, 7, 1000, regionSlots / 2, regionSlots, 1_000_000, 10_000_000} {
		size := tableSize(n, 0)
		if float64(n) > 0.8*float64(size) || (size > regionSlots && size%regionSlots != 0) || (size <= regionSlots && size&(size-1) != 0) {
			t.Errorf("tableSize(%d) = %d", n, size)
		}
	}
}
