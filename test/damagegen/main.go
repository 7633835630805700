// Command damagegen builds the corpus of damaged backup files under
// test/golden/damaged and records what the legacy asrestore prints for
// them.
//
//	go run ./test/damagegen gen                 # (re)write the .asb files and cases.tsv
//	go run ./test/damagegen record -legacy BIN  # run legacy asrestore on every case
//	go run ./test/damagegen record -legacy BIN -restore
//	                                            # and restore some into a test server
//
// gen is deterministic (fixed seed): it takes small subsets of the legacy
// kitchen backups (every key, bin and global form they hold) and the
// handmade goldens, damages them at random (truncation, one byte replaced,
// a line deleted, a line duplicated), and adds hand-written defects for
// every field of the format. record runs `asrestore --validate -i FILE` of
// legacy 4.5.8 on each file and stores its exit code and output,
// normalized like the other golden transcripts (timestamps, thread ids,
// rates), as <id>.validate.txt; some files are also validated with -n
// namespace lists (optionRuns, <id>.n-*.txt) and some as the only file of
// a directory (dirFile, <id>.dir.txt). With -restore it also restores the files
// that restoreCase selects, each into a fresh test server (asdsim), with
// `asrestore -h 127.0.0.1:PORT -i FILE`, and stores <id>.restore.txt (the
// server's address written as <HOST>). The legacy tool is needed only to
// record; the tests read the recorded transcripts.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"asbtools/asb"
	"asbtools/asdsim"
)

const seed = 14

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: damagegen gen|record [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	out := fs.String("dir", "test/golden/damaged", "corpus directory")
	golden := fs.String("golden", "test/golden", "golden directory (sources)")
	legacy := fs.String("legacy", "", "legacy asrestore binary (record)")
	only := fs.String("only", "", "record only cases whose id matches this regexp")
	restore := fs.Bool("restore", false, "also record restores (into asdsim) of the cases restoreCase selects")
	fs.Parse(os.Args[2:])
	var err error
	switch os.Args[1] {
	case "gen":
		err = generate(*golden, *out)
	case "record":
		err = record(*out, *legacy, *only, *restore)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "damagegen:", err)
		os.Exit(1)
	}
}

// testCase is one damaged file.
type testCase struct {
	id   string
	what string // how it was made
	data []byte
}

func generate(golden, out string) error {
	kitchen, err := subset(filepath.Join(golden, "legacy-4.5.8/01-kitchen-file/backup.asb"), 40, 1)
	if err != nil {
		return err
	}
	compact, err := subset(filepath.Join(golden, "legacy-4.5.8/02-kitchen-compact/backup.asb"), 24, 2)
	if err != nil {
		return err
	}
	hand := func(name string) []byte {
		b, e := os.ReadFile(filepath.Join(golden, "handmade", name, "backup.asb"))
		if e != nil {
			err = e
		}
		return b
	}
	sources := []struct {
		tag                   string
		data                  []byte
		trunc, repl, del, dup int
	}{
		{"kitchen", kitchen, 60, 70, 30, 30},
		{"compact", compact, 20, 30, 10, 10},
		{"grammar", hand("accept-02-v31-grammar"), 15, 25, 6, 6},
		{"minimal", hand("accept-03-v31-minimal"), 8, 10, 3, 3},
		{"v30", hand("accept-01-v30-basic"), 6, 10, 3, 3},
		{"globals", hand("accept-04-v31-globals-only"), 10, 12, 3, 3},
	}
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	var cases []testCase
	for _, s := range sources {
		cases = append(cases, randomCases(rng, s.tag, s.data, s.trunc, s.repl, s.del, s.dup)...)
	}
	cases = append(cases, handmadeCases()...)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(out, "*.asb"))
	for _, p := range old {
		os.Remove(p)
	}
	var tsv strings.Builder
	tsv.WriteString("# id\thow the file was made (sources: subsets of legacy-4.5.8/01 and 02, handmade/accept-*)\n")
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.id] {
			return fmt.Errorf("duplicate case id %s", c.id)
		}
		seen[c.id] = true
		if err := os.WriteFile(filepath.Join(out, c.id+".asb"), c.data, 0o644); err != nil {
			return err
		}
		what := strconv.Quote(c.what) // the descriptions quote defects with any byte
		fmt.Fprintf(&tsv, "%s\t%s\n", c.id, what[1:len(what)-1])
	}
	fmt.Printf("%d cases\n", len(cases))
	return os.WriteFile(filepath.Join(out, "cases.tsv"), []byte(tsv.String()), 0o644)
}

// subset returns the header, the global lines and n records of a legacy
// backup: first records that together show every key and bin form of the
// file, then records picked at random.
func subset(path string, n int, salt uint64) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := asb.NewReader(bytes.NewReader(data), asb.ReaderOptions{FileName: path})
	hdr, err := r.Header()
	if err != nil {
		return nil, err
	}
	type span struct {
		start, end int64
		kind       asb.EntryKind
		features   []string
	}
	var spans []span
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		s := span{start: e.Offset, kind: e.Kind}
		if e.Kind == asb.EntryRecord {
			rec := e.Record
			s.features = append(s.features, fmt.Sprintf("key:%c:%v", rec.Key.Type, rec.Key.Compact), fmt.Sprintf("set:%v", rec.HasSet), fmt.Sprintf("ttl:%v", rec.VoidTime != 0))
			for _, b := range rec.Bins {
				s.features = append(s.features, fmt.Sprintf("bin:%c:%v", b.Type, b.Compact))
				if bytes.ContainsAny(b.Bytes, "\n\\") {
					s.features = append(s.features, "lf-or-backslash-in-value")
				}
				if bytes.ContainsAny(b.Name, " \\") {
					s.features = append(s.features, "escaped-bin-name")
				}
			}
			if bytes.ContainsAny(rec.Set, " \\") {
				s.features = append(s.features, "escaped-set")
			}
		}
		if len(spans) > 0 {
			spans[len(spans)-1].end = e.Offset
		}
		spans = append(spans, s)
	}
	if len(spans) > 0 {
		spans[len(spans)-1].end = int64(len(data))
	}
	var out bytes.Buffer
	out.Write(data[:hdr.Size])
	covered := map[string]bool{}
	picked := map[int]bool{}
	for i, s := range spans {
		if s.kind != asb.EntryRecord {
			picked[i] = true
			continue
		}
		for _, f := range s.features {
			if !covered[f] {
				picked[i] = true
			}
		}
		if picked[i] {
			for _, f := range s.features {
				covered[f] = true
			}
		}
	}
	rng := rand.New(rand.NewPCG(seed, salt))
	for tries := 0; tries < 10*len(spans); tries++ {
		nrec := 0
		for i := range picked {
			if spans[i].kind == asb.EntryRecord {
				nrec++
			}
		}
		if nrec >= n {
			break
		}
		picked[rng.IntN(len(spans))] = true
	}
	for i, s := range spans {
		if picked[i] {
			out.Write(data[s.start:s.end])
		}
	}
	return out.Bytes(), nil
}

// replacement bytes: mostly printable characters, sometimes the ones the
// grammar cares about.
var special = []byte{'\n', ' ', '\\', 0, '\r', 0xff, '+', '-', '*', '#', '9', '=', '!', 'A', '.', 'e'}

func randomCases(rng *rand.Rand, tag string, data []byte, trunc, repl, del, dup int) []testCase {
	var cases []testCase
	add := func(kind string, i int, what string, b []byte) {
		cases = append(cases, testCase{id: fmt.Sprintf("%s-%s-%03d", tag, kind, i), what: what, data: b})
	}
	lines := bytes.SplitAfter(data, []byte{'\n'})
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	join := func(ls [][]byte) []byte { return bytes.Join(ls, nil) }
	for i := 0; i < trunc; i++ {
		cut := 12 + rng.IntN(len(data)-12)
		add("trunc", i, fmt.Sprintf("%s truncated to %d of %d bytes", tag, cut, len(data)), append([]byte(nil), data[:cut]...))
	}
	for i := 0; i < repl; i++ {
		pos := 12 + rng.IntN(len(data)-12)
		var c byte
		if rng.IntN(3) == 0 {
			c = special[rng.IntN(len(special))]
		} else {
			c = byte(32 + rng.IntN(95))
		}
		if c == data[pos] {
			c ^= 1
		}
		b := append([]byte(nil), data...)
		b[pos] = c
		add("byte", i, fmt.Sprintf("%s byte at offset %d %q replaced by %q", tag, pos, data[pos], c), b)
	}
	for i := 0; i < del; i++ {
		k := 1 + rng.IntN(len(lines)-1)
		ls := append(append([][]byte(nil), lines[:k]...), lines[k+1:]...)
		add("del", i, fmt.Sprintf("%s line %d deleted", tag, k+1), join(ls))
	}
	for i := 0; i < dup; i++ {
		k := 1 + rng.IntN(len(lines)-1)
		ls := append(append(append([][]byte(nil), lines[:k+1]...), lines[k]), lines[k+1:]...)
		add("dup", i, fmt.Sprintf("%s line %d duplicated", tag, k+1), join(ls))
	}
	return cases
}

// A handmade case replaces one part of a small, valid file.
const (
	hHead   = "Version 3.1\n# namespace test\n# first-file\n"
	hIndex  = "* i test hand idx_a N 1 a N\n"
	hUDF    = "* u L ok.lua 9 return 1\n\n"
	hGood   = "+ k S 3 abc\n+ n test\n+ d sntzq1K649gZ/dyhMSUjQXzM/bA=\n+ s hand\n+ g 1\n+ t 0\n+ b 2\n- I i 1\n- S s 3 xyz\n"
	hAfter  = "+ k I 9\n+ n test\n+ d ChABa66gTBByjvbeRl/5HEco6RE=\n+ g 2\n+ t 0\n+ b 1\n- Z z T\n"
	hDigest = "E2BJ0cHKN4CBfswt6SRpbwXZDYM="
)

// rec builds a record whose fields are the given lines ("" leaves a line
// out); bins follow the "+ b" line.
func rec(key, ns, dig, set, gen, ttl, count string, bins ...string) string {
	var b strings.Builder
	for _, l := range []string{key, ns, dig, set, gen, ttl, count} {
		if l != "" {
			b.WriteString(l + "\n")
		}
	}
	for _, l := range bins {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// std is a record with one bin line given.
func std(bin string) string {
	return rec("+ k I 7", "+ n test", "+ d "+hDigest, "+ s hand", "+ g 3", "+ t 0", "+ b 1", bin)
}

// field is a record with one of its lines replaced.
func field(which byte, line string) string {
	ls := []string{"+ k I 7", "+ n test", "+ d " + hDigest, "+ s hand", "+ g 3", "+ t 0", "+ b 1", "- I v 5"}
	for i, l := range ls {
		if l[2] == which && l[0] == '+' {
			ls[i] = line
		}
	}
	return rec(ls[0], ls[1], ls[2], ls[3], ls[4], ls[5], ls[6], ls[7])
}

func handmadeCases() []testCase {
	var cases []testCase
	n := 0
	body := func(name, what, entry string) {
		n++
		cases = append(cases, testCase{id: fmt.Sprintf("hand-%03d-%s", n, name), what: what,
			data: []byte(hHead + hIndex + hUDF + hGood + entry + hAfter)})
	}
	whole := func(name, what, file string) {
		n++
		cases = append(cases, testCase{id: fmt.Sprintf("hand-%03d-%s", n, name), what: what, data: []byte(file)})
	}
	long := func(c string, k int) string { return strings.Repeat(c, k) }

	// Start of an entry.
	body("start-x", "entry starting with x", "x\n"+std("- I v 5"))
	body("start-empty-line", "an empty line between records", "\n"+std("- I v 5"))
	body("start-cr", "CR at the start of an entry", "\r"+std("- I v 5"))
	body("start-space", "space before +", " "+std("- I v 5"))
	body("start-hash", "meta line in the body", "# namespace test\n"+std("- I v 5"))
	body("plus-nospace", "+k instead of + k", "+k I 7\n"+std("- I v 5")[8:])
	body("plus-double-space", "+  k", "+  k I 7\n"+std("- I v 5")[8:])
	body("record-letter-q", "unknown record line letter", strings.Replace(std("- I v 5"), "+ s hand", "+ q hand", 1))
	body("record-missing-digest", "no + d line", field('d', ""))
	body("record-missing-ns", "no + n line", field('n', ""))
	body("record-missing-gen", "no + g line", field('g', ""))
	body("record-missing-ttl", "no + t line", field('t', ""))
	body("record-missing-count", "no + b line", rec("+ k I 7", "+ n test", "+ d "+hDigest, "+ s hand", "+ g 3", "+ t 0", ""))
	body("record-order", "+ s before + d", rec("+ k I 7", "+ n test", "+ s hand", "+ d "+hDigest, "+ g 3", "+ t 0", "+ b 0"))
	body("record-line-nospace", "+ gx", field('g', "+ g3"))
	body("record-trailing-space", "trailing space after the generation", field('g', "+ g 3 "))
	body("record-crlf", "CRLF after the set", field('s', "+ s hand\r"))

	// Keys.
	for _, k := range []struct{ name, line string }{
		{"type-q", "+ k Q 1"}, {"type-lower", "+ k i 1"}, {"nospace", "+ k I7"},
		{"int-letter", "+ k I 7x"}, {"int-empty", "+ k I "}, {"int-minus", "+ k I -"},
		{"int-minus-minus", "+ k I --1"}, {"int-overflow", "+ k I 9223372036854775808"},
		{"int-min", "+ k I -9223372036854775808"}, {"int-underflow", "+ k I -9223372036854775809"},
		{"int-escape", "+ k I 1\\2"}, {"int-space", "+ k I 1 2"}, {"int-plus", "+ k I +1"},
		{"float-bad", "+ k D 1.5x"}, {"float-dangling-e", "+ k D 1e"}, {"float-dot", "+ k D ."},
		{"float-nanx", "+ k D nanx"}, {"float-in", "+ k D in"}, {"float-E", "+ k D 1E5"}, {"float-hex", "+ k D 0x10"},
		{"str-size-letter", "+ k S x abc"}, {"str-size-nospace", "+ k S 3abc"}, {"str-long", "+ k S 2 abc"},
		{"str-size-overflow", "+ k S 1125899906842625 abc"}, {"str-size-empty", "+ k S  abc"},
		{"b64str-size", "+ k X 3 abc"}, {"b64str-bad", "+ k X 4 ab*d"}, {"b64str-short", "+ k X 8 YWJj"},
		{"b64str-ok", "+ k X 4 YWJj"},
		{"bytes-bad", "+ k B 4 ab.d"}, {"bytes-size", "+ k B 5 abcde"}, {"bytes-space", "+ k B 4 ab d"},
		{"bytes-bang-nospace", "+ k B!3 abc"}, {"bytes-compact-short", "+ k B! 5 abc"}, {"bytes-other", "+ k B? 4 abcd"},
		{"bytes-lf-in-b64", "+ k B 8 YWJj\nYWJ"},
	} {
		body("key-"+k.name, "key line "+k.line, field('k', k.line))
	}
	// Namespace.
	for _, k := range []struct{ name, line string }{
		{"31", "+ n " + long("n", 31)}, {"32", "+ n " + long("n", 32)}, {"long", "+ n " + long("n", 40)},
		{"empty", "+ n "}, {"nospace", "+ ntest"}, {"escape", "+ n te\\st"}, {"escaped-lf", "+ n test\\"},
		{"other", "+ n bar"}, {"space", "+ n te st"},
	} {
		body("ns-"+k.name, "namespace line "+k.line, field('n', k.line))
	}
	// Digest.
	for _, k := range []struct{ name, line string }{
		{"short", "+ d AAAA"}, {"bad-char", "+ d E2BJ0cHKN4CBfswt6SRp*wXZDYM="}, {"bad-last", "+ d E2BJ0cHKN4CBfswt6SRpbwXZDYM*"},
		{"long", "+ d " + hDigest + "A"}, {"pad-middle", "+ d E2BJ0cHKN4CB=swt6SRpbwXZDYM="}, {"space", "+ d E2BJ0cHKN4CBfswt6SRpbwXZ YM="},
		{"empty", "+ d "}, {"nospace", "+ d" + hDigest}, {"hex", "+ d 1360498C1CA37807E7ECB2DE9246F05D"},
	} {
		body("digest-"+k.name, "digest line "+k.line, field('d', k.line))
	}
	// Set.
	for _, k := range []struct{ name, line string }{
		{"63", "+ s " + long("s", 63)}, {"64", "+ s " + long("s", 64)}, {"escape", "+ s a\\ b"}, {"escaped-lf", "+ s hand\\"},
		{"empty", "+ s "}, {"nospace", "+ shand"}, {"escape-long", "+ s " + long("\\s", 63)},
	} {
		body("set-"+k.name, "set line "+k.line, field('s', k.line))
	}
	// Generation, expiration, bin count.
	for _, f := range []struct {
		c    byte
		name string
	}{{'g', "gen"}, {'t', "ttl"}, {'b', "count"}} {
		for _, k := range []struct{ name, val string }{
			{"letter", "x"}, {"empty", ""}, {"neg", "-1"}, {"big", "65536"}, {"huge", "4294967296"},
			{"overflow", "99999999999999999999"}, {"space", "1 "}, {"minus", "-"}, {"digit-then-letter", "1x"},
		} {
			line := fmt.Sprintf("+ %c %s", f.c, k.val)
			body(f.name+"-"+k.name, f.name+" line "+line, field(f.c, line))
		}
	}
	body("ttl-expired", "expiration 1 (in the past)", field('t', "+ t 1"))
	body("ttl-max", "expiration 4294967295", field('t', "+ t 4294967295"))
	body("count-too-few", "+ b 2 with one bin", field('b', "+ b 2"))
	body("count-too-many", "+ b 0 with one bin", field('b', "+ b 0"))

	// Bins.
	for _, k := range []struct{ name, line string }{
		{"label-q", "- Q v 1"}, {"label-lower", "- i v 1"}, {"ldt", "- U v 1 x"}, {"ldt-noname", "- U"},
		{"nodash", "+ I v 1"}, {"nospace", "-I v 1"}, {"type-nospace", "- Iv 1"}, {"bang-int", "- I! v 5"},
		{"name-empty", "- I  5"}, {"name-15", "- I " + long("b", 15) + " 5"}, {"name-16", "- I " + long("b", 16) + " 5"},
		{"name-1000", "- I " + long("b", 1000) + " 5"}, {"name-escape", "- I a\\ b 5"}, {"name-nul", "- I a\x00" + long("b", 20) + " 5"},
		{"nil", "- N v"}, {"nil-value", "- N v 1"}, {"nil-long", "- N " + long("b", 16)},
		{"int-letter", "- I v x"}, {"int-overflow", "- I v 9223372036854775808"}, {"int-long-name", "- I " + long("b", 20) + " -5"},
		{"int-nospace", "- I v"}, {"int-space", "- I v 1 2"},
		{"bool-x", "- Z v X"}, {"bool-tt", "- Z v TT"}, {"bool-empty", "- Z v "}, {"bool-long-name", "- Z " + long("b", 16) + " T"},
		{"bool-escape", "- Z v \\T"}, {"bool-nul", "- Z v T\x00"},
		{"float-bad", "- D v 1.2.3"}, {"float-e5", "- D v e5"}, {"float-dangling", "- D v 1e"}, {"float-long-name", "- D " + long("b", 16) + " 0.1"},
		{"float-inf", "- D v -inf"}, {"float-plus", "- D v +1.5e+3"}, {"float-empty", "- D v "},
		{"str-overrun", "- S v 5 abc"}, {"str-size-letter", "- S v x abc"}, {"str-nospace", "- S v 3abc"}, {"str-short", "- S v 2 abc"},
		{"str-long-name", "- S " + long("b", 16) + " 3 abc"}, {"str-lf", "- S v 3 a\nb"},
		{"b64str-size", "- X v 5 abcde"}, {"b64str-bad", "- X v 4 ab*d"}, {"b64str-long-name", "- X " + long("b", 16) + " 4 YWJj"},
		{"geo-overrun", "- G v 9 {}"}, {"geo-long-name", "- G " + long("b", 16) + " 2 {}"},
		{"blob-bad", "- B v 4 ab*d"}, {"blob-size", "- B v 5 abcde"}, {"blob-compact-short", "- B! v 5 abc"},
		{"blob-long-name", "- B " + long("b", 16) + " 4 YWJj"}, {"blob-compact-long-name", "- B! " + long("b", 16) + " 3 abc"},
		{"blob-pad", "- B v 8 YQ==YWJj"}, {"blob-space-in-data", "- B v 8 YWJj YWJ"},
		{"java-bad", "- J v 4 ****"}, {"csharp-bad", "- C v 4 ab\\d"}, {"python-short", "- P v 8 YWJj"}, {"ruby-nosize", "- R v  YWJj"},
		{"php-size", "- H v 6 YWJjZA"}, {"erlang-nul", "- E v 4 YW\x00j"}, {"hll-bad", "- Y v 4 #WJj"}, {"map-bad", "- M v 4 gq=\n"},
		{"list-overrun", "- L v 12 kgEC"}, {"list-compact-overrun", "- L! v 12 kgEC"},
	} {
		body("bin-"+k.name, "bin line "+k.line, std(k.line))
	}

	// Global lines.
	udf := func(name, line string) {
		whole("udf-"+name, "UDF line "+strings.ReplaceAll(line, "\n", `\n`), hHead+line+"\n"+hGood)
	}
	udf("type", "* u X m.lua 1 x")
	udf("type-lower", "* u l m.lua 1 x")
	udf("nospace", "* uL m.lua 1 x")
	udf("size-letter", "* u L m.lua x y")
	udf("size-empty", "* u L m.lua  x")
	udf("overrun", "* u L m.lua 30 abc")
	udf("short", "* u L m.lua 2 abc")
	udf("too-large", "* u L m.lua 4294967296 x")
	udf("size-overflow", "* u L m.lua 1125899906842625 x")
	udf("name-1000", "* u L "+long("u", 1000)+" 1 x")
	udf("name-escape", "* u L m\\ a.lua 1 x")
	udf("no-size", "* u L m.lua")
	udf("empty", "* u L m.lua 0 ")
	udf("lf-content", "* u L m.lua 3 a\nb")
	idx := func(name, line string) {
		whole("index-"+name, "index line "+line, hHead+line+"\n"+hGood)
	}
	idx("type", "* i test s n Q 1 b N")
	idx("nopath", "* i test s n N 0 b N")
	idx("datatype", "* i test s n N 1 b X")
	idx("count-letter", "* i test s n N x b N")
	idx("two-paths", "* i test s n N 2 b N c S")
	idx("two-paths-missing", "* i test s n N 2 b N")
	idx("two-paths-nospace", "* i test s n N 2 b Nc S")
	idx("ctx", "* i test s n N 1 b N kiKiA2E=")
	idx("ctx-space", "* i test s n N 1 b N ")
	idx("type-trailing", "* i test s n N 1 b NX")
	idx("noset", "* i test  n N 1 b N")
	idx("short", "* i test s n")
	idx("nospace", "* itest s n N 1 b N")
	idx("ns-1000", "* i "+long("n", 1000)+" s n N 1 b N")
	idx("escapes", "* i te\\ st s\\ t n\\\\ N 1 b\\ c N")
	idx("count-overflow", "* i test s n N 1125899906842625 b N")
	idx("expr-in-31", "* e test s n N 1  N kxSTUQKhaQE=")
	whole("global-type", "global line * x", hHead+"* x\n"+hGood)
	whole("global-nospace", "global line *i", hHead+"*i test s n N 1 b N\n"+hGood)
	whole("global-star-eof", "file ending in *", hHead+"*")
	whole("global-after-records", "index line after a record", hHead+hGood+hIndex+hAfter)
	whole("global-in-30", "index line in a 3.0 file", "Version 3.0\n# namespace test\n"+hIndex+hGood)
	whole("v30-escapes", "3.0 file: backslashes are data", "Version 3.0\n# namespace test\n"+strings.Replace(hGood, "+ s hand", "+ s ha\\nd", 1)+std("- I a\\ 5"))
	whole("v30-namespace-long", "3.0 file: 32-byte namespace", "Version 3.0\n"+field('n', "+ n "+long("n", 32)))

	// Header and meta lines.
	for _, k := range []struct{ name, text string }{
		{"version-30", "Version 3.0\n"}, {"version-32", "Version 3.2\n"}, {"version-40", "Version 4.0\n"},
		{"version-lower", "version 3.1\n"}, {"version-short", "Version 3.1"}, {"version-crlf", "Version 3.1\r\n"},
		{"version-space", "Version 3.1 \n"}, {"version-empty", ""}, {"version-lf", "\n"},
		{"meta-unknown", "Version 3.1\n# foo\n"}, {"meta-nospace", "Version 3.1\n#namespace test\n"},
		{"meta-namespace-nospace", "Version 3.1\n# namespacetest\n"}, {"meta-empty", "Version 3.1\n#\n"},
		{"meta-long", "Version 3.1\n# namespace " + long("n", 1000) + "\n"}, {"meta-998", "Version 3.1\n# first-file" + long(" ", 986) + "\n"},
		{"meta-eof", "Version 3.1\n# namespace test"}, {"meta-nul", "Version 3.1\n# first-file\x00x\n"},
		{"meta-first-file-x", "Version 3.1\n# first-filex\n"}, {"meta-after-index", "Version 3.1\n" + hIndex + "# first-file\n"},
	} {
		whole("header-"+k.name, "header "+fmt.Sprintf("%q", k.text), k.text+hGood)
	}

	// Truncations of the handmade file at chosen places.
	full := hHead + hIndex + hUDF + hGood + std("- S v 3 xyz") + std("- B v 4 YWJj") + std("- X v 4 YWJj") + std("- B! v 3 abc") + std("- D v 1.5") + std("- Z v T") + std("- N v")
	cuts := map[string]int{}
	mark := func(name, after string, extra int) {
		i := strings.Index(full, after)
		if i < 0 {
			panic(after)
		}
		cuts[name] = i + len(after) + extra
	}
	mark("index-mid", "idx_a N 1", 0)
	mark("index-before-type", "idx_a ", 0)
	mark("index-before-lf", "idx_a N 1 a N", 0)
	mark("udf-content", "ok.lua 9 ret", 0)
	mark("udf-before-lf", "ok.lua 9 return 1\n", 0)
	mark("udf-type", "* u ", 0)
	mark("key-type", "+ k ", 0)
	mark("key-size", "+ k S 3", 0)
	mark("key-data", "+ k S 3 a", 0)
	mark("ns", "+ n te", 0)
	mark("digest-1", "+ d sntz", 0)
	mark("digest-2", "+ d sntzq", 0)
	mark("digest-3", "+ d sntzq1", 0)
	mark("digest-4", "+ d sntzq1K", 0)
	mark("digest-lf", "+ d sntzq1K649gZ/dyhMSUjQXzM/bA=", 0)
	mark("set", "+ s ha", 0)
	mark("gen", "+ g ", 0)
	mark("ttl", "+ t ", 0)
	mark("count", "+ b 2", 0)
	mark("bin-dash", "- I i 1\n-", 0)
	mark("bin-type", "- I i 1\n- ", 0)
	mark("bin-bang", "- I i 1\n- S", 0)
	mark("bin-name", "- S s", 0)
	mark("bin-int", "- I i ", 0)
	mark("str-data", "- S v 3 x", 0)
	mark("b64-1", "- B v 4 Y", 0)
	mark("b64-2", "- B v 4 YW", 0)
	mark("b64-3", "- B v 4 YWJ", 0)
	mark("b64-4", "- B v 4 YWJj", 0)
	mark("b64str-2", "- X v 4 YW", 0)
	mark("raw-1", "- B! v 3 a", 0)
	mark("float", "- D v 1.", 0)
	mark("bool", "- Z v ", 0)
	mark("nil", "- N v", 0)
	mark("record-plus", "- I i 1\n- S s 3 xyz\n+", 0)
	mark("record-letter", "- I i 1\n- S s 3 xyz\n+ ", 0)
	names := make([]string, 0, len(cuts))
	for k := range cuts {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		whole("cut-"+k, fmt.Sprintf("handmade file truncated to %d bytes", cuts[k]), full[:cuts[k]])
	}
	whole("full", "the untruncated handmade file", full)

	// Namespaces, for the runs with -n (see optionRuns).
	whole("ns-index-other", "index in another namespace", hHead+"* i other s n N 1 b N\n"+hGood)
	whole("ns-index-escaped", "index namespace with an escaped space", hHead+"* i ot\\ her s\\ x nm N 1 b N\n"+hGood)
	whole("ns-record-other", "record in another namespace", hHead+hIndex+strings.Replace(hGood, "+ n test", "+ n other", 1))
	whole("ns-record-escaped", "record namespace with an escaped space", hHead+strings.Replace(hGood, "+ n test", "+ n te\\ st", 1))
	whole("ns-meta-other", "# namespace other", "Version 3.1\n# namespace other\n"+hIndex+hGood)
	whole("ns-meta-none", "no # namespace line", "Version 3.1\n"+hIndex+hGood)
	whole("ns-meta-nospace", "# namespacetest", "Version 3.1\n# namespacetest\n"+hIndex+hGood)
	return cases
}

// optionRuns are the extra --validate runs with -n: each file of
// optionFiles with each of these namespace lists.
var optionRuns = []struct{ variant, ns string }{
	{"n-test", "test"}, {"n-other", "other"}, {"n-test-bar", "test,bar"}, {"n-other-bar", "other,bar"},
}

// dirFile selects the files also validated as the only file of a
// directory (-d), where the legacy tool counts progress differently.
func dirFile(id string) bool {
	var n int
	if k := strings.LastIndexByte(id, '-'); k >= 0 {
		fmt.Sscanf(id[k+1:], "%d", &n)
	}
	return !strings.HasPrefix(id, "hand-") && n%10 == 3
}

func optionFile(id string) bool {
	return strings.Contains(id, "-ns-") || strings.HasSuffix(id, "-full") || id == "kitchen-trunc-000" || id == "hand-001-start-x"
}

var (
	tsRE   = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{1,2}:\d{2}:\d{2} (?:GMT|UTC) \[(INF|ERR|VER|WRN|DBG)\] \[[\s\d]+\] `)
	rateRE = regexp.MustCompile(`\(\d+ rec/s, \d+ KiB/s, \d+ B/rec`)
	etaRE  = regexp.MustCompile(`~[0-9dhms>]+ remaining`)
)

func normalize(s string) string {
	var out []string
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		l = tsRE.ReplaceAllString(l, "<TS> [$1] [TID] ")
		l = rateRE.ReplaceAllString(l, "(<N> rec/s, <N> KiB/s, <N> B/rec")
		l = etaRE.ReplaceAllString(l, "~<ETA> remaining")
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// RestoreCase selects the damaged files that are also restored into a test
// server: every handmade one and every fifth of each random group. The
// e2e test uses the same rule.
func RestoreCase(id string) bool {
	if strings.HasPrefix(id, "hand-") {
		return true
	}
	var n int
	if k := strings.LastIndexByte(id, '-'); k >= 0 {
		fmt.Sscanf(id[k+1:], "%d", &n)
	}
	return n%5 == 0
}

func record(dir, legacy, only string, restore bool) error {
	if legacy == "" {
		return fmt.Errorf("record needs -legacy")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.asb"))
	if err != nil {
		return err
	}
	var re *regexp.Regexp
	if only != "" {
		re = regexp.MustCompile(only)
	}
	jobs := make(chan string)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range jobs {
				err := recordOne(dir, legacy, filepath.Base(f), "validate")
				id := strings.TrimSuffix(filepath.Base(f), ".asb")
				if err == nil && dirFile(id) {
					err = recordDir(dir, legacy, filepath.Base(f))
				}
				if optionFile(id) {
					for _, o := range optionRuns {
						if err == nil {
							err = recordOne(dir, legacy, filepath.Base(f), o.variant, "-n", o.ns)
						}
					}
				}
				if err == nil && restore && RestoreCase(id) {
					err = recordRestore(dir, legacy, filepath.Base(f))
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, f := range files {
		if re == nil || re.MatchString(filepath.Base(f)) {
			jobs <- f
		}
	}
	close(jobs)
	wg.Wait()
	return firstErr
}

// recordOne runs `asrestore --validate [extra...] -i name` and stores the
// transcript as <id>.<variant>.txt.
func recordOne(dir, legacy, name, variant string, extra ...string) error {
	id := strings.TrimSuffix(name, ".asb")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append(append([]string{"--validate"}, extra...), "-i", name)
	cmd := exec.CommandContext(ctx, legacy, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TZ=UTC")
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: timed out", name)
	}
	text := fmt.Sprintf("asrestore %s\n# exit code: %d\n%s\n", strings.Join(args, " "), code, normalize(se.String()))
	if err := os.WriteFile(filepath.Join(dir, id+"."+variant+".txt"), []byte(text), 0o644); err != nil {
		return err
	}
	stdout := filepath.Join(dir, id+"."+variant+".stdout")
	if so.Len() > 0 {
		return os.WriteFile(stdout, so.Bytes(), 0o644)
	}
	os.Remove(stdout)
	return nil
}

// hostRE matches the test server's address in the transcripts.
var hostRE = regexp.MustCompile(`127\.0\.0\.1:\d+`)

func recordRestore(dir, legacy, name string) error {
	srv, err := asdsim.Start(asdsim.Config{})
	if err != nil {
		return err
	}
	defer srv.Close()
	id := strings.TrimSuffix(name, ".asb")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, legacy, "-h", srv.Addr(), "-i", name)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TZ=UTC")
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: timed out", name)
	}
	if so.Len() > 0 {
		return fmt.Errorf("%s: unexpected stdout %q", name, so.String())
	}
	text := fmt.Sprintf("asrestore -h <HOST> -i %s\n# exit code: %d\n%s\n", name, code, hostRE.ReplaceAllString(normalize(se.String()), "<HOST>"))
	return os.WriteFile(filepath.Join(dir, id+".restore.txt"), []byte(text), 0o644)
}

// recordDir copies name alone into a directory d and runs
// `asrestore --validate -d d` there; the transcript is <id>.dir.txt.
func recordDir(dir, legacy, name string) error {
	id := strings.TrimSuffix(name, ".asb")
	tmp, err := os.MkdirTemp("", "damagegen")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(tmp, "d"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "d", name), data, 0o644); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, legacy, "--validate", "-d", "d")
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "TZ=UTC")
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if so.Len() > 0 {
		return fmt.Errorf("%s: unexpected stdout %q", name, so.String())
	}
	text := fmt.Sprintf("asrestore --validate -d d\n# exit code: %d\n%s\n", code, normalize(se.String()))
	return os.WriteFile(filepath.Join(dir, id+".dir.txt"), []byte(text), 0o644)
}
