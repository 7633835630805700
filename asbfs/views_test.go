package asbfs_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"asbtools/asb"
	"asbtools/asdsim"
	"asbtools/asdsim/asbload"
)

// setDirs returns the set directories of namespace directory ns (the
// records of a set are listed in index order, the order of the set's
// streams).
func setDirs(t *testing.T, ns string) map[string][]string {
	t.Helper()
	ents, err := os.ReadDir(ns)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, e := range ents {
		if !e.IsDir() || (strings.HasPrefix(e.Name(), "%") && e.Name() != "%noset" && !isEscape(e.Name())) {
			continue
		}
		d, err := os.Open(filepath.Join(ns, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		names, err := d.Readdirnames(-1) // directory order, not sorted
		d.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = names
	}
	return out
}

// isEscape reports whether a name starting with % starts with an escape
// (%XX), i.e. is a real set name.
func isEscape(name string) bool {
	return len(name) >= 3 && strings.ContainsRune("0123456789ABCDEF", rune(name[1])) && strings.ContainsRune("0123456789ABCDEF", rune(name[2]))
}

// TestViews mounts golden backups and checks the whole-set streams
// (%jsonl), the digest lookups (%digest), the .asb views (%raw record and
// set files) and the summaries (%stats) against the per-record files and
// the golden corpus' expected records.
func TestViews(t *testing.T) {
	needFUSE(t)
	for _, c := range goldenCases(t) {
		switch c.name {
		case "01-kitchen-file", "03-kitchen-dir-parallel", "06-kitchen-zstd-aes256-env", "07-large-dir", "10-kitchen-no-records":
		default:
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(goldenDir, c.name)
			exp := loadExpected(t, dir)
			args := append(append([]string{"--no-config-file"}, c.args...), filepath.Join(dir, c.path))
			mnt := mount(t, c.env, args...)
			ns := filepath.Join(mnt, "test")
			if len(exp.records) == 0 {
				if _, err := os.Stat(filepath.Join(ns, "%jsonl")); err == nil {
					if names := strings.Fields(string(run(t, "ls", filepath.Join(ns, "%jsonl")))); len(names) != 0 {
						t.Errorf("%%jsonl of a backup without records holds %q", names)
					}
				}
				return
			}
			sets := setDirs(t, ns)
			checkJSONL(t, ns, sets, exp)
			checkDigests(t, mnt, sets, exp)
			checkRawSets(t, mnt, sets)
			checkStats(t, ns, sets, exp)
		})
	}
}

func checkJSONL(t *testing.T, ns string, sets map[string][]string, exp *expected) {
	_, haveJQ := exec.LookPath("jq")
	var streams []string
	ents, err := os.ReadDir(filepath.Join(ns, "%jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		streams = append(streams, e.Name())
	}
	var want []string
	for s := range sets {
		want = append(want, s+".jsonl")
	}
	sort.Strings(want)
	sort.Strings(streams)
	if !reflect.DeepEqual(streams, want) {
		t.Errorf("%%jsonl holds %q, want %q", streams, want)
	}
	rng := rand.New(rand.NewSource(1))
	for set, names := range sets {
		path := filepath.Join(ns, "%jsonl", set+".jsonl")
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		// Random reads first, while nothing of the file is cached: the
		// stream must be seekable.
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		type piece struct {
			off  int64
			data []byte
		}
		var pieces []piece
		for k := 0; k < 40 && st.Size() > 0; k++ {
			off := rng.Int63n(st.Size())
			buf := make([]byte, 1+rng.Intn(6000))
			n, err := f.ReadAt(buf, off)
			if err != nil && !errors.Is(err, io.EOF) {
				f.Close()
				t.Fatalf("%s: pread at %d: %v", path, off, err)
			}
			pieces = append(pieces, piece{off, buf[:n]})
		}
		f.Close()
		whole, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(whole)) != st.Size() {
			t.Errorf("%s: stat size %d, read %d bytes", path, st.Size(), len(whole))
		}
		for _, p := range pieces {
			if end := min(int64(len(whole)), p.off+int64(len(p.data))); !bytes.Equal(p.data, whole[p.off:end]) {
				t.Errorf("%s: %d bytes read at %d differ from the sequential read", path, len(p.data), p.off)
			}
		}
		lines := bytes.SplitAfter(whole, []byte("\n"))
		if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
			lines = lines[:len(lines)-1]
		}
		if len(lines) != len(names) {
			t.Fatalf("%s: %d lines, the set directory lists %d records", path, len(lines), len(names))
		}
		for k, name := range names {
			rec, err := os.ReadFile(filepath.Join(ns, set, name))
			if err != nil {
				t.Fatal(err)
			}
			// Line k is record k's file with its inner line breaks as spaces.
			want := append(bytes.ReplaceAll(rec[:len(rec)-1], []byte("\n"), []byte(" ")), '\n')
			if !bytes.Equal(lines[k], want) {
				t.Errorf("%s line %d:\n got %q\nwant %q", path, k+1, lines[k], want)
				continue
			}
			var v struct{ Digest string }
			if err := json.Unmarshal(lines[k], &v); err != nil || exp.records[v.Digest] == nil {
				t.Errorf("%s line %d: digest %q (%v) is not an expected record", path, k+1, v.Digest, err)
			}
		}
		if haveJQ == nil {
			// jq over the stream equals jq over the record files.
			got := run(t, "jq", "-c", ".", path)
			var want []byte
			for k := 0; k < len(names); k += 200 {
				var args []string
				for _, n := range names[k:min(k+200, len(names))] {
					args = append(args, filepath.Join(ns, set, n))
				}
				want = append(want, run(t, "jq", append([]string{"-c", "."}, args...)...)...)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("jq -c . %s differs from jq -c . over the record files", path)
			}
		}
	}
}

func checkDigests(t *testing.T, mnt string, sets map[string][]string, exp *expected) {
	ns := filepath.Join(mnt, "test")
	rawNS := filepath.Join(mnt, "%raw", "test")
	if names := strings.Fields(string(run(t, "ls", "-A", filepath.Join(ns, "%digest")))); len(names) != 0 {
		t.Errorf("%%digest lists %q, want nothing", names)
	}
	keyed, keyless := 0, 0
	for set, names := range sets {
		for _, name := range names {
			file := filepath.Join(ns, set, name)
			content, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var v struct {
				Digest string
				Key    json.RawMessage
			}
			if err := json.Unmarshal(content, &v); err != nil {
				t.Fatal(err)
			}
			d, _ := base64.StdEncoding.DecodeString(v.Digest)
			if string(v.Key) == "null" {
				keyless++
			} else {
				keyed++
			}
			var ino uint64
			if st, err := os.Stat(file); err == nil {
				ino = st.Sys().(*syscall.Stat_t).Ino
			}
			for _, form := range []string{hex.EncodeToString(d), strings.ToUpper(hex.EncodeToString(d)),
				base64.RawURLEncoding.EncodeToString(d), base64.URLEncoding.EncodeToString(d)} {
				p := filepath.Join(ns, "%digest", form)
				got, err := os.ReadFile(p)
				if err != nil || !bytes.Equal(got, content) {
					t.Errorf("%s: %v, content differs from %s", p, err, file)
					continue
				}
				if st, err := os.Stat(p); err != nil || st.Sys().(*syscall.Stat_t).Ino != ino {
					t.Errorf("%s: not the inode of %s", p, file)
				}
			}
			rawWant, err := os.ReadFile(filepath.Join(rawNS, set, name))
			if err != nil {
				t.Fatal(err)
			}
			if got, err := os.ReadFile(filepath.Join(rawNS, "%digest", hex.EncodeToString(d))); err != nil || !bytes.Equal(got, rawWant) {
				t.Errorf("%%raw/test/%%digest/%x: %v, differs from %%raw/test/%s/%s", d, err, set, name)
			}
		}
	}
	wantKeyed := 0
	for _, r := range exp.records {
		if string(r.Key) != "null" && len(r.Key) > 0 {
			wantKeyed++
		}
	}
	if keyed != wantKeyed || keyless != len(exp.records)-wantKeyed {
		t.Errorf("looked up %d keyed and %d keyless records, want %d and %d", keyed, keyless, wantKeyed, len(exp.records)-wantKeyed)
	}
	for _, bad := range []string{strings.Repeat("0", 40), "not-a-digest", strings.Repeat("A", 27), strings.Repeat("g", 40)} {
		if _, err := os.Stat(filepath.Join(ns, "%digest", bad)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%%digest/%s: %v, want ENOENT", bad, err)
		}
	}
}

func checkRawSets(t *testing.T, mnt string, sets map[string][]string) {
	rawNS := filepath.Join(mnt, "%raw", "test")
	for set, names := range sets {
		path := filepath.Join(rawNS, "%asb", set+".asb")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		hdr, recs := parseAsb(t, data)
		if n, _ := hdr.Namespace(); n != "test" || len(recs) != len(names) {
			t.Errorf("%s: namespace %q, %d records, want test and %d", path, n, len(recs), len(names))
			continue
		}
		// The set file is the header and every record file's body.
		want := data[:hdr.Size]
		for _, name := range names {
			rec, err := os.ReadFile(filepath.Join(rawNS, set, name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(rec, data[:hdr.Size]) {
				t.Fatalf("%s/%s does not start with the set file's header", set, name)
			}
			want = append(want, rec[hdr.Size:]...)
		}
		if !bytes.Equal(data, want) {
			t.Errorf("%s is not the header and the records of %%raw/test/%s", path, set)
		}
		if st, err := os.Stat(path); err != nil || st.Size() != int64(len(data)) {
			t.Errorf("%s: stat %v, %v; read %d bytes", path, st, err, len(data))
		}
	}
}

type summary struct {
	Namespace         string
	Set               *string
	Sets              *int
	Records           int64
	KeyedRecords      int64                       `json:"keyed_records"`
	JSONBytes         int64                       `json:"json_bytes"`
	RawBytes          int64                       `json:"raw_bytes"`
	DuplicatesDropped int64                       `json:"duplicates_dropped"`
	Bins              map[string]map[string]int64 `json:"bins"`
	VoidTimes         map[string]int64            `json:"void_times"`
	Files             []struct {
		Name     string
		Size     int64
		TextSize int64 `json:"text_size"`
		Records  int64
	}
}

// expectedSummary counts what a summary must say from expected records.
func expectedSummary(t *testing.T, recs []*expRecord) (keyed, never int64, bins map[string]map[string]int64) {
	bins = map[string]map[string]int64{}
	for _, r := range recs {
		if string(r.Key) != "null" && len(r.Key) > 0 {
			keyed++
		}
		if r.VoidTime == 0 {
			never++
		}
		var bm map[string]map[string]json.RawMessage
		if err := json.Unmarshal(r.Bins, &bm); err != nil {
			t.Fatal(err)
		}
		for name, v := range bm {
			typ := "?"
			for k := range v {
				if k != "flags" && k != "error" {
					typ = k
				}
			}
			switch typ {
			case "str64":
				typ = "str"
			case "msgpack":
				typ = "?" // a list or map that does not decode
			}
			if bins[name] == nil {
				bins[name] = map[string]int64{}
			}
			bins[name][typ]++
		}
	}
	return keyed, never, bins
}

// sameBinCounts compares summary bin counts with expected ones ("?" types
// only count towards the bin's total).
func sameBinCounts(got, want map[string]map[string]int64) bool {
	if len(got) != len(want) {
		return false
	}
	for name, w := range want {
		g := got[name]
		var gt, wt int64
		for typ, n := range w {
			wt += n
			if typ != "?" && g[typ] != n {
				return false
			}
		}
		for _, n := range g {
			gt += n
		}
		if gt != wt {
			return false
		}
	}
	return true
}

func checkStats(t *testing.T, ns string, sets map[string][]string, exp *expected) {
	var all summary
	if err := json.Unmarshal(run(t, "cat", filepath.Join(ns, "%stats.json")), &all); err != nil {
		t.Fatal(err)
	}
	var recs []*expRecord
	bySet := map[string][]*expRecord{}
	for _, r := range exp.records {
		recs = append(recs, r)
		s := "%noset"
		if r.Set != nil {
			s = escapeName([]byte(*r.Set))
		}
		bySet[s] = append(bySet[s], r)
	}
	keyed, never, bins := expectedSummary(t, recs)
	if all.Namespace != "test" || all.Set != nil || all.Sets == nil || *all.Sets != len(sets) || all.Records != int64(len(recs)) ||
		all.KeyedRecords != keyed || all.VoidTimes["never"] != never || all.DuplicatesDropped != 0 {
		t.Errorf("%%stats.json: %+v; want %d sets, %d records, %d keyed, %d never expiring", all, len(sets), len(recs), keyed, never)
	}
	if !sameBinCounts(all.Bins, bins) {
		t.Errorf("%%stats.json bins:\n got %v\nwant %v", all.Bins, bins)
	}
	var files, fileRecs int64
	for _, f := range all.Files {
		files++
		fileRecs += f.Records
		if f.Size <= 0 || f.TextSize <= 0 {
			t.Errorf("%%stats.json: file %+v", f)
		}
	}
	if fileRecs != all.Records || files == 0 {
		t.Errorf("%%stats.json: files hold %d records, want %d", fileRecs, all.Records)
	}
	var jsonTotal, rawTotal, sum int64
	for set, names := range sets {
		var s summary
		if err := json.Unmarshal(run(t, "cat", filepath.Join(ns, "%stats", set+".json")), &s); err != nil {
			t.Fatal(err)
		}
		keyed, never, bins := expectedSummary(t, bySet[set])
		if s.Records != int64(len(names)) || s.Records != int64(len(bySet[set])) || s.KeyedRecords != keyed || s.VoidTimes["never"] != never {
			t.Errorf("%%stats/%s.json: %+v; want %d records, %d keyed, %d never expiring", set, s, len(names), keyed, never)
		}
		if (set == "%noset") != (s.Set == nil) {
			t.Errorf("%%stats/%s.json: set %v", set, s.Set)
		}
		if !sameBinCounts(s.Bins, bins) {
			t.Errorf("%%stats/%s.json bins:\n got %v\nwant %v", set, s.Bins, bins)
		}
		var buckets int64
		for _, n := range s.VoidTimes {
			buckets += n
		}
		if buckets != s.Records {
			t.Errorf("%%stats/%s.json: void time buckets hold %d records, want %d", set, buckets, s.Records)
		}
		// Byte counts are those of the streams.
		st, err := os.Stat(filepath.Join(ns, "%jsonl", set+".jsonl"))
		if err != nil || st.Size() != s.JSONBytes {
			t.Errorf("%%stats/%s.json: json_bytes %d, stream %v %v", set, s.JSONBytes, st, err)
		}
		jsonTotal, rawTotal, sum = jsonTotal+s.JSONBytes, rawTotal+s.RawBytes, sum+s.Records
	}
	if jsonTotal != all.JSONBytes || rawTotal != all.RawBytes || sum != all.Records {
		t.Errorf("set summaries add up to %d/%d/%d, namespace says %d/%d/%d", jsonTotal, rawTotal, sum, all.JSONBytes, all.RawBytes, all.Records)
	}
}

// TestRestoreRawRecord restores one %raw record file, then one %raw set
// file, with asrestore -i into the test server: exactly that record, then
// exactly that set's records, arrive.
func TestRestoreRawRecord(t *testing.T) {
	needFUSE(t)
	dir := filepath.Join(goldenDir, "01-kitchen-file")
	mnt := mount(t, nil, "--no-config-file", filepath.Join(dir, "backup.asb"))
	rawNS := filepath.Join(mnt, "%raw", "test")
	now := uint32(time.Now().Unix() - 1262304000)

	// A record with a stored key, bins, and no expiry.
	sets := setDirs(t, rawNS)
	var path string
	var want *asb.Record
	for _, name := range sets["kitchen"] {
		data, err := os.ReadFile(filepath.Join(rawNS, "kitchen", name))
		if err != nil {
			t.Fatal(err)
		}
		_, recs := parseAsb(t, data)
		if r := recs[0]; r.Key.Type != asb.KeyNone && len(r.Bins) > 1 && r.VoidTime == 0 {
			path, want = filepath.Join(rawNS, "kitchen", name), r
			break
		}
	}
	if want == nil {
		t.Fatal("no keyed, never-expiring record with bins in the kitchen set")
	}
	srv, err := asdsim.Start(asdsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	restore(t, srv, path)
	got := srv.Records("test")
	if len(got) != 1 {
		t.Fatalf("asrestore -i %s restored %d records, want 1", path, len(got))
	}
	w := asbload.Record(want)
	if got[0].Digest != w.Digest || got[0].Set != "kitchen" || !reflect.DeepEqual(got[0].Key, w.Key) || !sameServerBins(got[0].Bins, w.Bins) {
		t.Errorf("restored %+v\nwant %+v", got[0], w)
	}

	// The whole set.
	srv2, err := asdsim.Start(asdsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Close()
	setFile := filepath.Join(rawNS, "%asb", "kitchen.asb")
	restore(t, srv2, setFile)
	data, err := os.ReadFile(setFile)
	if err != nil {
		t.Fatal(err)
	}
	_, recs := parseAsb(t, data)
	wantDigests := map[[20]byte]bool{}
	for _, r := range recs {
		if len(asbload.Record(r).Bins) > 0 && (r.VoidTime == 0 || r.VoidTime > now) {
			wantDigests[r.Digest] = true
		}
	}
	gotDigests := map[[20]byte]bool{}
	for _, r := range srv2.Records("test") {
		gotDigests[r.Digest] = true
	}
	if len(wantDigests) < 10 || !reflect.DeepEqual(gotDigests, wantDigests) {
		t.Errorf("asrestore -i %s restored %d records, want the set's %d live records", setFile, len(gotDigests), len(wantDigests))
	}
}

func restore(t *testing.T, srv *asdsim.Server, input string) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(asrestoreBin, "-h", srv.Host(), "-p", strconv.Itoa(srv.Port()), "-i", input)
	cmd.Env = append(os.Environ(), "HOME="+home)
	cmd.Dir = home
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("asrestore -i %s: %v\n%s", input, err, out)
	}
}

// sameServerBins compares bins regardless of order.
func sameServerBins(got, want []asdsim.Bin) bool {
	byName := func(b []asdsim.Bin) map[string]asdsim.Bin {
		m := map[string]asdsim.Bin{}
		for _, x := range b {
			m[x.Name] = x
		}
		return m
	}
	return len(got) == len(want) && reflect.DeepEqual(byName(got), byName(want))
}

// TestStableInodes mounts the same backup twice: every record file has the
// same inode number in both mounts (numbers come from index positions, not
// from the order of lookups), the numbers are distinct, and a record's
// %raw file and its JSON file have numbers of their own.
func TestStableInodes(t *testing.T) {
	needFUSE(t)
	backup := filepath.Join(goldenDir, "03-kitchen-dir-parallel", "backup")
	inodes := func(mnt string, reverse bool) map[string]uint64 {
		out := map[string]uint64{}
		for _, root := range []string{filepath.Join(mnt, "test"), filepath.Join(mnt, "%raw", "test")} {
			sets := setDirs(t, root)
			var paths []string
			for set, names := range sets {
				for _, n := range names {
					paths = append(paths, filepath.Join(set, n))
				}
			}
			sort.Strings(paths)
			if reverse {
				// Look the records up in the other order.
				for i, j := 0, len(paths)-1; i < j; i, j = i+1, j-1 {
					paths[i], paths[j] = paths[j], paths[i]
				}
			}
			rel, _ := filepath.Rel(mnt, root)
			for _, p := range paths {
				st, err := os.Stat(filepath.Join(root, p))
				if err != nil {
					t.Fatal(err)
				}
				out[filepath.Join(rel, p)] = st.Sys().(*syscall.Stat_t).Ino
			}
		}
		return out
	}
	first := inodes(mount(t, nil, "--no-config-file", backup), false)
	second := inodes(mount(t, nil, "--no-config-file", backup), true)
	if len(first) < 100 || !reflect.DeepEqual(first, second) {
		t.Errorf("inode numbers differ between two mounts of the same backup (%d and %d files)", len(first), len(second))
	}
	seen := map[uint64]string{}
	for p, ino := range first {
		if q, dup := seen[ino]; dup {
			t.Errorf("%s and %s share inode %d", p, q, ino)
		}
		seen[ino] = p
	}
}
