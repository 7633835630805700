package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"asbtools/asb"
	"asbtools/asdsim"
	"asbtools/infocmd"
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

// legacyGlobalsFixed applies the documented corrections (docs/compat.md)
// to the legacy global lines: an index without a set is written with an
// empty set instead of "null", and an expression index keeps its
// expression ("* e" line) instead of becoming a plain index on bin "null".
func legacyGlobalsFixed(t testing.TB, globals []string, indexes []infocmd.SIndex) []string {
	byName := map[string]*infocmd.SIndex{}
	for i := range indexes {
		byName[indexes[i].Name] = &indexes[i]
	}
	var out []string
	for _, g := range globals {
		if strings.HasPrefix(g, "* i ") {
			f := strings.SplitN(g, " ", 6)
			if ix := byName[f[4]]; ix != nil {
				if ix.Set == "" && f[3] == "null" {
					g = strings.Replace(g, " null ", "  ", 1)
				}
				if ix.Expression != "" {
					var b bytes.Buffer
					w := asb.NewWriter(&b)
					if err := w.WriteHeader(&asb.Header{Version: asb.Version32}); err != nil {
						t.Fatal(err)
					}
					if err := w.WriteIndex(&ix.Index); err != nil {
						t.Fatal(err)
					}
					w.Flush()
					g = strings.SplitN(b.String(), "\n", 2)[1]
				}
			}
		}
		out = append(out, g)
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
			srv := startServer(t, asdsim.Config{})
			seedCanon(t, srv, filepath.Join(dir, "expected.jsonl"), legacyText)
			var indexes []infocmd.SIndex
			if gc.kitchen {
				indexes = kitchenIndexes(t)
				seedMeta(t, srv, indexes, udfs)
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
			if len(ourFiles) != len(legacyFiles) {
				t.Errorf("%d backup files, legacy wrote %d", len(ourFiles), len(legacyFiles))
			}
			collect := func(texts [][]byte, names []string) (firsts int, globals, records []string) {
				for i, txt := range texts {
					h, g, r := fileBlocks(t, txt, names[i])
					if strings.Contains(h, "# first-file\n") {
						firsts++
					}
					globals = append(globals, g...)
					records = append(records, r...)
				}
				return
			}
			var ourText [][]byte
			for _, f := range ourFiles {
				ourText = append(ourText, decodeFile(t, f, decodeOpts))
			}
			of, og, or := collect(ourText, ourFiles)
			lf, lg, lr := collect(legacyText, legacyFiles)
			if of != 1 || lf != 1 {
				t.Errorf("first-file markers: ours %d, legacy %d", of, lf)
			}
			lg = legacyGlobalsFixed(t, lg, indexes)
			compareBlocks(t, "global line", og, lg)
			compareBlocks(t, "record", or, lr)
		})
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
