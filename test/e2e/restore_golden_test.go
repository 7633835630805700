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
			// What the server holds is judged against expected.jsonl (the
			// data the legacy backup was taken from) through the
			// independent canonical rendering of canon_test.go.
			expFile := "expected.jsonl"
			if c.name == "09-kitchen-set-bins" {
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
			if c.name == "08-kitchen-no-bins" || c.name == "10-kitchen-no-records" {
				// --no-bins records cannot be restored (legacy: skipped),
				// and a --no-records backup holds none.
				restorable = 0
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
				if len(rec.Bins) > 0 && (rec.VoidTime == 0 || rec.VoidTime > now) {
					inBackup++
				}
			}
			if inBackup != len(got) {
				t.Errorf("server holds %d records, the backup has %d restorable ones", len(got), inBackup)
			}
			restored := len(got)
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
