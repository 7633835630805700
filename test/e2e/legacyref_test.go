package e2e

// Tests judged by files the legacy 4.5.8 asbackup wrote against asdsim
// (test/golden/legacy-asdsim, see MANIFEST.md): encrypted backups decoded
// here without package stream, and .state files of interrupted legacy
// backups resumed by our asbackup.

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"asbtools/asdsim"
	"asbtools/state"
	"asbtools/stream"
)

// refCodec is what the asbackup arguments of a legacy-made case say about
// its stream, with the key material of state-and-streams.md B.3 derived
// here (not by package stream).
type refCodec struct {
	zstd     bool
	bits     int // 0 (no encryption), 128 or 256
	material []byte
}

// refCodecOf reads the -z/-y/--encryption-key-* arguments; key files and
// env-key.txt are read from dir.
func refCodecOf(t testing.TB, dir string, args []string) refCodec {
	t.Helper()
	var c refCodec
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "-z", "--compress":
			c.zstd = args[i+1] == "zstd"
		case "-y", "--encrypt":
			switch args[i+1] {
			case "aes128":
				c.bits = 128
			case "aes256":
				c.bits = 256
			}
		case "--encryption-key-file":
			data, err := os.ReadFile(filepath.Join(dir, args[i+1]))
			if err != nil {
				t.Fatal(err)
			}
			blk, _ := pem.Decode(data)
			if blk == nil {
				t.Fatalf("%s: no PEM block", args[i+1])
			}
			k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
			if err != nil {
				t.Fatalf("%s: %v", args[i+1], err)
			}
			switch k := k.(type) {
			case *ecdsa.PrivateKey:
				c.material, err = x509.MarshalECPrivateKey(k)
			case *rsa.PrivateKey:
				c.material = x509.MarshalPKCS1PrivateKey(k)
			default:
				t.Fatalf("%s: key type %T", args[i+1], k)
			}
			if err != nil {
				t.Fatal(err)
			}
		case "--encryption-key-env":
			data, err := os.ReadFile(filepath.Join(dir, "env-key.txt"))
			if err != nil {
				t.Fatal(err)
			}
			c.material, err = base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	return c
}

// key is SHA-256(K) cut to the cipher's size.
func (c refCodec) key() []byte {
	d := sha256.Sum256(c.material)
	return d[:c.bits/8]
}

// decode turns a backup file's bytes into its text: a 16-byte header
// AES-ECB(key, V), AES-CTR from V+1 over the rest, then every
// concatenated zstd frame.
func (c refCodec) decode(t testing.TB, name string, data []byte) []byte {
	t.Helper()
	var key []byte
	if c.bits != 0 {
		key = c.key()
	}
	return independentDecode(t, name, data, key, c.zstd)
}

func (c refCodec) decodeFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return c.decode(t, path, data)
}

// streamOptions are the options our tools would use for the same stream.
func (c refCodec) streamOptions() *stream.Options {
	if !c.zstd && c.bits == 0 {
		return nil
	}
	o := &stream.Options{Compress: c.zstd}
	switch c.bits {
	case 128:
		o.Cipher = stream.AES128
	case 256:
		o.Cipher = stream.AES256
	}
	if c.bits != 0 {
		o.Key = c.key()
	}
	return o
}

// legacyCmd returns the asbackup arguments of a case's cmd.txt (first line).
func legacyCmd(t testing.TB, dir string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "cmd.txt"))
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	args := strings.Fields(line)
	if len(args) == 0 || args[0] != "asbackup" {
		t.Fatalf("%s/cmd.txt: %q is not an asbackup command", dir, line)
	}
	return args[1:]
}

// TestLegacyMadeEncryptedDecodes decodes the legacy-made AES-256 and
// AES-128+zstd backups independently and checks that our reader yields the
// same text, and that the text is the kitchen data the legacy tool wrote
// from a real server (case 01): the same header and record blocks.
func TestLegacyMadeEncryptedDecodes(t *testing.T) {
	root := filepath.Join(repoRoot(t), "test", "golden")
	kitchen, err := os.ReadFile(filepath.Join(root, "legacy-4.5.8", "01-kitchen-file", "backup.asb"))
	if err != nil {
		t.Fatal(err)
	}
	wantHdr, wantGlobals, wantRecs := fileBlocks(t, kitchen, "01-kitchen-file/backup.asb")
	sort.Strings(wantRecs)
	for _, name := range []string{"11-kitchen-aes256-keyfile", "12-kitchen-zstd-aes128-env"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(root, "legacy-asdsim", name)
			c := refCodecOf(t, dir, legacyCmd(t, dir))
			if c.bits == 0 {
				t.Fatal("case is not encrypted")
			}
			file := filepath.Join(dir, "backup.asb")
			plain := c.decodeFile(t, file)
			ours := decodeFile(t, file, c.streamOptions())
			if !bytes.Equal(plain, ours) {
				t.Fatalf("our reader yields %d bytes that differ from the independent decoding (%d bytes) at byte %d",
					len(ours), len(plain), firstDiff(plain, ours))
			}
			hdr, globals, recs := fileBlocks(t, plain, name)
			if hdr != wantHdr {
				t.Errorf("header %q, want %q", hdr, wantHdr)
			}
			if strings.Join(globals, "") != strings.Join(wantGlobals, "") {
				t.Errorf("index and UDF lines differ from case 01:\n%s", strings.Join(globals, ""))
			}
			// The legacy log's totals describe this file.
			log, err := os.ReadFile(filepath.Join(dir, "backup.log"))
			if err != nil {
				t.Fatal(err)
			}
			nRecs, nIdx, nUDF, nBytes := backedUp(t, log)
			var gotIdx, gotUDF uint64
			for _, g := range globals {
				switch {
				case strings.HasPrefix(g, "* i "):
					gotIdx++
				case strings.HasPrefix(g, "* u "):
					gotUDF++
				}
			}
			fi, _ := os.Stat(file)
			if nRecs != uint64(len(recs)) || nIdx != gotIdx || nUDF != gotUDF || nBytes != uint64(fi.Size()) {
				t.Errorf("log: %d records, %d indexes, %d UDFs, %d bytes; the file: %d, %d, %d, %d",
					nRecs, nIdx, nUDF, nBytes, len(recs), gotIdx, gotUDF, fi.Size())
			}
			sort.Strings(recs)
			if len(recs) != len(wantRecs) {
				t.Fatalf("%d records, case 01 has %d", len(recs), len(wantRecs))
			}
			for i := range recs {
				if recs[i] != wantRecs[i] {
					t.Fatalf("record block differs from case 01:\n%s\nwant:\n%s", recs[i], wantRecs[i])
				}
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// The interrupted legacy backups were taken from this seed.
const (
	legacyStateRecords = 8000
	legacyStateSize    = 100
)

// legacyResume is what resume-legacy.txt says about the legacy tool's own
// resume of a case.
type legacyResume struct {
	log       []string          // log lines (normalised, no progress lines)
	plainHash map[string]string // output file -> SHA-256 of its decoded text
}

func readLegacyResume(t testing.TB, dir string) legacyResume {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "resume-legacy.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := legacyResume{plainHash: map[string]string{}}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# sha256 of their decoded text"):
			section = "plain"
		case strings.HasPrefix(line, "# sha256"):
			section = "raw"
		case strings.HasPrefix(line, "<TS> "):
			r.log = append(r.log, line)
		case section == "plain":
			h, name, ok := strings.Cut(line, "  ")
			if ok {
				r.plainHash[filepath.Clean(name)] = h
			}
		}
	}
	if len(r.log) == 0 || len(r.plainHash) == 0 {
		t.Fatalf("%s/resume-legacy.txt: no log or no hashes", dir)
	}
	return r
}

var logPrefix = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d GMT \[(...)\] \[ *\d+\]`)

// jobLines returns the per-job and final summary lines of a log, sorted
// (parallel jobs finish in any order); with sizes false the byte figures
// (compressed sizes differ between zstd implementations) are cut off.
func jobLines(lines []string, sizes bool) []string {
	var out []string
	for _, l := range lines {
		l = logPrefix.ReplaceAllString(l, "<TS> [$1] [TID]")
		if !strings.Contains(l, "Completed backup for") && !strings.Contains(l, "Backed up ") {
			continue
		}
		if !sizes {
			if i := strings.Index(l, ", size: "); i >= 0 {
				l = l[:i]
			}
			if i := strings.Index(l, " 0 UDF file(s), "); i >= 0 {
				l = l[:i]
			}
		}
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// TestBackupContinueLegacyMadeState resumes, with our asbackup --continue,
// backups that the legacy tool left behind when it was interrupted by
// SIGINT or SIGTERM (directory and -o mode, plain and zstd+AES): every
// record must end up exactly once, the legacy-written bytes must be kept,
// the result must be what the legacy tool's own resume wrote (decoded
// text, record counts, for plain files the sizes), and it must restore.
func TestBackupContinueLegacyMadeState(t *testing.T) {
	root := filepath.Join(repoRoot(t), "test", "golden", "legacy-asdsim")
	cases := []string{"21-dir-sigint", "22-file-sigterm", "23-dir-zstd-aes128-sigint", "24-file-zstd-aes256-sigterm"}
	for _, name := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			golden := filepath.Join(root, name)
			work := t.TempDir()
			copyTree(t, golden, work)
			args := legacyCmd(t, golden)
			c := refCodecOf(t, golden, args)
			lr := readLegacyResume(t, golden)
			log, _ := os.ReadFile(filepath.Join(golden, "backup.log"))
			m := regexp.MustCompile("--continue ([^ `]+)").FindSubmatch(log)
			if m == nil {
				t.Fatal("backup.log names no state file")
			}
			statePath := string(m[1])
			// The files as the legacy tool left them.
			before := map[string][]byte{}
			for rel := range lr.plainHash {
				data, err := os.ReadFile(filepath.Join(golden, rel))
				if err != nil {
					t.Fatal(err)
				}
				before[rel] = data
			}

			srv := startServer(t, asdsim.Config{})
			if err := srv.SeedSynthetic("test", "demo", legacyStateRecords, legacyStateSize); err != nil {
				t.Fatal(err)
			}
			env, _ := os.ReadFile(filepath.Join(golden, "env-key.txt"))
			for i := range args {
				switch args[i] {
				case "-h":
					args[i+1] = srv.Host()
				case "-p":
					args[i+1] = strconv.Itoa(srv.Port())
				case "-L":
					args[i+1] = "0" // no rate limit on the resume
				}
			}
			res := runTool(t, "asbackup", work, []string{"ASB_ENCRYPTION_KEY=" + strings.TrimSpace(string(env))},
				append(args, "--continue", statePath)...)
			if res.code != 0 {
				t.Fatalf("resume: exit %d\n%s", res.code, res.stderr)
			}

			// The legacy-written bytes are kept; each file decodes to the text
			// the legacy resume wrote.
			seen := map[string]int{}
			for rel, old := range before {
				data, err := os.ReadFile(filepath.Join(work, rel))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(data, old) {
					t.Errorf("%s: the %d bytes the legacy tool wrote were changed (first difference at %d)", rel, len(old), firstDiff(old, data))
				}
				text := c.decode(t, rel, data)
				sum := sha256.Sum256(text)
				// In directory mode with --parallel > 1 a job may continue in
				// any of the saved files, so file contents are compared only
				// where one job writes.
				if len(before) == 1 && hex.EncodeToString(sum[:]) != lr.plainHash[rel] {
					t.Errorf("%s: decoded text differs from the legacy resume's (%d bytes)", rel, len(text))
				}
				if !bytes.HasPrefix(text, []byte("Version 3.1\n# namespace test\n# first-file\n")) && len(before) == 1 {
					t.Errorf("%s: header %q", rel, text[:min(len(text), 60)])
				}
				for _, line := range bytes.Split(text, []byte("\n")) {
					if d, ok := bytes.CutPrefix(line, []byte("+ d ")); ok {
						seen[string(d)]++
					}
				}
			}
			if matches, _ := filepath.Glob(filepath.Join(work, "backup", "*.asb")); len(matches) > 0 && len(matches) != len(before) {
				t.Errorf("%d backup files after the resume, the legacy resume has %d", len(matches), len(before))
			}
			dups, missing := 0, 0
			for _, n := range seen {
				if n > 1 {
					dups++
				}
			}
			srv.Each("test", func(r asdsim.Record) bool {
				if seen[base64.StdEncoding.EncodeToString(r.Digest[:])] == 0 {
					missing++
				}
				return true
			})
			if dups != 0 || missing != 0 || len(seen) != legacyStateRecords {
				t.Errorf("records: %d distinct, %d duplicated, %d missing (want %d exactly once)", len(seen), dups, missing, legacyStateRecords)
			}
			// Counts (and for plain files sizes) as the legacy resume printed them.
			got := jobLines(strings.Split(res.stderr, "\n"), c.streamOptions() == nil)
			want := jobLines(lr.log, c.streamOptions() == nil)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("summary lines:\n%s\nlegacy:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}

			// The resumed backup restores to the seeded records.
			dst := startServer(t, asdsim.Config{})
			rargs := []string{"-h", dst.Host(), "-p", strconv.Itoa(dst.Port())}
			if _, err := os.Stat(filepath.Join(work, "backup")); err == nil {
				rargs = append(rargs, "-d", "backup")
			} else {
				rargs = append(rargs, "-i", "backup.asb")
			}
			for i := 0; i+1 < len(args); i++ {
				switch args[i] {
				case "-z", "-y", "--encryption-key-file", "--encryption-key-env":
					rargs = append(rargs, args[i], args[i+1])
				}
			}
			rr := runTool(t, "asrestore", work, []string{"ASB_ENCRYPTION_KEY=" + strings.TrimSpace(string(env))}, rargs...)
			if rr.code != 0 {
				t.Fatalf("restore: exit %d\n%s", rr.code, rr.stderr)
			}
			want2 := srv.Records("test")
			got2 := dst.Records("test")
			if len(got2) != len(want2) {
				t.Fatalf("restored %d records, want %d", len(got2), len(want2))
			}
			for i := range want2 {
				w, g := want2[i], got2[i]
				if w.Digest != g.Digest || w.Set != g.Set || g.Key == nil || !bytes.Equal(w.Key.Data, g.Key.Data) {
					t.Fatalf("restored record %x differs from %x", g.Digest, w.Digest)
				}
				if ok, why := sameBins(g.Bins, w.Bins); !ok {
					t.Fatalf("record %x: %s", w.Digest, why)
				}
			}
		})
	}
}

var backedUpLine = regexp.MustCompile(`Backed up (\d+) record\(s\), (\d+) secondary index\(es\), (\d+) UDF file\(s\), (\d+) byte\(s\) in total`)

// backedUp returns the figures of a log's final "Backed up" line.
func backedUp(t testing.TB, log []byte) (recs, indexes, udfs, bytes uint64) {
	t.Helper()
	m := backedUpLine.FindSubmatch(log)
	if m == nil {
		t.Fatal("no \"Backed up\" line in the log")
	}
	v := make([]uint64, 4)
	for i := range v {
		v[i], _ = strconv.ParseUint(string(m[i+1]), 10, 64)
	}
	return v[0], v[1], v[2], v[3]
}

// TestLegacyMadeStateFields reads the .state files the legacy tool wrote
// with package state and checks them against what else the legacy tool
// left: the totals of its log, the files on disk, the stream flags of its
// arguments and, for plain backups, the partition cursors against the
// records of the text (written plus still buffered): a partition saved
// with a digest ends with that record, and every record of an unfinished
// partition's text precedes it in descending digest order. Our encoder
// must write the same bytes back.
func TestLegacyMadeStateFields(t *testing.T) {
	root := filepath.Join(repoRoot(t), "test", "golden", "legacy-asdsim")
	for _, name := range []string{"21-dir-sigint", "22-file-sigterm", "23-dir-zstd-aes128-sigint", "24-file-zstd-aes256-sigterm"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(root, name)
			args := legacyCmd(t, dir)
			c := refCodecOf(t, dir, args)
			log, err := os.ReadFile(filepath.Join(dir, "backup.log"))
			if err != nil {
				t.Fatal(err)
			}
			m := regexp.MustCompile("--continue ([^ `]+)").FindSubmatch(log)
			if m == nil {
				t.Fatal("backup.log names no state file")
			}
			raw, err := os.ReadFile(filepath.Join(dir, string(m[1])))
			if err != nil {
				t.Fatal(err)
			}
			st, err := state.Read(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(st.Bytes(), raw) {
				t.Errorf("our encoding of the state differs from the legacy file at byte %d", firstDiff(st.Bytes(), raw))
			}
			recs, _, _, total := backedUp(t, log)
			if st.RecTotal != recs || st.ByteTotal != total {
				t.Errorf("state totals %d records, %d bytes; the log says %d, %d", st.RecTotal, st.ByteTotal, recs, total)
			}
			var wantMode uint8
			if c.zstd {
				wantMode |= 0x04
			}
			switch c.bits {
			case 128:
				wantMode |= 0x01
			case 256:
				wantMode |= 0x02
			}
			single := len(args) > 0 && strings.Contains(" "+strings.Join(args, " ")+" ", " -o ")
			var fileRecs, fileBytes, textRecs uint64
			text := map[int][][]byte{} // partition -> digests in text order
			for _, e := range st.Files {
				if e.Mode() != wantMode {
					t.Errorf("%s: mode %#x, want %#x", e.Path, e.Mode(), wantMode)
				}
				fi, err := os.Stat(filepath.Join(dir, e.Path))
				if err != nil {
					t.Fatal(err)
				}
				if uint64(fi.Size()) != e.FilePos || e.ByteCount != e.FilePos {
					t.Errorf("%s: %d bytes on disk, state says file pos %d, byte count %d", e.Path, fi.Size(), e.FilePos, e.ByteCount)
				}
				fileRecs += e.RecCount
				fileBytes += e.ByteCount
				if wantMode != 0 {
					continue
				}
				// Plain: the raw count is what left the text buffer, i.e. the
				// bytes written (legacy counts buffered text only once flushed).
				if e.RawByteCount != e.ByteCount {
					t.Errorf("%s: raw byte count %d, byte count %d", e.Path, e.RawByteCount, e.ByteCount)
				}
				data, _ := os.ReadFile(filepath.Join(dir, e.Path))
				data = append(data, e.Main.Pending()...)
				n := uint64(0)
				for _, line := range bytes.Split(data, []byte("\n")) {
					if d, ok := bytes.CutPrefix(line, []byte("+ d ")); ok {
						dg, err := base64.StdEncoding.DecodeString(string(d))
						if err != nil || len(dg) != 20 {
							t.Fatalf("%s: bad digest line %q", e.Path, line)
						}
						p := int(dg[0]) | int(dg[1])<<8&0x0f00
						text[p] = append(text[p], dg)
						n++
					}
				}
				textRecs += n
				// Legacy keeps per-file record counts in directory mode only.
				if !single && n != e.RecCount {
					t.Errorf("%s: %d records in the text, state says %d", e.Path, n, e.RecCount)
				}
			}
			if single && (len(st.Files) != 1 || st.Files[0].RecCount != 0) {
				t.Errorf("-o mode: %d file entries, want 1 with record count 0 (legacy)", len(st.Files))
			}
			if !single && fileRecs != st.RecTotal {
				t.Errorf("open files hold %d records; total %d", fileRecs, st.RecTotal)
			}
			if fileBytes != st.ByteTotal {
				t.Errorf("open files hold %d bytes; total %d", fileBytes, st.ByteTotal)
			}
			if wantMode == 0 && textRecs != st.RecTotal {
				t.Errorf("the text holds %d records; total %d", textRecs, st.RecTotal)
			}
			if wantMode != 0 {
				return
			}
			for p, ps := range st.Partitions {
				ds := text[p]
				switch ps.Status {
				case state.Complete, state.Incomplete:
					if len(ds) == 0 || !bytes.Equal(ds[len(ds)-1], ps.Digest[:]) {
						t.Errorf("partition %d (%v): saved digest %x is not its last record in the text", p, ps.Status, ps.Digest)
					}
					for i := 1; i < len(ds); i++ {
						if bytes.Compare(ds[i-1], ds[i]) <= 0 {
							t.Errorf("partition %d: records not in descending digest order", p)
						}
					}
				default:
					if len(ds) != 0 {
						t.Errorf("partition %d (%v) has %d records in the text", p, ps.Status, len(ds))
					}
				}
			}
		})
	}
}

// TestRestoreLegacyMadeEncrypted restores the legacy-made AES-256 and
// AES-128+zstd backups with our asrestore and judges the server against
// expected.jsonl through the independent canonical rendering of
// canon_test.go, and its indexes and UDFs against the global lines of the
// text decoded here.
func TestRestoreLegacyMadeEncrypted(t *testing.T) {
	root := filepath.Join(repoRoot(t), "test", "golden", "legacy-asdsim")
	for _, name := range []string{"11-kitchen-aes256-keyfile", "12-kitchen-zstd-aes128-env"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(root, name)
			args := legacyCmd(t, dir)
			c := refCodecOf(t, dir, args)
			srv := startServer(t, asdsim.Config{})
			rargs := []string{"-h", srv.Host(), "-p", strconv.Itoa(srv.Port()), "-i", "backup.asb"}
			for i := 0; i+1 < len(args); i++ {
				switch args[i] {
				case "-z", "-y", "--encryption-key-file", "--encryption-key-env":
					rargs = append(rargs, args[i], args[i+1])
				}
			}
			env, _ := os.ReadFile(filepath.Join(dir, "env-key.txt"))
			res := runTool(t, "asrestore", dir, []string{"ASB_ENCRYPTION_KEY=" + strings.TrimSpace(string(env))}, rargs...)
			if res.code != 0 {
				t.Fatalf("exit %d\n%s", res.code, res.stderr)
			}
			text := c.decodeFile(t, filepath.Join(dir, "backup.asb"))
			files := scanTexts(t, [][]byte{text}, []string{name})
			exp := loadCanon(t, filepath.Join(dir, "expected.jsonl"))
			now := uint32(time.Now().Unix() - asdsim.CitrusleafEpoch)
			restorable := 0
			for _, e := range exp {
				if len(e.Bins) > 0 && (e.VoidTime == 0 || e.VoidTime > now+1) {
					restorable++
				}
			}
			got := srv.Records("test")
			if len(got) != restorable || len(got) != len(files[0].Records) {
				t.Errorf("server holds %d records; expected.jsonl has %d restorable, the backup %d", len(got), restorable, len(files[0].Records))
			}
			bad := 0
			for _, g := range got {
				e, ok := exp[g.Digest]
				if !ok {
					t.Errorf("record %x restored but not in expected.jsonl", g.Digest)
					continue
				}
				if diffs := compareCanon(g, e, 1); len(diffs) > 0 && bad < 10 {
					bad++
					t.Errorf("record %x: %s", g.Digest, strings.Join(diffs, "; "))
				}
			}
			compareRestoredGlobals(t, srv, files[0].Globals)
			if !strings.Contains(res.stderr, "inserted "+strconv.Itoa(len(got))+":") {
				t.Errorf("summary does not report %d inserted:\n%s", len(got), res.stderr)
			}
		})
	}
}
