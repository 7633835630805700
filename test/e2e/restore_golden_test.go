package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"asbtools/asdsim"
)

// TestRestoreLegacyGoldens restores every legacy 4.5.8 backup of the golden
// corpus into an empty test server and checks the result against the
// backup's records and the case's expected.jsonl.
func TestRestoreLegacyGoldens(t *testing.T) {
	root := filepath.Join(repoRoot(t), "test", "golden", "legacy-4.5.8")
	cases := []struct {
		name  string
		input []string // input arguments
		flags []string
		env   []string
		plain string // file holding the decoded text, for encrypted/compressed cases
		dir   bool
	}{
		{name: "01-kitchen-file", input: []string{"-i", "backup.asb"}},
		{name: "02-kitchen-compact", input: []string{"-i", "backup.asb"}},
		{name: "03-kitchen-dir-parallel", input: []string{"-d", "backup"}, dir: true},
		{name: "04-kitchen-zstd", input: []string{"-i", "backup.asb"}, flags: []string{"-z", "zstd"}, plain: "plain.asb"},
		{name: "05-kitchen-aes128-keyfile", input: []string{"-i", "backup.asb"}, flags: []string{"-y", "aes128", "--encryption-key-file", "key.pem"}, plain: "plain.asb"},
		{name: "06-kitchen-zstd-aes256-env", input: []string{"-i", "backup.asb"}, flags: []string{"-z", "zstd", "-y", "aes256", "--encryption-key-env", "ASB_ENCRYPTION_KEY"}, plain: "plain.asb"},
		{name: "07-large-dir", input: []string{"-d", "backup"}, dir: true},
		{name: "08-kitchen-no-bins", input: []string{"-i", "backup.asb"}},
		{name: "09-kitchen-set-bins", input: []string{"-i", "backup.asb"}},
		{name: "10-kitchen-no-records", input: []string{"-i", "backup.asb"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			caseDir := filepath.Join(root, c.name)
			srv := startServer(t, asdsim.Config{})
			var env []string
			if data, err := os.ReadFile(filepath.Join(caseDir, "env-key.txt")); err == nil {
				env = append(env, "ASB_ENCRYPTION_KEY="+strings.TrimSpace(string(data)))
			}
			args := append([]string{"-h", srv.Host(), "-p", strconv.Itoa(srv.Port())}, c.input...)
			args = append(args, c.flags...)
			res := runTool(t, "asrestore", caseDir, env, args...)
			if res.code != 0 {
				t.Fatalf("exit %d\n%s", res.code, res.stderr)
			}
			// The backup's text, read by the test's own scanner.
			var files []string
			switch {
			case c.dir:
				files, _ = filepath.Glob(filepath.Join(caseDir, "backup", "*.asb"))
			case c.plain != "":
				files = []string{filepath.Join(caseDir, c.plain)}
			default:
				files = []string{filepath.Join(caseDir, "backup.asb")}
			}
			var texts [][]byte
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				texts = append(texts, b)
			}
			var recs []asbTextRecord
			var globals []string
			for _, f := range scanTexts(t, texts, files) {
				recs = append(recs, f.Records...)
				globals = append(globals, f.Globals...)
			}
			// What the server holds is judged against expected.jsonl (the
			// data the legacy backup was taken from) through the
			// independent canonical rendering of canon_test.go.
			// For the filtered cases expected-selected.jsonl is what the
			// backup should hold (no bins with --no-bins: nothing to
			// restore; no records with --no-records).
			expFile := "expected.jsonl"
			if _, err := os.Stat(filepath.Join(caseDir, "expected-selected.jsonl")); err == nil {
				expFile = "expected-selected.jsonl"
			}
			exp := loadCanon(t, filepath.Join(caseDir, expFile))
			now := uint32(time.Now().Unix() - asdsim.CitrusleafEpoch)
			restorable := 0
			for _, e := range exp {
				if len(e.Bins) > 0 && (e.VoidTime == 0 || e.VoidTime > now+1) {
					restorable++
				}
			}
			got := srv.Records("test")
			if len(got) != restorable {
				t.Errorf("server holds %d records, expected %d from %s", len(got), restorable, expFile)
			}
			bad := 0
			for _, g := range got {
				e, ok := exp[g.Digest]
				if !ok {
					t.Errorf("record %x restored but not in %s", g.Digest, expFile)
					continue
				}
				if diffs := compareCanon(g, e, 1); len(diffs) > 0 && bad < 10 {
					bad++
					t.Errorf("record %x: %s", g.Digest, strings.Join(diffs, "; "))
				}
			}
			// Cross-check with the backup's own records: same count.
			inBackup := 0
			for _, rec := range recs {
				if len(rec.BinTypes) > 0 && (rec.VoidTime == 0 || rec.VoidTime > now) {
					inBackup++
				}
			}
			if inBackup != len(got) {
				t.Errorf("server holds %d records, the backup has %d restorable ones", len(got), inBackup)
			}
			restored := len(got)
			compareRestoredGlobals(t, srv, globals)
			compareLegacyRoundTrip(t, srv, c.name, filepath.Join(caseDir, expFile), len(got))
			if !strings.Contains(res.stderr, "inserted "+strconv.Itoa(restored)+":") {
				t.Errorf("summary does not report %d inserted:\n%s", restored, res.stderr)
			}
		})
	}
}

// compareRestoredGlobals checks the server's indexes and UDFs against the
// literal index and UDF lines of the backup: every index line is created
// as written (the set "null" as no set, see docs/compat.md), every UDF with
// its exact content, and nothing else.
func compareRestoredGlobals(t *testing.T, srv *asdsim.Server, globals []string) {
	t.Helper()
	want := map[string]textIndex{}
	wantUDF := map[string][]byte{}
	for _, g := range globals {
		switch {
		case strings.HasPrefix(g, "* i "):
			ix, err := parseIndexLine(g)
			if err != nil {
				t.Fatal(err)
			}
			if ix.Set == "null" {
				ix.Set = ""
			}
			want[ix.Name] = ix
		case strings.HasPrefix(g, "* u "):
			name, content, err := parseUDFLine(g)
			if err != nil {
				t.Fatal(err)
			}
			wantUDF[name] = content
		default:
			t.Fatalf("unexpected global line %q", g)
		}
	}
	got := srv.SIndexes()
	if len(got) != len(want) {
		t.Errorf("server holds %d indexes, the backup has %d", len(got), len(want))
	}
	for _, si := range got {
		w, ok := want[si.Name]
		g := textIndex{Namespace: si.Namespace, Set: si.Set, Name: si.Name, IndexType: si.IndexType,
			Bin: si.Bin, Type: si.Type, Context: si.Context}
		if !ok || g != w || si.Exp != "" {
			t.Errorf("index %+v (exp %q), the backup says %+v", g, si.Exp, w)
		}
	}
	udfs := srv.UDFs()
	if len(udfs) != len(wantUDF) {
		t.Errorf("server holds %d UDFs, the backup has %d", len(udfs), len(wantUDF))
	}
	for _, u := range udfs {
		w, ok := wantUDF[u.Name]
		if !ok || !bytes.Equal(u.Content, w) || u.Type != "LUA" {
			t.Errorf("UDF %s (%s, %d bytes) differs from the backup's (%d bytes)", u.Name, u.Type, len(u.Content), len(w))
		}
	}
}

// compareLegacyRoundTrip compares our restore with the legacy tool's, as
// roundtrip-legacy.txt records it (the case restored by legacy asrestore,
// compared with what the backup should hold, expected(-selected).jsonl):
// where it compares them, the same index differences but for the
// documented one (an index without a set is restored without a set, not on
// a set "null") and UDFs restored exactly (their SHA-256 in the .jsonl);
// and the same number of records (none where legacy restored none).
func compareLegacyRoundTrip(t *testing.T, srv *asdsim.Server, name, expectedPath string, records int) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(expectedPath)), "roundtrip-legacy.txt"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "=== "+name+" ")
	if !ok {
		t.Fatalf("no section for %s in roundtrip-legacy.txt", name)
	}
	section, _, _ = strings.Cut(section, "\n=== ")
	lines := strings.Split(section, "\n")

	// Index differences, in the form of the file.
	var defs []struct {
		SIndex, Set, Bin, Type, IndexType, Context, Exp string
	}
	udfSum := map[string]string{}
	for _, l := range strings.Split(readText(t, expectedPath), "\n") {
		var m struct {
			SIndex    *string `json:"sindex"`
			Set       string  `json:"set"`
			Bin       string  `json:"bin"`
			Type      string  `json:"type"`
			IndexType string  `json:"indextype"`
			Context   string  `json:"context"`
			Exp       string  `json:"exp"`
			UDF       *string `json:"udf"`
			SHA256    string  `json:"sha256"`
		}
		if json.Unmarshal([]byte(l), &m) != nil {
			continue
		}
		if m.SIndex != nil {
			defs = append(defs, struct {
				SIndex, Set, Bin, Type, IndexType, Context, Exp string
			}{*m.SIndex, m.Set, m.Bin, m.Type, m.IndexType, m.Context, m.Exp})
		}
		if m.UDF != nil {
			udfSum[*m.UDF] = m.SHA256
		}
	}
	onServer := map[string]asdsim.SIndex{}
	for _, si := range srv.SIndexes() {
		onServer[si.Name] = si
	}
	var gotDiffs []string
	onlyA := 0
	for _, d := range defs {
		si, ok := onServer[d.SIndex]
		if !ok {
			onlyA++
			continue
		}
		var parts []string
		for _, f := range []struct{ name, a, b string }{
			{"set", d.Set, si.Set}, {"bin", d.Bin, si.Bin}, {"type", d.Type, si.Type},
			{"indextype", d.IndexType, si.IndexType}, {"context", d.Context, si.Context}, {"exp", d.Exp, si.Exp},
		} {
			if f.a != f.b {
				parts = append(parts, fmt.Sprintf("%s %q vs %q", f.name, f.a, f.b))
			}
		}
		if len(parts) > 0 {
			gotDiffs = append(gotDiffs, fmt.Sprintf("  differ %q: %s", d.SIndex, strings.Join(parts, "; ")))
		}
	}
	var wantDiffs []string
	wantIdx, wantRecs := -1, 0
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "  differ "):
			// The documented correction: no set stays no set.
			l = strings.Replace(l, `set "" vs "null"; `, "", 1)
			if strings.HasSuffix(l, `: set "" vs "null"`) {
				continue
			}
			wantDiffs = append(wantDiffs, l)
		case strings.HasPrefix(l, "sindexes: "):
			var a, b, oa, ob int
			fmt.Sscanf(l, "sindexes: A=%d B=%d only-in-A=%d only-in-B=%d", &a, &b, &oa, &ob)
			if a != len(defs) {
				t.Fatalf("roundtrip-legacy.txt has %d indexes, expected.jsonl %d", a, len(defs))
			}
			wantIdx = b
			if onlyA != oa {
				t.Errorf("%d indexes not restored, legacy %d", onlyA, oa)
			}
		case strings.HasPrefix(l, "udfs: "):
			if !strings.HasSuffix(l, " differ=0") {
				t.Fatalf("unexpected %q", l)
			}
		case strings.HasPrefix(l, "records: "):
			fmt.Sscanf(l, "records: A=%d B=%d", new(int), &wantRecs)
		}
	}
	if wantIdx >= 0 {
		if n := len(srv.SIndexes()); n != wantIdx {
			t.Errorf("%d indexes restored, legacy restored %d", n, wantIdx)
		}
		sort.Strings(gotDiffs)
		sort.Strings(wantDiffs)
		if strings.Join(gotDiffs, "\n") != strings.Join(wantDiffs, "\n") {
			t.Errorf("index differences from the server's\n%s\nlegacy (corrected)\n%s", strings.Join(gotDiffs, "\n"), strings.Join(wantDiffs, "\n"))
		}
	}
	if strings.Contains(section, "\nudfs: ") {
		udfs := srv.UDFs()
		if len(udfs) != len(udfSum) {
			t.Errorf("%d UDFs restored, the server held %d", len(udfs), len(udfSum))
		}
		for _, u := range udfs {
			sum := sha256.Sum256(u.Content)
			if hex.EncodeToString(sum[:]) != udfSum[u.Name] {
				t.Errorf("UDF %s: SHA-256 %x, the server held %s", u.Name, sum, udfSum[u.Name])
			}
		}
	}
	if (wantRecs == 0) != (records == 0) {
		t.Errorf("%d records restored, legacy restored %d", records, wantRecs)
	}
}

func readText(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
