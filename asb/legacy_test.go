package asb

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestLegacyChain checks the chain of legacy messages a SyntaxError
// carries (innermost first) and the line the legacy tool names last, for
// one defect per kind of step; test/e2e compares the whole corpus of
// damaged files with the legacy tool.
func TestLegacyChain(t *testing.T) {
	rec := "+ k I 1\n+ n test\n+ d AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n+ s s\n+ g 1\n+ t 0\n+ b 1\n"
	cases := []struct {
		name, body string
		line       int
		chain      []string
	}{
		{"start", "x\n", 3, []string{`Invalid start character "x" in block (line 3, col 1)`}},
		{"start lf", "\n" + rec, 3, []string{`Invalid start character \x0a in block (line 3, col 1)`}},
		{"record letter", "+ q x\n", 3, []string{`Unexpected character "q" in backup block (line 3, col 3), expected "k"`}},
		{"string overrun", rec + "- S s 100 too short\n", 11, []string{
			"Unexpected end of file in backup block (line 11, col 1)",
			"Error while reading string data",
			"Error while reading string bin value",
			"Error while parsing record"}},
		{"base64 cut", rec + "- B b 8 YWJjY", 10, []string{
			"Unexpected end of file in backup block (line 10, col 14)",
			"Unexpected end of file in backup block (line 10, col 14)",
			"Unexpected end of file in backup block (line 10, col 14)",
			"Unexpected end of file in base-64 data",
			"Error while reading encoded data",
			"Error while reading encoded data bin value",
			"Error while parsing record"}},
		{"bad base64", "+ n test\n+ d AAAAAAAA*AAAAAAAAAAAAAAAAAA=\n", 4, []string{
			`Invalid base-64 character ("*", "A", "A", or "A" at or before line 4, col 16)`,
			"Error while reading encoded digest string",
			"Error while parsing record"}},
		{"generation", strings.Replace(rec, "+ g 1", "+ g 1x", 1), 7, []string{
			`Invalid character "x" in backup block (line 7, col 6), expected digit`,
			"Error while reading generation count",
			"Error while parsing record"}},
		{"generation range", strings.Replace(rec, "+ g 1", "+ g 70000", 1), 7, []string{
			"Invalid generation count 70000 (line 7, col 10)",
			"Error while parsing record"}},
		{"bin count", strings.Replace(rec, "+ b 1", "+ b -1", 1), 9, []string{
			"Invalid bin count 18446744073709551615 (line 9, col 7)",
			"Error while parsing record"}},
		{"nul ends a token", strings.Replace(rec, "+ t 0", "+ t 0\x005", 1), 8, []string{
			`Unexpected character \x00 in backup block (line 8, col 6), expected \x0a`,
			"Error while parsing record"}},
		{"long bin name", rec + "- I abcdefghijklmnop 5\n", 11, []string{
			"Error while setting integer bin abcdefghijklmnop to 5 (line 10, col 23)",
			"Error while parsing record"}},
		{"index path type", "* i test s n N 1 b X\n", 3, []string{`Invalid path type character "X" in block (line 3, col 20)`}},
		{"index cut", "* i test s n N 1 b N", 3, []string{
			"Unexpected end of file in backup block (line 3, col 21)",
			"Unexpected end of file in backup block (line 3, col 21)"}},
		{"udf size", "* u L a.lua 1x y\n", 3, []string{`Invalid character "x" in backup block (line 3, col 14), expected digit`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodeAll(strings.NewReader("Version 3.1\n# namespace test\n"+c.body), ReaderOptions{FileName: "f.asb"})
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("%v", err)
			}
			if se.LegacyLine != c.line || strings.Join(se.Legacy, "\n") != strings.Join(c.chain, "\n") {
				t.Fatalf("line %d, chain\n%s\nwant line %d, chain\n%s", se.LegacyLine, strings.Join(se.Legacy, "\n"), c.line, strings.Join(c.chain, "\n"))
			}
		})
	}
}

// TestNulInNames: an escaped NUL is part of a name; the writer escapes it
// so that names holding one survive a round trip.
func TestNulInNames(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.WriteHeader(&Header{Version: Version31}); err != nil {
		t.Fatal(err)
	}
	r := &Record{Namespace: []byte("test"), Set: []byte("a\x00b"), HasSet: true, Bins: []Bin{{Name: []byte("x\x00"), Type: BinInt, Int: 3}}}
	if err := w.WriteRecord(r); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	d, err := decodeAll(bytes.NewReader(buf.Bytes()), ReaderOptions{})
	if err != nil {
		t.Fatalf("%v\n%q", err, buf.Bytes())
	}
	got := d.entries[0].Record
	if string(got.Set) != "a\x00b" || string(got.Bins[0].Name) != "x\x00" {
		t.Fatalf("%q %q", got.Set, got.Bins[0].Name)
	}
}
