package e2e

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"asbtools/asb"
	"asbtools/asdsim"
	"asbtools/asdsim/asbload"
	"asbtools/stream"
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
			// The records the backup holds.
			var recs []*asb.Record
			var idx []asb.Index
			var udfs []asb.UDF
			switch {
			case c.dir:
				files, _ := filepath.Glob(filepath.Join(caseDir, "backup", "*.asb"))
				for _, f := range files {
					r, i, u := backupRecords(t, f, nil)
					recs, idx, udfs = append(recs, r...), append(idx, i...), append(udfs, u...)
				}
			case c.plain != "":
				recs, idx, udfs = backupRecords(t, filepath.Join(caseDir, c.plain), nil)
			default:
				recs, idx, udfs = backupRecords(t, filepath.Join(caseDir, "backup.asb"), nil)
			}
			exp := loadExpected(t, filepath.Join(caseDir, "expected.jsonl"))
			now := uint32(time.Now().Unix() - 1262304000)
			restored := 0
			for _, rec := range recs {
				got, ok := srv.Get("test", rec.Digest)
				want := asbload.Record(rec).Bins
				if len(want) == 0 || (rec.VoidTime != 0 && rec.VoidTime <= now) {
					if ok {
						t.Errorf("record %x restored although it has no bins or expired", rec.Digest)
					}
					continue
				}
				if !ok {
					t.Errorf("record %x (line %d) missing", rec.Digest, rec.Line)
					continue
				}
				restored++
				if got.Set != string(rec.Set) {
					t.Errorf("record %x: set %q, want %q", rec.Digest, got.Set, rec.Set)
				}
				if (got.Key != nil) != (rec.Key.Type != asb.KeyNone) {
					t.Errorf("record %x: stored key %v, backup key type %q", rec.Digest, got.Key, rec.Key.Type)
				}
				if same, why := sameBins(got.Bins, want); !same {
					t.Errorf("record %x: %s", rec.Digest, why)
				}
				if d := int64(got.VoidTime) - int64(rec.VoidTime); d < -1 || d > 1 {
					t.Errorf("record %x: void time %d, backup %d", rec.Digest, got.VoidTime, rec.VoidTime)
				}
				e, ok := exp.records[rec.Digest]
				if !ok {
					t.Errorf("record %x not in expected.jsonl", rec.Digest)
					continue
				}
				if d := int64(got.VoidTime) - int64(e.VoidTime); d < -1 || d > 1 {
					t.Errorf("record %x: void time %d, expected.jsonl %d", rec.Digest, got.VoidTime, e.VoidTime)
				}
				wantSet := ""
				if e.Set != nil {
					wantSet = *e.Set
				}
				if got.Set != wantSet {
					t.Errorf("record %x: set %q, expected.jsonl %q", rec.Digest, got.Set, wantSet)
				}
				if (e.Key != nil && string(*e.Key) != "null") != (got.Key != nil) {
					t.Errorf("record %x: key presence differs from expected.jsonl", rec.Digest)
				}
				if c.name != "09-kitchen-set-bins" && len(e.Bins) != len(got.Bins) {
					t.Errorf("record %x: %d bins, expected.jsonl %d", rec.Digest, len(got.Bins), len(e.Bins))
				}
			}
			if n := len(srv.Records("test")); n != restored {
				t.Errorf("server holds %d records, want %d", n, restored)
			}
			if c.name != "08-kitchen-no-bins" && c.name != "09-kitchen-set-bins" && c.name != "10-kitchen-no-records" && restored != len(exp.records) {
				t.Errorf("restored %d records, expected.jsonl has %d", restored, len(exp.records))
			}
			var gotIdx, wantIdx []string
			for _, si := range srv.SIndexes() {
				gotIdx = append(gotIdx, si.Name)
			}
			for _, ix := range idx {
				wantIdx = append(wantIdx, ix.Name)
			}
			sort.Strings(gotIdx)
			sort.Strings(wantIdx)
			if strings.Join(gotIdx, ",") != strings.Join(wantIdx, ",") {
				t.Errorf("indexes %v, want %v", gotIdx, wantIdx)
			}
			for _, si := range srv.SIndexes() {
				if si.Set == "null" {
					t.Errorf("index %s created on set \"null\"", si.Name)
				}
			}
			srvUDF := map[string]string{}
			for _, u := range srv.UDFs() {
				srvUDF[u.Name] = string(u.Content)
			}
			if len(srvUDF) != len(udfs) {
				t.Errorf("%d UDFs, want %d", len(srvUDF), len(udfs))
			}
			for _, u := range udfs {
				if srvUDF[u.Name] != string(u.Content) {
					t.Errorf("UDF %s content differs", u.Name)
				}
			}
			if !strings.Contains(res.stderr, "inserted "+strconv.Itoa(restored)+":") {
				t.Errorf("summary does not report %d inserted:\n%s", restored, res.stderr)
			}
		})
	}
}

var _ = stream.Options{}
