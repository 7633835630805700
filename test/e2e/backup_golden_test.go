package e2e

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"asbtools/asb"
	"asbtools/asdsim"
	"asbtools/stream"
)

// goldenBackupCase describes how to reproduce one legacy-4.5.8 case.
type goldenBackupCase struct {
	name string
	// source is the case whose backup holds the full data set to seed
	// (records keep their exact particle bytes); metadata (generation, void
	// time) is then taken from the case's own output where present.
	source  string
	kitchen bool // seed the kitchen indexes and UDFs
	env     func(dir string) []string
	decode  func(t testing.TB, dir string) *stream.Options
}

func keyFileOpts(c stream.Cipher, compress bool) func(t testing.TB, dir string) *stream.Options {
	return func(t testing.TB, dir string) *stream.Options {
		mat, err := stream.KeyMaterialFromPEMFile(filepath.Join(dir, "key.pem"))
		if err != nil {
			t.Fatal(err)
		}
		return &stream.Options{Compress: compress, Cipher: c, Key: stream.DeriveKey(mat, c)}
	}
}

func envKeyOpts(c stream.Cipher, compress bool) func(t testing.TB, dir string) *stream.Options {
	return func(t testing.TB, dir string) *stream.Options {
		b, _ := os.ReadFile(filepath.Join(dir, "env-key.txt"))
		mat, err := stream.DecodeBase64Key(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		return &stream.Options{Compress: compress, Cipher: c, Key: stream.DeriveKey(mat, c)}
	}
}

var goldenBackupCases = []goldenBackupCase{
	{name: "01-kitchen-file", source: "01-kitchen-file", kitchen: true},
	{name: "02-kitchen-compact", source: "01-kitchen-file", kitchen: true},
	{name: "03-kitchen-dir-parallel", source: "03-kitchen-dir-parallel", kitchen: true},
	{name: "04-kitchen-zstd", source: "04-kitchen-zstd", kitchen: true,
		decode: func(testing.TB, string) *stream.Options { return &stream.Options{Compress: true} }},
	{name: "05-kitchen-aes128-keyfile", source: "05-kitchen-aes128-keyfile", kitchen: true,
		decode: keyFileOpts(stream.AES128, false)},
	{name: "06-kitchen-zstd-aes256-env", source: "06-kitchen-zstd-aes256-env", kitchen: true,
		env: func(dir string) []string {
			b, _ := os.ReadFile(filepath.Join(dir, "env-key.txt"))
			return []string{"ASB_ENCRYPTION_KEY=" + strings.TrimSpace(string(b))}
		},
		decode: envKeyOpts(stream.AES256, true)},
	{name: "07-large-dir", source: "07-large-dir"},
	{name: "08-kitchen-no-bins", source: "01-kitchen-file", kitchen: true},
	{name: "09-kitchen-set-bins", source: "01-kitchen-file", kitchen: true},
	{name: "10-kitchen-no-records", source: "01-kitchen-file", kitchen: true},
}

// caseArgs returns the asbackup arguments of a case's cmd.txt with the
// host and port of our server.
func caseArgs(t testing.TB, dir string, srv *asdsim.Server) []string {
	data, err := os.ReadFile(filepath.Join(dir, "cmd.txt"))
	if err != nil {
		t.Fatal(err)
	}
	line := strings.SplitN(string(data), "\n", 2)[0]
	_, rest, ok := strings.Cut(line, "asbackup ")
	if !ok {
		t.Fatalf("bad cmd.txt %q", line)
	}
	f := strings.Fields(rest)
	for i := 0; i+1 < len(f); i++ {
		switch f[i] {
		case "-h":
			f[i+1] = srv.Host()
		case "-p":
			f[i+1] = fmt.Sprint(srv.Port())
		}
	}
	return f
}

// goldenIndexDef is an index of expected.jsonl: what the real server held.
type goldenIndexDef struct {
	Set, Exp string
}

// goldenIndexDefs reads the index lines of an expected.jsonl file.
func goldenIndexDefs(t testing.TB, path string) map[string]goldenIndexDef {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]goldenIndexDef{}
	for _, line := range strings.Split(string(data), "\n") {
		var m struct {
			SIndex *string `json:"sindex"`
			Set    string  `json:"set"`
			Exp    string  `json:"exp"`
		}
		if json.Unmarshal([]byte(line), &m) != nil || m.SIndex == nil {
			continue
		}
		out[*m.SIndex] = goldenIndexDef{Set: m.Set, Exp: m.Exp}
	}
	return out
}

// splitEscaped splits a line at unescaped spaces, keeping the tokens as
// written.
func splitEscaped(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case ' ':
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// fixLegacyGlobal applies the documented corrections (docs/compat.md) to a
// legacy global line, as text: an index without a set (on the server) is
// written with an empty set instead of "null", and an expression index
// becomes a "* e" line with an empty bin path and the expression appended,
// e.g. "* i test kitchen kit_exp N 1 null N" becomes
// "* e test kitchen kit_exp N 1  N kxSTUQKhaQE=". expr reports the latter.
func fixLegacyGlobal(t testing.TB, g string, defs map[string]goldenIndexDef) (fixed string, expr bool) {
	if !strings.HasPrefix(g, "* i ") {
		return g, false
	}
	f := splitEscaped(strings.TrimSuffix(g, "\n"))
	if len(f) < 9 {
		t.Fatalf("short index line %q", g)
	}
	def, ok := defs[f[4]]
	if !ok {
		t.Fatalf("index %s of %q is not in expected.jsonl", f[4], g)
	}
	if f[3] == "null" && def.Set == "" {
		f[3] = ""
	}
	if def.Exp != "" {
		if f[6] != "1" || f[7] != "null" {
			t.Fatalf("legacy expression index line %q has a bin path", g)
		}
		f[1], f[7] = "e", ""
		f = append(f, def.Exp)
		expr = true
	}
	return strings.Join(f, " ") + "\n", expr
}

// legacyExpected applies the documented deviations to the legacy files'
// text: fixed global lines and "Version 3.2" for a file holding an
// expression index. delta is the change of each file's length.
func legacyExpected(t testing.TB, legacy []*asbText, defs map[string]goldenIndexDef) (want []*asbText, delta []int) {
	for _, f := range legacy {
		w := *f
		w.Header = append([]string(nil), f.Header...)
		w.Globals = nil
		expr := false
		d := 0
		for _, g := range f.Globals {
			fg, e := fixLegacyGlobal(t, g, defs)
			expr = expr || e
			w.Globals = append(w.Globals, fg)
			d += len(fg) - len(g)
		}
		if expr {
			if w.Header[0] != "Version 3.1" {
				t.Fatalf("legacy header %q", w.Header)
			}
			w.Header[0] = "Version 3.2"
		}
		w.Size += d
		want = append(want, &w)
		delta = append(delta, d)
	}
	return want, delta
}

// scanTexts reads decoded backup texts with scanASB.
func scanTexts(t testing.TB, texts [][]byte, names []string) []*asbText {
	t.Helper()
	var out []*asbText
	for i, txt := range texts {
		s, err := scanASB(txt)
		if err != nil {
			t.Fatalf("%s: %v", names[i], err)
		}
		out = append(out, s)
	}
	return out
}

// digestKey identifies a file by the digests of its records.
func digestKey(f *asbText) string {
	var d []string
	for _, r := range f.Records {
		d = append(d, r.Digest)
	}
	sort.Strings(d)
	return strings.Join(d, ",")
}

// pairFiles pairs each of our files with the legacy file holding the same
// records (directory-mode jobs back up fixed partition ranges, one file
// each here), returning the legacy index of each of ours.
func pairFiles(t testing.TB, ours, legacy []*asbText) []int {
	t.Helper()
	if len(ours) != len(legacy) {
		t.Fatalf("%d backup files, legacy wrote %d", len(ours), len(legacy))
	}
	if len(ours) == 1 {
		return []int{0}
	}
	byKey := map[string]int{}
	for i, f := range legacy {
		byKey[digestKey(f)] = i
	}
	var out []int
	for i, f := range ours {
		j, ok := byKey[digestKey(f)]
		if !ok {
			t.Fatalf("our file %d holds records of no single legacy file", i)
		}
		out = append(out, j)
	}
	return out
}

// recordTexts returns the record blocks of a file.
func recordTexts(f *asbText) []string {
	var out []string
	for _, r := range f.Records {
		out = append(out, r.Text)
	}
	return out
}

func TestBackupGoldenCases(t *testing.T) {
	for _, gc := range goldenBackupCases {
		t.Run(gc.name, func(t *testing.T) {
			dir := caseDir(t, gc.name)
			var decodeOpts *stream.Options
			if gc.decode != nil {
				decodeOpts = gc.decode(t, dir)
			}
			// UDF modules of the source case (expected.jsonl holds only
			// their digests).
			var udfs []asb.UDF
			for _, f := range caseFiles(t, caseDir(t, gc.source)) {
				_, _, u := backupRecords(t, f, nil)
				udfs = append(udfs, u...)
			}
			legacyFiles := []string{}
			if _, err := os.Stat(filepath.Join(dir, "backup.asb")); err == nil {
				legacyFiles = append(legacyFiles, filepath.Join(dir, "backup.asb"))
			} else {
				legacyFiles = caseFiles(t, dir)
			}
			var legacyText [][]byte
			for _, f := range legacyFiles {
				legacyText = append(legacyText, decodeFile(t, f, decodeOpts))
			}
			// The independent reading of the legacy files must give the
			// corpus's summary.
			legacy := scanTexts(t, legacyText, legacyFiles)
			summary, err := os.ReadFile(filepath.Join(dir, "summary.txt"))
			if err != nil {
				t.Fatal(err)
			}
			if got := asbSummary(legacy); got != string(summary) {
				t.Fatalf("the test's reading of the legacy backup does not give summary.txt\n--- got\n%s--- want\n%s", got, summary)
			}

			srv := startServer(t, asdsim.Config{})
			seedCanon(t, srv, filepath.Join(dir, "expected.jsonl"), legacyText)
			if gc.kitchen {
				seedMeta(t, srv, kitchenIndexes(t), udfs)
			}

			work := t.TempDir()
			for _, f := range []string{"key.pem"} {
				if b, err := os.ReadFile(filepath.Join(dir, f)); err == nil {
					os.WriteFile(filepath.Join(work, f), b, 0o600)
				}
			}
			var env []string
			if gc.env != nil {
				env = gc.env(dir)
			}
			// Legacy takes no in-run checkpoints; one would flush partial
			// blocks and move the byte figures of the log (compat.md), in
			// runs that last longer than a second.
			env = append(env, "ASBACKUP_CHECKPOINT_MS=-1")
			res := runTool(t, "asbackup", work, env, caseArgs(t, dir, srv)...)
			if res.code != 0 {
				t.Fatalf("asbackup exit %d\n%s", res.code, res.stderr)
			}
			var ourFiles []string
			if _, err := os.Stat(filepath.Join(work, "backup.asb")); err == nil {
				ourFiles = []string{filepath.Join(work, "backup.asb")}
			} else {
				ourFiles, _ = filepath.Glob(filepath.Join(work, "backup", "*.asb"))
			}
			var ourText [][]byte
			for _, f := range ourFiles {
				ourText = append(ourText, decodeFile(t, f, decodeOpts))
			}
			ours := scanTexts(t, ourText, ourFiles)
			want, delta := legacyExpected(t, legacy, goldenIndexDefs(t, filepath.Join(dir, "expected.jsonl")))

			// Each file: header lines exactly, global lines and record
			// blocks byte for byte (in any order).
			for i, j := range pairFiles(t, ours, want) {
				o, w := ours[i], want[j]
				if strings.Join(o.Header, "\n") != strings.Join(w.Header, "\n") {
					t.Errorf("%s: header %q, want %q (legacy %s)", filepath.Base(ourFiles[i]), o.Header, w.Header, filepath.Base(legacyFiles[j]))
				}
				compareBlocks(t, "global line", append([]string(nil), o.Globals...), append([]string(nil), w.Globals...))
				compareBlocks(t, "record", recordTexts(o), recordTexts(w))
			}

			// The summary of our backup: summary.txt, with the versions of
			// the corrected headers.
			wantSummary := strings.Replace(string(summary), "versions=3.1 ", "versions="+summaryVersions(want)+" ", 1)
			if got := asbSummary(ours); got != wantSummary {
				t.Errorf("summary differs\n--- got\n%s--- want\n%s", got, wantSummary)
			}

			compareBackupLog(t, dir, srv, res.stderr, legacy, delta, ourFiles, decodeOpts)
		})
	}
}

// summaryVersions is the versions field of a summary of files.
func summaryVersions(files []*asbText) string {
	s := asbSummary(files)
	_, rest, _ := strings.Cut(s, "versions=")
	v, _, _ := strings.Cut(rest, " ")
	return v
}

var (
	jobDoneRE   = regexp.MustCompile(`^(<TS> \[INF\] \[TID\] Completed backup for (?:\d+ partitions from (\d+) to (\d+)|partition (\d+)), records: (\d+), size: )(\d+) \(~(\d+) B/rec\)$`)
	bkTotalRE   = regexp.MustCompile(`^(<TS> \[INF\] \[TID\] Backed up (\d+) record\(s\), \d+ secondary index\(es\), \d+ UDF file\(s\), )(\d+) byte\(s\) in total \(~(\d+) B/rec\)$`)
	progressRE  = regexp.MustCompile(`^<TS> \[INF\] \[TID\] (\d+% complete \(~<N> KiB/s, ~<N> rec/s, ~\d+ B/rec\)|~<ETA> remaining)$`)
	jobStartRE  = regexp.MustCompile(`^<TS> \[INF\] \[TID\] Starting backup for `)
	addNodeAddr = regexp.MustCompile(` Add node (\S+) \S+$`)
)

// committedBytes is what legacy counts as written to a file after T bytes
// of text when the file is not compressed: its io proxy hands text on in
// 4 KiB blocks (io_proxy.c, IO_PROXY_DEFAULT_BUFFER_SIZE) and counts the
// bytes handed to the file (byte_cnt), the 16-byte IV of an encrypted file
// included once the first block went out.
func committedBytes(text int, aes bool) int {
	n := text / 4096 * 4096
	if aes && n > 0 {
		n += 16
	}
	return n
}

func perRec(bytes, recs int) int {
	if recs == 0 {
		return 0
	}
	return bytes / recs
}

// partitionOf is the partition of a base64 digest.
func partitionOf(t testing.TB, d string) int {
	b, err := base64.StdEncoding.DecodeString(d)
	if err != nil || len(b) != 20 {
		t.Fatalf("bad digest %q", d)
	}
	return (int(b[0]) | int(b[1])<<8) & 4095
}

// compareBackupLog compares asbackup's stderr line by line with the case's
// backup.log under the documented normalisations (docs/compat.md): time
// stamps, thread ids, rates and ETA; the node id and the server address;
// the lines of parallel jobs in any order; the progress lines, which the
// once-a-second progress thread prints or not depending on timing; the
// byte figures moved by the documented changes of the global lines; and,
// for compressed files, the byte figures other than a job's 0 (they count
// compressed bytes, see compat.md), which are checked against our files
// instead.
func compareBackupLog(t *testing.T, dir string, srv *asdsim.Server, stderr string, legacy []*asbText, delta []int, ourFiles []string, opts *stream.Options) {
	t.Helper()
	logData, err := os.ReadFile(filepath.Join(dir, "backup.log"))
	if err != nil {
		t.Fatal(err)
	}
	compressed := opts != nil && opts.Compress
	aes := opts != nil && opts.Cipher != stream.None
	parallel := false
	var want []string
	for _, l := range strings.Split(strings.TrimSuffix(string(logData), "\n"), "\n") {
		if progressRE.MatchString(l) {
			continue
		}
		if m := jobDoneRE.FindStringSubmatch(l); m != nil {
			recs, _ := strconv.Atoi(m[5])
			size, _ := strconv.Atoi(m[6])
			// The job's file: the only one, or the one holding its
			// partitions' records.
			fi := 0
			if len(legacy) > 1 {
				lo, hi := m[2], m[3]
				if m[4] != "" {
					lo, hi = m[4], m[4]
				}
				a, _ := strconv.Atoi(lo)
				b, _ := strconv.Atoi(hi)
				fi = -1
				for i, f := range legacy {
					if len(f.Records) > 0 {
						if p := partitionOf(t, f.Records[0].Digest); p >= a && p <= b {
							fi = i
						}
					}
				}
				if fi < 0 {
					t.Fatalf("no legacy file holds the records of %q", l)
				}
			}
			if compressed {
				// Legacy's 0 (nothing handed to the file yet) is
				// compared as it is; other figures are compressed sizes.
				if size != 0 {
					l = m[1] + "<SIZE> (~<N> B/rec)"
				}
			} else {
				if got := committedBytes(legacy[fi].Size, aes); got != size {
					t.Fatalf("the rule gives %d for %q (file text %d bytes)", got, l, legacy[fi].Size)
				}
				s := committedBytes(legacy[fi].Size+delta[fi], aes)
				l = fmt.Sprintf("%s%d (~%d B/rec)", m[1], s, perRec(s, recs))
			}
		} else if m := bkTotalRE.FindStringSubmatch(l); m != nil {
			recs, _ := strconv.Atoi(m[2])
			total, _ := strconv.Atoi(m[3])
			if compressed {
				l = m[1] + "<SIZE> byte(s) in total (~<N> B/rec)"
			} else {
				sum, fixed := 0, 0
				for i, f := range legacy {
					sum += f.Size
					fixed += f.Size + delta[i]
					if aes {
						sum += 16
						fixed += 16
					}
				}
				if sum != total {
					t.Fatalf("legacy total %d, its files hold %d", total, sum)
				}
				l = fmt.Sprintf("%s%d byte(s) in total (~%d B/rec)", m[1], fixed, perRec(fixed, recs))
			}
		} else if jobStartRE.MatchString(l) && strings.Contains(string(logData), "Starting backup for 1024 partitions") {
			parallel = true
		}
		want = append(want, addNodeAddr.ReplaceAllString(l, " Add node $1 <ADDR>"))
	}
	want = nodeIDs(want)

	onDisk := 0
	for _, f := range ourFiles {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		onDisk += int(st.Size())
	}
	// With zstd alone, bytes are handed to a file a block at a time: a
	// job's figure is 0 or where a block of the file ends (read by the
	// test's own parser).
	var blockEnds map[int]bool
	if compressed && !aes && len(ourFiles) == 1 {
		data, err := os.ReadFile(ourFiles[0])
		if err != nil {
			t.Fatal(err)
		}
		ends, err := zstdBlockEnds(data)
		if err != nil {
			t.Fatalf("%s: %v", ourFiles[0], err)
		}
		blockEnds = map[int]bool{0: true}
		for _, e := range ends {
			blockEnds[e] = true
		}
	}
	var got []string
	for _, l := range nodeIDs(normalizeBackupLog(stderr)) {
		if progressRE.MatchString(l) {
			continue
		}
		l = addNodeAddr.ReplaceAllString(l, " Add node $1 <ADDR>")
		if compressed {
			if m := jobDoneRE.FindStringSubmatch(l); m != nil {
				size, _ := strconv.Atoi(m[6])
				if size > onDisk || (blockEnds != nil && !blockEnds[size]) {
					t.Errorf("job size %d: not where a block of the %d-byte file ends", size, onDisk)
				}
				if size != 0 {
					l = m[1] + "<SIZE> (~<N> B/rec)"
				}
			} else if m := bkTotalRE.FindStringSubmatch(l); m != nil {
				if total, _ := strconv.Atoi(m[3]); total != onDisk {
					t.Errorf("total %d bytes, the files hold %d", total, onDisk)
				}
				l = m[1] + "<SIZE> byte(s) in total (~<N> B/rec)"
			}
		}
		got = append(got, l)
	}
	same := sameLines(got, want, parallel)
	if parallel && same {
		// Only the jobs' lines may move.
		var g, w []string
		for _, l := range got {
			if !jobStartRE.MatchString(l) && !jobDoneRE.MatchString(l) {
				g = append(g, l)
			}
		}
		for _, l := range want {
			if !jobStartRE.MatchString(l) && !jobDoneRE.MatchString(l) {
				w = append(w, l)
			}
		}
		same = sameLines(g, w, false)
	}
	if !same {
		t.Errorf("log differs from backup.log\n--- got\n%s\n--- want\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// compareBlocks compares two multisets of byte blocks.
func compareBlocks(t testing.TB, what string, got, want []string) {
	t.Helper()
	sort.Strings(got)
	sort.Strings(want)
	count := map[string]int{}
	for _, w := range want {
		count[w]++
	}
	for _, g := range got {
		count[g]--
	}
	bad := 0
	for b, n := range count {
		if n != 0 && bad < 5 {
			bad++
			if n > 0 {
				t.Errorf("%s missing from our output:\n%q", what, b)
			} else {
				t.Errorf("unexpected %s in our output:\n%q", what, b)
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d %ss, legacy has %d", len(got), what, len(want))
	}
}

// zstdFrames returns the length of every zstd frame of data, read from the
// frame and block headers (RFC 8878 §3.1.1).
func zstdFrames(data []byte) ([]int, error) {
	var out []int
	p := 0
	need := func(n int) error {
		if p+n > len(data) {
			return fmt.Errorf("zstd frame cut short at offset %d", p)
		}
		return nil
	}
	for p < len(data) {
		start := p
		if err := need(6); err != nil {
			return nil, err
		}
		if binary.LittleEndian.Uint32(data[p:]) != 0xFD2FB528 {
			return nil, fmt.Errorf("no zstd frame at offset %d", p)
		}
		fhd := data[p+4]
		p += 5
		single := fhd>>5&1 == 1
		if !single {
			p++ // window descriptor
		}
		p += []int{0, 1, 2, 4}[fhd&3] // dictionary id
		fcs := []int{0, 2, 4, 8}[fhd>>6]
		if fcs == 0 && single {
			fcs = 1
		}
		p += fcs
		for {
			if err := need(3); err != nil {
				return nil, err
			}
			h := int(data[p]) | int(data[p+1])<<8 | int(data[p+2])<<16
			p += 3
			size := h >> 3
			if h>>1&3 == 1 { // RLE block: one byte
				size = 1
			}
			if err := need(size); err != nil {
				return nil, err
			}
			p += size
			if h&1 == 1 {
				break
			}
		}
		if fhd>>2&1 == 1 {
			p += 4 // checksum
		}
		if err := need(0); err != nil {
			return nil, err
		}
		out = append(out, p-start)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no zstd frame")
	}
	return out, nil
}

// zstdBlockEnds returns the offset where each block of data's zstd frames
// ends.
func zstdBlockEnds(data []byte) ([]int, error) {
	var out []int
	p := 0
	for p < len(data) {
		if p+6 > len(data) || binary.LittleEndian.Uint32(data[p:]) != 0xFD2FB528 {
			return nil, fmt.Errorf("no zstd frame at offset %d", p)
		}
		fhd := data[p+4]
		p += 5
		single := fhd>>5&1 == 1
		if !single {
			p++
		}
		p += []int{0, 1, 2, 4}[fhd&3]
		fcs := []int{0, 2, 4, 8}[fhd>>6]
		if fcs == 0 && single {
			fcs = 1
		}
		p += fcs
		for {
			if p+3 > len(data) {
				return nil, fmt.Errorf("zstd block header cut short at offset %d", p)
			}
			h := int(data[p]) | int(data[p+1])<<8 | int(data[p+2])<<16
			p += 3
			size := h >> 3
			if h>>1&3 == 1 {
				size = 1
			}
			p += size
			if p > len(data) {
				return nil, fmt.Errorf("zstd block cut short at offset %d", p)
			}
			last := h&1 == 1
			if last && fhd>>2&1 == 1 {
				p += 4
			}
			out = append(out, p)
			if last {
				break
			}
		}
	}
	return out, nil
}
