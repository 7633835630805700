package e2e

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"asbtools/asb"
	"asbtools/asdsim"
	"asbtools/asdsim/asbload"
	"asbtools/infocmd"
	"asbtools/stream"
)

var (
	bkTSRE   = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{1,2}:\d{2}:\d{2} (?:GMT|UTC) \[(INF|ERR|VER)\] \[[\s\d]+\] `)
	bkRateRE = regexp.MustCompile(`\(~\d+ KiB/s, ~\d+ rec/s, `)
	bkETARE  = regexp.MustCompile(`^(<TS> \[INF\] \[TID\] )~[0-9dhms>]+ remaining$`)
)

// normalizeBackupLog normalizes asbackup stderr like the golden transcripts.
func normalizeBackupLog(s string) []string {
	var out []string
	if s == "" {
		return nil
	}
	for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		l = bkTSRE.ReplaceAllString(l, "<TS> [$1] [TID] ")
		l = bkRateRE.ReplaceAllString(l, "(~<N> KiB/s, ~<N> rec/s, ")
		l = bkETARE.ReplaceAllString(l, "$1~<ETA> remaining")
		out = append(out, l)
	}
	return out
}

// caseDir returns a golden legacy case directory.
func caseDir(t testing.TB, name string) string {
	return filepath.Join(repoRoot(t), "test", "golden", "legacy-4.5.8", name)
}

// caseFiles returns the backup files of a golden case (backup.asb or the
// files of backup/).
func caseFiles(t testing.TB, dir string) []string {
	if _, err := os.Stat(filepath.Join(dir, "plain.asb")); err == nil {
		return []string{filepath.Join(dir, "plain.asb")}
	}
	if _, err := os.Stat(filepath.Join(dir, "backup.asb")); err == nil {
		return []string{filepath.Join(dir, "backup.asb")}
	}
	m, _ := filepath.Glob(filepath.Join(dir, "backup", "*.asb"))
	sort.Strings(m)
	return m
}

// seedRecords stores records in the server keeping their exact particle
// bytes, digests, keys, generations and void times.
func seedRecords(t testing.TB, srv *asdsim.Server, ns string, recs []*asb.Record) {
	t.Helper()
	out := make([]asdsim.Record, 0, len(recs))
	for _, r := range recs {
		out = append(out, asbload.Record(r))
	}
	if err := srv.PutMany(ns, out); err != nil {
		t.Fatal(err)
	}
}

// kitchenIndexes returns the index definitions of the real 8.1 node the
// kitchen dataset ran on (from server-8.1/info-kitchen.txt).
func kitchenIndexes(t testing.TB) []infocmd.SIndex {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "test", "golden", "server-8.1", "info-kitchen.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		cmd, val, ok := strings.Cut(l, "\t")
		if !ok || cmd != "sindex-list:ns=test;b64=true" {
			continue
		}
		s := unquoteGo(t, val)
		list, err := infocmd.ParseSIndexList(s)
		if err != nil {
			t.Fatal(err)
		}
		return list
	}
	t.Fatal("sindex-list not found in info-kitchen.txt")
	return nil
}

func unquoteGo(t testing.TB, s string) string {
	var out strings.Builder
	s = strings.TrimSuffix(strings.TrimPrefix(s, `"`), `"`)
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n':
				out.WriteByte('\n')
			case 't':
				out.WriteByte('\t')
			default:
				out.WriteByte(s[i])
			}
			continue
		}
		out.WriteByte(s[i])
	}
	return out.String()
}

// seedMeta creates the given indexes in namespace test and the UDFs.
func seedMeta(t testing.TB, srv *asdsim.Server, indexes []infocmd.SIndex, udfs []asb.UDF) {
	t.Helper()
	for _, ix := range indexes {
		if err := srv.CreateSIndex(asbload.SIndex("test", &ix.Index)); err != nil {
			t.Fatalf("creating index %s: %v", ix.Name, err)
		}
	}
	for _, u := range udfs {
		srv.PutUDF(u.Name, u.Content)
	}
}

// fileBlocks splits a decoded backup file into its header, its global lines
// (indexes, UDFs) and its record blocks, each as the exact bytes of the file.
func fileBlocks(t testing.TB, data []byte, name string) (header string, globals, records []string) {
	t.Helper()
	r := asb.NewReader(bytes.NewReader(data), asb.ReaderOptions{FileName: name})
	h, err := r.Header()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	header = string(data[:h.Size])
	type ent struct {
		off  int64
		kind asb.EntryKind
	}
	var ents []ent
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ents = append(ents, ent{e.Offset, e.Kind})
	}
	for i, e := range ents {
		end := int64(len(data))
		if i+1 < len(ents) {
			end = ents[i+1].off
		}
		b := string(data[e.off:end])
		if e.kind == asb.EntryRecord {
			records = append(records, b)
		} else {
			globals = append(globals, b)
		}
	}
	return
}

// decodeFile returns a backup file's text (decoding zstd/AES if opts != nil).
func decodeFile(t testing.TB, path string, opts *stream.Options) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if opts == nil {
		return data
	}
	sr, err := stream.NewReader(bytes.NewReader(data), *opts)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer sr.Close()
	out, err := io.ReadAll(sr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

// seedCanon stores the records of an expected.jsonl file (the data the
// legacy backup was taken from) in the server, converted by the
// independent canonical encoder of canon_test.go. The legacy backup text
// supplies what expected.jsonl does not keep: generations, the stored bin
// order, and the exact msgpack bytes of lists and maps (entry order of
// unordered maps, 0xcf or 0xd3 integers: whatever the seeding client sent),
// used only where they render to exactly the expected value.
func seedCanon(t testing.TB, srv *asdsim.Server, expectedPath string, legacyText [][]byte) {
	t.Helper()
	legacy := map[[20]byte]asdsim.Record{}
	for i, txt := range legacyText {
		tmp := filepath.Join(t.TempDir(), fmt.Sprintf("legacy%d.asb", i))
		if err := os.WriteFile(tmp, txt, 0o644); err != nil {
			t.Fatal(err)
		}
		recs, _, _ := backupRecords(t, tmp, nil)
		for _, r := range recs {
			legacy[r.Digest] = asbload.Record(r)
		}
	}
	exp := loadCanon(t, expectedPath)
	out := make([]asdsim.Record, 0, len(exp))
	for dg, e := range exp {
		gen := uint16(1)
		var order []string
		l, inLegacy := legacy[dg]
		if inLegacy {
			gen = l.Generation
			for _, b := range l.Bins {
				order = append(order, b.Name)
			}
		}
		rec, err := canonServerRecord(e, order, gen)
		if err != nil {
			t.Fatalf("%s: record %x: %v", expectedPath, dg, err)
		}
		if inLegacy {
			for i, b := range rec.Bins {
				lb, ok := l.Bin(b.Name)
				if !ok || (b.Type != asdsim.ParticleMap && b.Type != asdsim.ParticleList) {
					continue
				}
				v, err := renderParticle(lb.Type, lb.Data)
				if err != nil || canonText(canonSorted(v)) != canonText(e.Bins[b.Name]) {
					continue
				}
				if lb.Type == b.Type {
					rec.Bins[i].Data = append([]byte(nil), lb.Data...)
				}
			}
		}
		out = append(out, rec)
	}
	if err := srv.PutMany("test", out); err != nil {
		t.Fatal(err)
	}
}
