package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"asbtools/asdsim"
)

// TestLongEscapedNamesRoundTrip backs up records whose set and bin names
// need escaping (space, backslash), with the escapes both early and late in
// long names (the reader scans long tokens differently from short ones),
// checks the "+ s" and bin lines against the legacy escape rule written out
// here, and restores the file into an empty server: the names must come
// back unescaped.
func TestLongEscapedNamesRoundTrip(t *testing.T) {
	sets := []string{
		`set name with spaces and a \ backslash`,                 // escapes early
		`abcdefghijklmnopqrstuvwxyz0123456789 late\escapes here`, // escapes after 24 bytes
		`plain-set-name-that-is-longer-than-twenty-four`,
	}
	bins := []string{`b n`, `b\n`, `bin`}
	// legacyEscape is the legacy writer's rule: a backslash before every
	// backslash, space, LF and NUL.
	legacyEscape := func(s string) string {
		var b strings.Builder
		for _, c := range []byte(s) {
			if c == '\\' || c == ' ' || c == '\n' || c == 0 {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
		return b.String()
	}
	src := startServer(t, asdsim.Config{})
	for i, set := range sets {
		rec := asdsim.Record{Set: set, Key: asdsim.StringKey("k" + strconv.Itoa(i)), Generation: 1}
		for j, bn := range bins {
			rec.Bins = append(rec.Bins, asdsim.IntBin(bn, int64(10*i+j)))
		}
		if err := src.Put("test", rec); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	res := runTool(t, "asbackup", dir, nil, "-h", src.Host(), "-p", strconv.Itoa(src.Port()), "-n", "test", "-o", "backup.asb")
	if res.code != 0 {
		t.Fatalf("backup: exit %d\n%s", res.code, res.stderr)
	}
	text, err := os.ReadFile(filepath.Join(dir, "backup.asb"))
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range sets {
		if !bytes.Contains(text, []byte("\n+ s "+legacyEscape(set)+"\n")) {
			t.Errorf("no line %q in the backup", "+ s "+legacyEscape(set))
		}
	}
	for _, bn := range bins {
		if n := bytes.Count(text, []byte("\n- I "+legacyEscape(bn)+" ")); n != len(sets) {
			t.Errorf("%d bin lines %q, want %d", n, "- I "+legacyEscape(bn), len(sets))
		}
	}
	dst := startServer(t, asdsim.Config{})
	rr := runTool(t, "asrestore", dir, nil, "-h", dst.Host(), "-p", strconv.Itoa(dst.Port()), "-i", "backup.asb")
	if rr.code != 0 {
		t.Fatalf("restore: exit %d\n%s", rr.code, rr.stderr)
	}
	want, got := src.Records("test"), dst.Records("test")
	if len(got) != len(want) {
		t.Fatalf("restored %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Digest != want[i].Digest || got[i].Set != want[i].Set {
			t.Errorf("record %x in set %q restored as %x in set %q", want[i].Digest, want[i].Set, got[i].Digest, got[i].Set)
		}
		if ok, why := sameBins(got[i].Bins, want[i].Bins); !ok {
			t.Errorf("record in set %q: %s", want[i].Set, why)
		}
	}
}
