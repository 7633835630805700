package asb

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const goldenDir = "../test/golden"

// plainFiles lists every uncompressed, unencrypted golden .asb file that
// the legacy tools accept, relative to goldenDir.
func plainFiles(t testing.TB) []string {
	t.Helper()
	var out []string
	cases, err := filepath.Glob(filepath.Join(goldenDir, "legacy-4.5.8", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		out = append(out, caseFiles(t, c)...)
	}
	acc, _ := filepath.Glob(filepath.Join(goldenDir, "handmade", "accept-*", "backup.asb"))
	out = append(out, acc...)
	out = append(out, filepath.Join(goldenDir, "handmade", "reject-01-bad-version", "backup.asb"))
	if len(out) < 18 {
		t.Fatalf("found only %d golden files", len(out))
	}
	return out
}

// caseFiles returns the plain .asb files of one legacy case directory.
func caseFiles(t testing.TB, dir string) []string {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil
	}
	if p := filepath.Join(dir, "plain.asb"); exists(p) {
		return []string{p}
	}
	if p := filepath.Join(dir, "backup.asb"); exists(p) {
		return []string{p}
	}
	fs, _ := filepath.Glob(filepath.Join(dir, "backup", "*.asb"))
	sort.Strings(fs)
	return fs
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

type decoded struct {
	hdr     Header
	entries []Entry // Record/Index/UDF pointers are owned copies
}

func decodeFile(t testing.TB, path string, opts ReaderOptions) (*decoded, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	opts.FileName = path
	return decodeAll(f, opts)
}

func decodeAll(src io.Reader, opts ReaderOptions) (*decoded, error) {
	r := NewReader(src, opts)
	h, err := r.Header()
	if err != nil {
		return nil, err
	}
	d := &decoded{hdr: *h}
	d.hdr.Meta = append([]Meta(nil), h.Meta...)
	for {
		e, err := r.Next()
		if err == io.EOF {
			return d, nil
		}
		if err != nil {
			return d, err
		}
		switch e.Kind {
		case EntryRecord:
			e.Record = e.Record.Clone()
		case EntryIndex:
			ix := *e.Index
			ix.Paths = append([]IndexPath(nil), ix.Paths...)
			e.Index = &ix
		case EntryUDF:
			u := *e.UDF
			u.Content = append([]byte(nil), u.Content...)
			e.UDF = &u
		}
		d.entries = append(d.entries, e)
	}
}

func encodeAll(t testing.TB, d *decoded) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.WriteHeader(&d.hdr); err != nil {
		t.Fatal(err)
	}
	for _, e := range d.entries {
		var err error
		switch e.Kind {
		case EntryRecord:
			err = w.WriteRecord(e.Record)
		case EntryIndex:
			err = w.WriteIndex(e.Index)
		case EntryUDF:
			err = w.WriteUDF(e.UDF)
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := w.Offset(); got < e.Offset {
			t.Fatalf("writer offset %d behind entry offset %d", got, e.Offset)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestGoldenRoundTrip decodes every valid golden file and re-encodes it:
// the bytes must be identical, and every entry offset must point at the
// entry's first line.
func TestGoldenRoundTrip(t *testing.T) {
	for _, path := range plainFiles(t) {
		t.Run(strings.TrimPrefix(path, goldenDir+"/"), func(t *testing.T) {
			in, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			d, err := decodeFile(t, path, ReaderOptions{})
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			out := encodeAll(t, d)
			if !bytes.Equal(in, out) {
				i := 0
				for i < len(in) && i < len(out) && in[i] == out[i] {
					i++
				}
				t.Fatalf("re-encoded bytes differ at offset %d (len in %d, out %d):\nin:  %q\nout: %q",
					i, len(in), len(out), snippet(in, i), snippet(out, i))
			}
			for _, e := range d.entries {
				if e.Offset < d.hdr.Size || e.Offset >= int64(len(in)) {
					t.Fatalf("entry offset %d out of range", e.Offset)
				}
				prefix := "+ "
				if e.Kind != EntryRecord {
					prefix = "* "
				}
				if !bytes.HasPrefix(in[e.Offset:], []byte(prefix)) {
					t.Fatalf("entry at offset %d does not start with %q", e.Offset, prefix)
				}
				if e.Offset > 0 && in[e.Offset-1] != '\n' {
					t.Fatalf("entry at offset %d not at a line start", e.Offset)
				}
				if got := 1 + bytes.Count(in[:e.Offset], []byte{'\n'}); got != e.Line {
					t.Fatalf("entry at offset %d: line %d, want %d", e.Offset, e.Line, got)
				}
			}
		})
	}
}

func snippet(b []byte, i int) []byte {
	s := max(0, i-40)
	return b[s:min(len(b), i+40)]
}

// TestGoldenRecordsAt re-reads every record of every golden file through
// ReadRecordAt at its reported offset.
func TestGoldenRecordsAt(t *testing.T) {
	for _, path := range plainFiles(t) {
		d, err := decodeFile(t, path, ReaderOptions{})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range d.entries {
			if e.Kind != EntryRecord {
				if _, err := ReadRecordAt(f, e.Offset, e.Line, d.hdr.Version, ReaderOptions{FileName: path}); err == nil {
					t.Fatalf("%s: ReadRecordAt on a %s entry succeeded", path, e.Kind)
				}
				continue
			}
			rec, err := ReadRecordAt(f, e.Offset, e.Line, d.hdr.Version, ReaderOptions{FileName: path})
			if err != nil {
				t.Fatalf("%s: ReadRecordAt(%d): %v", path, e.Offset, err)
			}
			if !rec.Equal(e.Record) || rec.Offset != e.Offset || rec.Line != e.Line {
				t.Fatalf("%s: ReadRecordAt(%d) returned a different record", path, e.Offset)
			}
		}
		f.Close()
	}
}

// expected.jsonl model ------------------------------------------------------

type jsonRecord struct {
	Digest   string                     `json:"digest"`
	Set      *string                    `json:"set"`
	Key      map[string]json.RawMessage `json:"key"`
	VoidTime *uint32                    `json:"void_time"`
	Bins     map[string]json.RawMessage `json:"bins"`
}

type jsonIndex struct {
	Sindex, Set, Bin, Type, Indextype, Context, Exp string
}

type jsonUDF struct {
	UDF    string `json:"udf"`
	Size   int    `json:"size"`
	Sha256 string `json:"sha256"`
}

type expectation struct {
	records []jsonRecord
	indexes []jsonIndex
	udfs    []jsonUDF
}

func loadExpected(t *testing.T, path string) *expectation {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ex := &expectation{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(line, &probe); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		switch {
		case probe["sindex"] != nil:
			var ix jsonIndex
			mustUnmarshal(t, line, &ix)
			ex.indexes = append(ex.indexes, ix)
		case probe["udf"] != nil:
			var u jsonUDF
			mustUnmarshal(t, line, &u)
			ex.udfs = append(ex.udfs, u)
		case probe["digest"] != nil:
			var r jsonRecord
			mustUnmarshal(t, line, &r)
			ex.records = append(ex.records, r)
		default:
			t.Fatalf("%s: unknown line %s", path, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ex
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
}

// typedJSON renders a decoded value in the corpus' typed JSON notation
// ({"int":1}, {"str":"a"}, {"list":[...],"flags":1}, ...), as a generic
// tree comparable with a json.Decoder (UseNumber) result. Floats become
// their bit pattern so that formatting does not matter; map pairs are
// sorted by key so that the order of unordered maps does not matter.
func typedJSON(v any) any {
	switch x := v.(type) {
	case nil:
		return map[string]any{"nil": nil}
	case bool:
		return map[string]any{"bool": x}
	case int64:
		return map[string]any{"int": json.Number(strconv.FormatInt(x, 10))}
	case uint64:
		return map[string]any{"int": json.Number(strconv.FormatUint(x, 10))}
	case float64:
		return map[string]any{"float": fmt.Sprintf("bits:%016x", math.Float64bits(x))}
	case string:
		return map[string]any{"str": x}
	case []byte:
		return map[string]any{"bytes": base64.StdEncoding.EncodeToString(x)}
	case GeoJSON:
		return map[string]any{"geo": string(x)}
	case TypedBytes:
		names := map[ParticleType]string{ParticleJava: "java", ParticleCSharp: "csharp",
			ParticlePython: "python", ParticleRuby: "ruby", ParticlePHP: "php",
			ParticleErlang: "erlang", ParticleHLL: "hll"}
		return map[string]any{names[x.Type]: base64.StdEncoding.EncodeToString(x.Data)}
	case *List:
		items := make([]any, len(x.Items))
		for i, it := range x.Items {
			items[i] = typedJSON(it)
		}
		m := map[string]any{"list": items}
		if x.Flags != 0 {
			m["flags"] = json.Number(strconv.Itoa(int(x.Flags)))
		}
		return m
	case *Map:
		pairs := make([]any, len(x.Pairs))
		for i, p := range x.Pairs {
			pairs[i] = []any{typedJSON(p.Key), typedJSON(p.Value)}
		}
		sortPairs(pairs)
		m := map[string]any{"map": pairs}
		if x.Flags != 0 {
			m["flags"] = json.Number(strconv.Itoa(int(x.Flags)))
		}
		return m
	}
	return fmt.Sprintf("unexpected %T", v)
}

// normalizeExpected turns floats of a decoded expected.jsonl value into bit
// patterns and sorts map pairs, like typedJSON.
func normalizeExpected(t *testing.T, v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range x {
			switch k {
			case "float":
				out[k] = fmt.Sprintf("bits:%016x", parseExpectedFloat(t, val.(string)))
			case "map":
				pairs := val.([]any)
				np := make([]any, len(pairs))
				for i, p := range pairs {
					np[i] = normalizeExpected(t, p)
				}
				sortPairs(np)
				out[k] = np
			default:
				out[k] = normalizeExpected(t, val)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeExpected(t, e)
		}
		return out
	}
	return v
}

func parseExpectedFloat(t *testing.T, s string) uint64 {
	if strings.HasPrefix(s, "NaN(0x") {
		u, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(s, "NaN(0x"), ")"), 16, 64)
		if err != nil {
			t.Fatalf("bad NaN %q", s)
		}
		return u
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("bad float %q", s)
	}
	return math.Float64bits(f)
}

func sortPairs(pairs []any) {
	sort.SliceStable(pairs, func(i, j int) bool {
		a, _ := json.Marshal(pairs[i].([]any)[0])
		b, _ := json.Marshal(pairs[j].([]any)[0])
		return string(a) < string(b)
	})
}

func canon(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func keyJSON(k *Key) any {
	if k.Type == KeyNone {
		return nil
	}
	return typedJSON(k.Value())
}

// TestGoldenExpected checks every legacy case against the data seeded into
// the server: each record's set, key, digest, void time and every bin with
// type and value, plus index definitions and UDF modules.
func TestGoldenExpected(t *testing.T) {
	cases, _ := filepath.Glob(filepath.Join(goldenDir, "legacy-4.5.8", "*"))
	n := 0
	for _, dir := range cases {
		files := caseFiles(t, dir)
		if len(files) == 0 {
			continue
		}
		n++
		t.Run(filepath.Base(dir), func(t *testing.T) {
			expPath := filepath.Join(dir, "expected-selected.jsonl")
			if !exists(expPath) {
				expPath = filepath.Join(dir, "expected.jsonl")
			}
			ex := loadExpected(t, expPath)
			if len(ex.indexes)+len(ex.udfs) == 0 && !strings.Contains(dir, "no-records") {
				// dump -no-bins lists records only; the globals are those
				// of the whole namespace.
				full := loadExpected(t, filepath.Join(dir, "expected.jsonl"))
				ex.indexes, ex.udfs = full.indexes, full.udfs
			}
			var recs []*Record
			var idxs []*Index
			var udfs []*UDF
			for _, f := range files {
				d, err := decodeFile(t, f, ReaderOptions{MaxVersion: Version31})
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				if ns, ok := d.hdr.Namespace(); !ok || ns != "test" {
					t.Fatalf("%s: namespace meta %q %v", f, ns, ok)
				}
				for _, e := range d.entries {
					switch e.Kind {
					case EntryRecord:
						recs = append(recs, e.Record)
					case EntryIndex:
						idxs = append(idxs, e.Index)
					case EntryUDF:
						udfs = append(udfs, e.UDF)
					}
				}
			}
			checkRecords(t, recs, ex.records)
			checkIndexes(t, idxs, ex.indexes)
			checkUDFs(t, udfs, ex.udfs)
		})
	}
	if n != 10 {
		t.Fatalf("checked %d legacy cases, want 10", n)
	}
}

func checkRecords(t *testing.T, recs []*Record, want []jsonRecord) {
	t.Helper()
	if len(recs) != len(want) {
		t.Fatalf("%d records in backup, %d expected", len(recs), len(want))
	}
	byDigest := map[string]*Record{}
	for _, r := range recs {
		d := base64.StdEncoding.EncodeToString(r.Digest[:])
		if byDigest[d] != nil {
			t.Fatalf("duplicate digest %s", d)
		}
		byDigest[d] = r
		if string(r.Namespace) != "test" {
			t.Fatalf("record %s: namespace %q", d, r.Namespace)
		}
	}
	for _, w := range want {
		r := byDigest[w.Digest]
		if r == nil {
			t.Fatalf("record %s missing from backup", w.Digest)
		}
		if w.Set == nil {
			if r.HasSet || len(r.Set) != 0 {
				t.Fatalf("record %s: set %q, want none", w.Digest, r.Set)
			}
		} else if !r.HasSet || string(r.Set) != *w.Set {
			t.Fatalf("record %s: set %q, want %q", w.Digest, r.Set, *w.Set)
		}
		var wantKey any
		if w.Key != nil {
			raw, _ := json.Marshal(w.Key)
			var k any
			mustUnmarshal(t, raw, &k)
			wantKey = normalizeExpected(t, k)
		}
		if got := canon(keyJSON(&r.Key)); got != canon(wantKey) {
			t.Fatalf("record %s: key %s, want %s", w.Digest, got, canon(wantKey))
		}
		if w.VoidTime == nil || r.VoidTime != *w.VoidTime {
			t.Fatalf("record %s: void time %d, want %v", w.Digest, r.VoidTime, w.VoidTime)
		}
		if r.Generation == 0 {
			t.Fatalf("record %s: generation 0", w.Digest)
		}
		if len(r.Bins) != len(w.Bins) {
			t.Fatalf("record %s: %d bins, want %d", w.Digest, len(r.Bins), len(w.Bins))
		}
		for i := range r.Bins {
			b := &r.Bins[i]
			raw, ok := w.Bins[string(b.Name)]
			if !ok {
				t.Fatalf("record %s: unexpected bin %q", w.Digest, b.Name)
			}
			var wv any
			mustUnmarshal(t, raw, &wv)
			v, err := b.Value()
			if err != nil {
				t.Fatalf("record %s bin %q: %v", w.Digest, b.Name, err)
			}
			got, exp := canon(typedJSON(v)), canon(normalizeExpected(t, wv))
			if got != exp {
				t.Fatalf("record %s bin %q (%c): got %.300s\nwant %.300s", w.Digest, b.Name, b.Type, got, exp)
			}
		}
	}
}

func checkIndexes(t *testing.T, got []*Index, want []jsonIndex) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d indexes in backup, %d expected", len(got), len(want))
	}
	types := map[string]IndexDataType{"numeric": IndexNumeric, "string": IndexString, "geo2dsphere": IndexGeo, "blob": IndexBlob}
	kinds := map[string]IndexType{"default": IndexDefault, "list": IndexList, "mapkeys": IndexMapKeys, "mapvalues": IndexMapValues}
	byName := map[string]*Index{}
	for _, ix := range got {
		byName[ix.Name] = ix
	}
	for _, w := range want {
		ix := byName[w.Sindex]
		if ix == nil {
			t.Fatalf("index %s missing", w.Sindex)
		}
		// Legacy 4.5.8 writes a missing set as "null" and loses expressions
		// (bin "null"); see MANIFEST.md.
		set, bin := w.Set, w.Bin
		if set == "" {
			set = "null"
		}
		if w.Exp != "" {
			bin = "null"
		}
		if ix.Namespace != "test" || ix.Set != set || ix.Type != kinds[w.Indextype] || len(ix.Paths) != 1 ||
			ix.Paths[0].Bin != bin || ix.Paths[0].Type != types[w.Type] || ix.Context != w.Context ||
			ix.HasContext != (w.Context != "") || ix.Expression != "" {
			t.Fatalf("index %s: got %+v, want %+v", w.Sindex, *ix, w)
		}
	}
}

func checkUDFs(t *testing.T, got []*UDF, want []jsonUDF) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d UDFs in backup, %d expected", len(got), len(want))
	}
	byName := map[string]*UDF{}
	for _, u := range got {
		byName[u.Name] = u
	}
	for _, w := range want {
		u := byName[w.UDF]
		if u == nil {
			t.Fatalf("UDF %s missing", w.UDF)
		}
		sum := sha256.Sum256(u.Content)
		if u.Type != 'L' || len(u.Content) != w.Size || hex.EncodeToString(sum[:]) != w.Sha256 {
			t.Fatalf("UDF %s: size %d sha %x, want %d %s", w.UDF, len(u.Content), sum, w.Size, w.Sha256)
		}
	}
}

// TestHandmadeRejects checks that every invalid handmade file is rejected
// with an error naming the file and the legacy tool's line.
func TestHandmadeRejects(t *testing.T) {
	cases := []struct {
		dir  string
		line int
		col  int
		opts ReaderOptions
		want string
	}{
		{"reject-01-bad-version", 1, 9, ReaderOptions{MaxVersion: Version31}, `backup file version: expected 3.0 to 3.1, found "3.2"`},
		{"reject-02-length-overrun", 11, 1, ReaderOptions{}, "string bin value: expected 100 bytes of data, found end of file"},
		{"reject-03-bad-bin-label", 10, 3, ReaderOptions{}, `bin type: expected one of "N I D S X G B J C P R H E Y M L Z", found "Q"`},
		{"reject-04-crlf", 1, 1, ReaderOptions{}, `version line: expected "Version 3.1" and a line feed, found "Version 3.1\r"`},
	}
	dirs, _ := filepath.Glob(filepath.Join(goldenDir, "handmade", "reject-*"))
	if len(dirs) != len(cases) {
		t.Fatalf("%d reject cases on disk, %d in test", len(dirs), len(cases))
	}
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			path := filepath.Join(goldenDir, "handmade", c.dir, "backup.asb")
			d, err := decodeFile(t, path, c.opts)
			if err == nil {
				t.Fatalf("accepted")
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v is not a *SyntaxError", err, err)
			}
			if se.Line != c.line || se.Column != c.col {
				t.Fatalf("error at line %d col %d, want %d:%d: %v", se.Line, se.Column, c.line, c.col, err)
			}
			msg := err.Error()
			wantPrefix := fmt.Sprintf("%s: line %d, col %d: ", path, c.line, c.col)
			if !strings.HasPrefix(msg, wantPrefix) || !strings.Contains(msg, c.want) {
				t.Fatalf("message %q, want prefix %q and %q", msg, wantPrefix, c.want)
			}
			if d != nil {
				for _, e := range d.entries {
					if e.Kind == EntryRecord {
						t.Fatalf("a record was returned before the error")
					}
				}
			}
			if strings.Contains(c.dir, "overrun") && !errors.Is(err, ErrUnexpectedEOF) {
				t.Fatalf("truncation error does not match ErrUnexpectedEOF")
			}
		})
	}
	// Version 3.2 is accepted by default.
	d, err := decodeFile(t, filepath.Join(goldenDir, "handmade", "reject-01-bad-version", "backup.asb"), ReaderOptions{})
	if err != nil || d.hdr.Version != Version32 || len(d.entries) != 0 {
		t.Fatalf("version 3.2 by default: %v %+v", err, d)
	}
}
