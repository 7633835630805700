package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"asbtools/asb"
	"asbtools/asdsim"
)

// writeBackup writes records as a single-file backup of namespace ns.
func writeBackup(t testing.TB, path, ns string, recs []*asb.Record) {
	t.Helper()
	var buf bytes.Buffer
	w := asb.NewWriter(&buf)
	if err := w.WriteHeader(&asb.Header{Version: asb.Version31, Meta: []asb.Meta{asb.NamespaceMeta(ns), asb.FirstFileMeta()}}); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.WriteRecord(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// policyRecord builds a backup record with a string key in set "s".
func policyRecord(key string, gen uint16, voidTime uint32, bins ...asb.Bin) *asb.Record {
	d := asdsim.ComputeDigest("s", asdsim.StringKey(key))
	return &asb.Record{Key: asb.Key{Type: asb.KeyString, Bytes: []byte(key)}, Namespace: []byte("test"),
		Digest: d, Set: []byte("s"), HasSet: true, Generation: gen, VoidTime: voidTime, Bins: bins}
}

func intBin(name string, v int64) asb.Bin {
	return asb.Bin{Name: []byte(name), Type: asb.BinInt, Int: v}
}

// summaryCounts extracts the counters of the final summary line.
func summaryCounts(t *testing.T, stderr string) (expired, skipped, ignored, inserted, existed, fresher int) {
	t.Helper()
	lines := strings.Split(stderr, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		if j := strings.Index(l, "Expired "); j >= 0 {
			f := strings.NewReplacer(":", " ", "(", " ", ")", " ", ",", " ").Replace(l[j:])
			var nums []int
			for _, w := range strings.Fields(f) {
				if n, err := strconv.Atoi(w); err == nil {
					nums = append(nums, n)
				}
			}
			if len(nums) != 7 {
				t.Fatalf("bad summary line %q", l)
			}
			return nums[0], nums[1], nums[2], nums[3], nums[5], nums[6]
		}
	}
	t.Fatalf("no summary line in\n%s", stderr)
	return
}

// TestRestoreWritePolicyMatrix checks the documented write policies against
// pre-existing records of lower, equal and higher generation with an extra
// bin.
func TestRestoreWritePolicyMatrix(t *testing.T) {
	dir := t.TempDir()
	const backupGen = 5
	future := uint32(time.Now().Unix()-1262304000) + 86400
	recs := []*asb.Record{
		policyRecord("lower", backupGen, 0, intBin("a", 1)),
		policyRecord("equal", backupGen, 0, intBin("a", 1)),
		policyRecord("higher", backupGen, 0, intBin("a", 1)),
		policyRecord("absent", backupGen, future, intBin("a", 1)),
		policyRecord("expired", backupGen, 1000, intBin("a", 1)),
	}
	path := filepath.Join(dir, "b.asb")
	writeBackup(t, path, "test", recs)

	type want struct {
		inserted, existed, fresher int
		// written names the pre-existing records that must hold a=1
		// afterwards; extra says whether their bin "x" survives.
		written []string
		extra   bool
	}
	cases := []struct {
		name  string
		flags []string
		want  want
	}{
		{"default", nil, want{inserted: 2, fresher: 2, written: []string{"lower"}, extra: true}},
		{"unique", []string{"-u"}, want{inserted: 1, existed: 3}},
		{"replace", []string{"-r"}, want{inserted: 2, fresher: 2, written: []string{"lower"}, extra: false}},
		{"no-generation", []string{"-g"}, want{inserted: 4, written: []string{"lower", "equal", "higher"}, extra: true}},
		{"replace-no-generation", []string{"-r", "-g"}, want{inserted: 4, written: []string{"lower", "equal", "higher"}, extra: false}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := startServer(t, asdsim.Config{})
			for key, gen := range map[string]uint16{"lower": backupGen - 1, "equal": backupGen, "higher": backupGen + 1} {
				err := srv.Put("test", asdsim.Record{Set: "s", Key: asdsim.StringKey(key), Generation: gen,
					Bins: []asdsim.Bin{asdsim.IntBin("a", 0), asdsim.IntBin("x", 9)}})
				if err != nil {
					t.Fatal(err)
				}
			}
			args := append([]string{"-h", srv.Host(), "-p", strconv.Itoa(srv.Port()), "-i", path}, c.flags...)
			res := runTool(t, "asrestore", dir, nil, args...)
			if res.code != 0 {
				t.Fatalf("exit %d\n%s", res.code, res.stderr)
			}
			expired, skipped, ignored, inserted, existed, fresher := summaryCounts(t, res.stderr)
			if expired != 1 || skipped != 0 || ignored != 0 || inserted != c.want.inserted || existed != c.want.existed || fresher != c.want.fresher {
				t.Errorf("counters expired %d skipped %d ignored %d inserted %d existed %d fresher %d, want inserted %d existed %d fresher %d\n%s",
					expired, skipped, ignored, inserted, existed, fresher, c.want.inserted, c.want.existed, c.want.fresher, res.stderr)
			}
			written := map[string]bool{}
			for _, k := range c.want.written {
				written[k] = true
			}
			for _, key := range []string{"lower", "equal", "higher"} {
				got, ok := srv.GetByKey("test", "s", asdsim.StringKey(key))
				if !ok {
					t.Fatalf("record %s vanished", key)
				}
				a, _ := got.Bin("a")
				_, hasX := got.Bin("x")
				wantA := int64(0)
				if written[key] {
					wantA = 1
				}
				if !bytes.Equal(a.Data, asdsim.IntBin("a", wantA).Data) {
					t.Errorf("%s: bin a = %x, want %d", key, a.Data, wantA)
				}
				wantX := !written[key] || c.want.extra
				if hasX != wantX {
					t.Errorf("%s: bin x present %v, want %v", key, hasX, wantX)
				}
			}
			// The record that was not on the server is written under every policy.
			if _, ok := srv.GetByKey("test", "s", asdsim.StringKey("absent")); !ok {
				t.Error(`record "absent" (not on the server before) was not restored`)
			}
			if _, ok := srv.GetByKey("test", "s", asdsim.StringKey("expired")); ok {
				t.Error("expired record was written")
			}
			if got, ok := srv.GetByKey("test", "s", asdsim.StringKey("absent")); ok {
				if d := int64(got.VoidTime) - int64(future); d < -1 || d > 1 {
					t.Errorf("void time %d, want %d", got.VoidTime, future)
				}
				if got.Key == nil {
					t.Error("key not stored")
				}
			}
		})
	}
}

// TestRestoreFaults makes the server fail writes: retried failures are
// restored, exhausted retries fail the run, record-level errors follow
// --ignore-record-error.
func TestRestoreFaults(t *testing.T) {
	dir := t.TempDir()
	var recs []*asb.Record
	for i := 0; i < 300; i++ {
		recs = append(recs, policyRecord("k"+strconv.Itoa(i), 1, 0, intBin("a", int64(i))))
	}
	path := filepath.Join(dir, "b.asb")
	writeBackup(t, path, "test", recs)
	base := func(srv *asdsim.Server) []string {
		return []string{"-h", srv.Host(), "-p", strconv.Itoa(srv.Port()), "-i", path, "--retry-scale-factor", "1000"}
	}
	for _, batch := range []bool{true, false} {
		mode := "batch"
		var extra []string
		if !batch {
			mode = "single"
			extra = []string{"--disable-batch-writes"}
		}
		t.Run(mode+"/transient-retried", func(t *testing.T) {
			srv := startServer(t, asdsim.Config{})
			srv.Faults().FailNextWrites(20, asdsim.ResultCode(18)) // device overload
			res := runTool(t, "asrestore", dir, nil, append(base(srv), extra...)...)
			if res.code != 0 {
				t.Fatalf("exit %d\n%s", res.code, res.stderr)
			}
			if n := srv.Count("test", "s"); n != 300 {
				t.Errorf("%d records restored, want 300", n)
			}
			_, _, _, inserted, _, _ := summaryCounts(t, res.stderr)
			if inserted != 300 {
				t.Errorf("inserted %d", inserted)
			}
			if tot := finalTotals(t, res.stderr); tot.retries == 0 || tot.failed != 0 {
				t.Errorf("retries: %d, failed %d; want retries and no failure\n%s", tot.retries, tot.failed, res.stderr)
			}
		})
		t.Run(mode+"/transient-exhausted", func(t *testing.T) {
			srv := startServer(t, asdsim.Config{})
			srv.Faults().FailNextWrites(100000, asdsim.ResultCode(18))
			res := runTool(t, "asrestore", dir, nil, append(append(base(srv), extra...), "--max-retries", "2")...)
			if res.code != 1 {
				t.Fatalf("exit %d, want 1\n%s", res.code, res.stderr)
			}
			_, _, _, inserted, _, _ := summaryCounts(t, res.stderr)
			if n := srv.Count("test", "s"); n != inserted {
				t.Errorf("server holds %d records, summary says %d inserted", n, inserted)
			}
			// One legacy report of the exhausted retries (the record
			// error first with batch writes), no client text.
			want := []string{"Max key-put retries exceeded (2)"}
			if batch {
				want = []string{"Error while storing record - code 18", "Max batch-write retries exceeded (2)"}
			}
			if e := errMessages(res.stderr); !slices.Equal(e, want) {
				t.Errorf("error lines %q, want %q", e, want)
			}
			assertLogLines(t, res.stderr)
			if tot := finalTotals(t, res.stderr); tot.failed == 0 || tot.inserted+tot.failed != tot.records || tot.retries < 3 {
				t.Errorf("totals %+v: want failed records, inserted+failed = records, at least 3 retries", tot)
			}
		})
		t.Run(mode+"/record-error", func(t *testing.T) {
			srv := startServer(t, asdsim.Config{})
			srv.Faults().FailNextWrites(5, asdsim.ResultCode(13)) // record too big
			res := runTool(t, "asrestore", dir, nil, append(base(srv), extra...)...)
			if res.code != 1 {
				t.Fatalf("exit %d, want 1\n%s", res.code, res.stderr)
			}
			if !strings.Contains(res.stderr, "Error while storing record - code 13") {
				t.Errorf("missing error line\n%s", res.stderr)
			}
			_, _, ignored, inserted, _, _ := summaryCounts(t, res.stderr)
			if ignored < 1 {
				t.Errorf("err_ignored %d", ignored)
			}
			if n := srv.Count("test", "s"); n != inserted {
				t.Errorf("server holds %d records, summary says %d inserted", n, inserted)
			}
		})
		t.Run(mode+"/record-error-ignored", func(t *testing.T) {
			srv := startServer(t, asdsim.Config{})
			srv.Faults().FailNextWrites(5, asdsim.ResultCode(13))
			res := runTool(t, "asrestore", dir, nil, append(append(base(srv), extra...), "--ignore-record-error")...)
			if res.code != 0 {
				t.Fatalf("exit %d\n%s", res.code, res.stderr)
			}
			_, _, ignored, inserted, _, _ := summaryCounts(t, res.stderr)
			if ignored != 5 || inserted != 295 {
				t.Errorf("err_ignored %d inserted %d, want 5 and 295", ignored, inserted)
			}
			if n := srv.Count("test", "s"); n != 295 {
				t.Errorf("server holds %d records, want 295", n)
			}
		})
	}
}
