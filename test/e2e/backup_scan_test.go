package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"asbtools/asb"
	"asbtools/asdsim"
)

// seedSimple stores n records with integer keys in set (2 bins each).
func seedSimple(t *testing.T, srv *asdsim.Server, set string, n int) {
	t.Helper()
	recs := make([]asdsim.Record, 0, n)
	for i := 0; i < n; i++ {
		recs = append(recs, asdsim.Record{Set: set, Key: asdsim.IntKey(int64(i)), Bins: []asdsim.Bin{
			asdsim.IntBin("n", int64(i)),
			{Name: "s", Type: asdsim.ParticleString, Data: []byte(fmt.Sprintf("v%d", i))},
		}})
	}
	if err := srv.PutMany("test", recs); err != nil {
		t.Fatal(err)
	}
}

// backupDigests runs a backup to out.asb and returns the digests it holds
// (failing on duplicates) and the stderr.
func backupDigests(t *testing.T, srv *asdsim.Server, extra ...string) (map[[20]byte]*asb.Record, string) {
	t.Helper()
	work := t.TempDir()
	args := append([]string{"-h", srv.Host(), "-p", fmt.Sprint(srv.Port()), "-n", "test", "-o", "out.asb"}, extra...)
	res := runTool(t, "asbackup", work, nil, args...)
	if res.code != 0 {
		t.Fatalf("asbackup exit %d:\n%s", res.code, res.stderr)
	}
	recs, _, _ := backupRecords(t, filepath.Join(work, "out.asb"), nil)
	out := map[[20]byte]*asb.Record{}
	for _, r := range recs {
		if out[r.Digest] != nil {
			t.Fatalf("record %x backed up twice", r.Digest)
		}
		out[r.Digest] = r
	}
	return out, res.stderr
}

// TestBackupRetriesUnavailablePartitions: partitions reported unavailable
// and a connection dropped mid-stream are retried from their last digest;
// every record ends up in the backup exactly once.
func TestBackupRetriesUnavailablePartitions(t *testing.T) {
	srv := startServer(t, asdsim.Config{})
	seedSimple(t, srv, "s1", 5000)
	srv.Faults().SetPartitionsUnavailable(2, 0, 17, 1000, 4095)
	srv.Faults().DropAfterRecords(1200)
	got, _ := backupDigests(t, srv, "--parallel", "2")
	if len(got) != 5000 {
		t.Fatalf("%d records, want 5000", len(got))
	}
	if srv.Faults().DroppedScans() == 0 {
		t.Error("the drop fault did not fire")
	}
}

// TestBackupMultiNode: a three-node cluster; each partition is scanned on
// its master, --node-list selects the partitions of one node.
func TestBackupMultiNode(t *testing.T) {
	srv := startServer(t, asdsim.Config{Nodes: 3})
	seedSimple(t, srv, "s1", 3000)
	got, stderr := backupDigests(t, srv, "--parallel", "3")
	if len(got) != 3000 {
		t.Fatalf("%d records, want 3000", len(got))
	}
	if !strings.Contains(stderr, "Processing 3 node(s)") {
		t.Errorf("node count not logged:\n%s", stderr)
	}
	n1 := srv.Node(1)
	part, stderr := backupDigests(t, srv, "-l", n1.Addr())
	if len(part) == 0 || len(part) >= 3000 {
		t.Fatalf("node-list backup holds %d records", len(part))
	}
	owned := map[int]bool{}
	for _, p := range n1.Partitions() {
		owned[p] = true
	}
	want := 0
	for _, r := range srv.Records("test") {
		if owned[asdsim.PartitionOf(r.Digest)] {
			want++
			if part[r.Digest] == nil {
				t.Fatalf("record of node 1's partition %d missing", asdsim.PartitionOf(r.Digest))
			}
		}
	}
	if len(part) != want {
		t.Errorf("node-list backup holds %d records, node 1 masters %d", len(part), want)
	}
	if !strings.Contains(stderr, "Processing 1 node(s)") {
		t.Errorf("node-list backup:\n%s", stderr)
	}
}

// TestBackupSetNameWithColon: a set name holding ':' (legal on the server)
// does not break the set count (a legacy bug, see docs/compat.md).
func TestBackupSetNameWithColon(t *testing.T) {
	srv := startServer(t, asdsim.Config{})
	seedSimple(t, srv, "a:b", 40)
	seedSimple(t, srv, "other", 10)
	got, stderr := backupDigests(t, srv, "-s", "a:b")
	if len(got) != 40 {
		t.Fatalf("%d records, want 40", len(got))
	}
	if !strings.Contains(stderr, "Set a:b contains 40 record(s)") {
		t.Errorf("set count line missing:\n%s", stderr)
	}
	got, stderr = backupDigests(t, srv, "-s", "a:b,other")
	if len(got) != 50 || !strings.Contains(stderr, "Sets a:b,other contain 50 record(s)") {
		t.Errorf("multi-set: %d records\n%s", len(got), stderr)
	}
}

// TestBackupMaxRecordsAndPartitions: -M caps the records (per job share),
// -X limits the partitions.
func TestBackupMaxRecordsAndPartitions(t *testing.T) {
	srv := startServer(t, asdsim.Config{})
	seedSimple(t, srv, "s1", 4000)
	got, _ := backupDigests(t, srv, "-M", "100", "--parallel", "4")
	if len(got) < 100 || len(got) > 100+4 {
		t.Errorf("-M 100 gave %d records", len(got))
	}
	got, _ = backupDigests(t, srv, "-X", "0-2048")
	for d := range got {
		if p := int(d[0]) | int(d[1])<<8&0xF00; p&0xFFF >= 2048 {
			t.Fatalf("record of partition %d outside -X 0-2048", p&0xFFF)
		}
	}
	if len(got) == 0 || len(got) == 4000 {
		t.Errorf("-X 0-2048 gave %d records", len(got))
	}
}
