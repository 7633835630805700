package e2e

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"asbtools/asdsim"
)

// TestRestoreExtraTTL restores the legacy kitchen backup with --extra-ttl
// and judges the void times the server holds against expected.jsonl: a
// record that expires is stored with its void time moved by the extra TTL
// (up to about a year: the server refuses TTLs beyond ten years), one
// that never expires stays so. The void times of the kitchen data lie
// ahead and the option takes no negative value on the command line, so no
// record is skipped as expired here.
func TestRestoreExtraTTL(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "test", "golden", "legacy-4.5.8", "01-kitchen-file")
	exp := loadCanon(t, filepath.Join(dir, "expected.jsonl"))
	for _, extra := range []int64{0, 86400, 30000000} {
		t.Run(strconv.FormatInt(extra, 10), func(t *testing.T) {
			srv := startServer(t, asdsim.Config{})
			res := runTool(t, "asrestore", dir, nil, "-h", srv.Host(), "-p", strconv.Itoa(srv.Port()),
				"-i", "backup.asb", "--extra-ttl", strconv.FormatInt(extra, 10))
			if res.code != 0 {
				t.Fatalf("exit %d\n%s", res.code, res.stderr)
			}
			now := time.Now().Unix() - asdsim.CitrusleafEpoch
			want := 0
			for _, e := range exp {
				if len(e.Bins) > 0 && (e.VoidTime == 0 || int64(e.VoidTime)+extra > now) {
					want++
				}
			}
			got := srv.Records("test")
			if len(got) != want {
				t.Errorf("server holds %d records, want %d", len(got), want)
			}
			for _, g := range got {
				e, ok := exp[g.Digest]
				if !ok {
					t.Fatalf("record %x not in expected.jsonl", g.Digest)
				}
				if e.VoidTime == 0 {
					if g.VoidTime != 0 {
						t.Errorf("record %x never expires, restored with void time %d", g.Digest, g.VoidTime)
					}
					continue
				}
				if d := int64(g.VoidTime) - (int64(e.VoidTime) + extra); d < -2 || d > 2 {
					t.Errorf("record %x: void time %d, want %d + %d", g.Digest, g.VoidTime, e.VoidTime, extra)
				}
			}
		})
	}
}
