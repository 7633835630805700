package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"asbtools/asdsim"
)

// TestBackupAuthentication backs up from a server with security enabled:
// -U/-P with the right password succeeds, a wrong one fails at connect.
func TestBackupAuthentication(t *testing.T) {
	srv := startServer(t, asdsim.Config{Users: map[string]string{"admin": "s3cret"}})
	seedSimple(t, srv, "auth", 50)
	work := t.TempDir()
	base := []string{"-h", srv.Host(), "-p", fmt.Sprint(srv.Port()), "-n", "test", "-o", "out.asb", "-U", "admin"}
	res := runTool(t, "asbackup", work, nil, append(base, "-P", "s3cret")...)
	if res.code != 0 {
		t.Fatalf("asbackup with credentials: exit %d\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "Backed up 50 record(s)") {
		t.Fatalf("unexpected summary:\n%s", lastLines(res.stderr, 3))
	}
	res = runTool(t, "asbackup", work, nil, append(base, "-P", "wrong", "-r")...)
	if res.code != 1 || !strings.Contains(res.stderr, "Error while connecting to") {
		t.Fatalf("wrong password: exit %d\n%s", res.code, res.stderr)
	}
	if strings.Contains(res.stderr, "Backed up") {
		t.Errorf("summary printed after a failed connection:\n%s", res.stderr)
	}
}

// TestBackupPreferRacksAndNodeList scans with --prefer-racks against an
// Enterprise server (racks known, replica on the preferred rack) and a
// Community server, which refuses rack-ids: like the legacy client's tend,
// each refusal is logged and the backup reads from the masters. Then a
// three-node cluster with --node-list. Each record exactly once.
func TestBackupPreferRacksAndNodeList(t *testing.T) {
	const refused = "rack refresh failed: AEROSPIKE_ERR_ENTERPRISE_ONLY enterprise only"
	ee := startServer(t, asdsim.Config{Enterprise: true, Nodes: 2, Namespaces: []asdsim.NamespaceConfig{{Name: "test", ReplicationFactor: 2}}})
	seedSimple(t, ee, "racks", 300)
	recs, stderr := backupDigests(t, ee, "--prefer-racks", "1,0", "--parallel", "4")
	if len(recs) != 300 || strings.Contains(stderr, "rack refresh failed") {
		t.Fatalf("--prefer-racks (Enterprise): %d records, want 300\n%s", len(recs), stderr)
	}
	ce := startServer(t, asdsim.Config{Nodes: 2})
	seedSimple(t, ce, "racks", 300)
	recs, stderr = backupDigests(t, ce, "--prefer-racks", "0", "--parallel", "4")
	if len(recs) != 300 {
		t.Fatalf("--prefer-racks (Community): %d records, want 300\n%s", len(recs), stderr)
	}
	// Legacy order: the nodes are added, the tend's rack refresh fails on
	// each, then the nodes are processed.
	lines := normalizeBackupLog(stderr)
	if len(lines) < 6 || !strings.Contains(lines[5], "Processing 2 node(s)") {
		t.Fatalf("unexpected start of the log:\n%s", strings.Join(lines, "\n"))
	}
	got := map[string]bool{lines[3]: true, lines[4]: true}
	for _, n := range ce.Nodes() {
		want := fmt.Sprintf("<TS> [ERR] [TID] [src/main/aerospike/as_cluster.c:1037][as_cluster_tend] Node %s %s", n.Name(), refused)
		if !got[want] {
			t.Errorf("missing %q after the Add node lines:\n%s", want, strings.Join(lines, "\n"))
		}
	}
	srv := startServer(t, asdsim.Config{Nodes: 3})
	seedSimple(t, srv, "racks", 300)
	nodes := srv.Addrs()
	recs, stderr = backupDigests(t, srv, "--node-list", strings.Join(nodes, ","))
	if len(recs) != 300 {
		t.Fatalf("--node-list: %d records, want 300\n%s", len(recs), stderr)
	}
	if !strings.Contains(stderr, "Starting backup of "+strings.Join(nodes, ",")) {
		t.Errorf("start line does not name the node list:\n%s", stderr)
	}
}

var (
	estSizeRE  = regexp.MustCompile(`Estimated overall record size is (\d+) byte\(s\)`)
	estTotalRE = regexp.MustCompile(`Estimated total backup file size \(for backup-to-file, 99\.9% confidence\): (\d+) byte\(s\)`)
)

// TestBackupEstimateAndMachine runs --estimate with real data and a
// --machine file: the legacy estimate lines (legacy-cli.md §9.6), the
// ESTIMATE and SUMMARY machine lines, and an estimate that brackets the
// size of the real backup.
func TestBackupEstimateAndMachine(t *testing.T) {
	srv := startServer(t, asdsim.Config{})
	seedSimple(t, srv, "est", 3000)
	work := t.TempDir()
	hp := []string{"-h", srv.Host(), "-p", fmt.Sprint(srv.Port()), "-n", "test"}
	res := runTool(t, "asbackup", work, nil, append(hp, "-e", "--estimate-samples", "500", "--machine", "mach.txt")...)
	if res.code != 0 {
		t.Fatalf("--estimate: exit %d\n%s", res.code, res.stderr)
	}
	lines := normalizeBackupLog(res.stderr)
	want := []string{
		"Namespace test contains 3000 record(s)",
		"Starting backup for 4096 partitions from 0 to 4095",
		"Completed backup for 4096 partitions from 0 to 4095, records: 500, ",
		"Estimated overall record size is ",
		"Estimated total backup file size (for backup-to-file, 99.9% confidence): ",
		"Backed up 500 record(s), 0 secondary index(es), 0 UDF file(s), ",
	}
	at := 0
	for _, l := range lines {
		if at < len(want) && strings.Contains(l, "[INF] [TID] "+want[at]) {
			at++
		}
	}
	if at < len(want) {
		t.Fatalf("estimate output lacks %q (in order):\n%s", want[at], strings.Join(lines, "\n"))
	}
	m := estSizeRE.FindStringSubmatch(res.stderr)
	tm := estTotalRE.FindStringSubmatch(res.stderr)
	var recSize, total int64
	fmt.Sscan(m[1], &recSize)
	fmt.Sscan(tm[1], &total)

	mach, err := os.ReadFile(filepath.Join(work, "mach.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mach), fmt.Sprintf("ESTIMATE:3000:%d\n", recSize)) {
		t.Errorf("machine file lacks ESTIMATE:3000:%d:\n%s", recSize, mach)
	}
	if !regexp.MustCompile(`(?m)^SUMMARY:500:0:0:\d+:\d+$`).Match(mach) {
		t.Errorf("machine file lacks the SUMMARY line:\n%s", mach)
	}

	// The real backup's size lies below the 99.9 % estimate and not far
	// below it.
	res = runTool(t, "asbackup", work, nil, append(hp, "-o", "full.asb", "--machine", "mach2.txt")...)
	if res.code != 0 {
		t.Fatalf("backup: exit %d\n%s", res.code, res.stderr)
	}
	fi, err := os.Stat(filepath.Join(work, "full.asb"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > total || float64(fi.Size()) < 0.9*float64(total) {
		t.Errorf("backup of %d bytes, estimate %d bytes", fi.Size(), total)
	}
	mach2, _ := os.ReadFile(filepath.Join(work, "mach2.txt"))
	if !strings.Contains(string(mach2), fmt.Sprintf("SUMMARY:3000:0:0:%d:%d\n", fi.Size(), fi.Size()/3000)) {
		t.Errorf("machine file of the backup:\n%s", mach2)
	}
}

// TestBackupDiskSpaceWarnings backs up to a small tmpfs: the -o pre-run
// estimate and the directory-mode estimate print the legacy warnings. It
// needs the right to mount (root); otherwise it is skipped.
func TestBackupDiskSpaceWarnings(t *testing.T) {
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=256k"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(mnt, 0) })
	srv := startServer(t, asdsim.Config{})
	seedSimple(t, srv, "space", 20000) // ~1 MB of backup
	hp := []string{"-h", srv.Host(), "-p", fmt.Sprint(srv.Port()), "-n", "test"}

	res := runTool(t, "asbackup", mnt, nil, append(hp, "-o", "out.asb", "-v")...)
	warn := regexp.MustCompile(`\[INF\] \[[ \d]+\] Warning: (\d+) bytes of disk space remaining, but expected file size is (\d+) bytes`)
	m := warn.FindStringSubmatch(res.stderr)
	if m == nil {
		t.Fatalf("-o: no disk-space warning (exit %d):\n%s", res.code, res.stderr)
	}
	if !regexp.MustCompile(`\[VER\] \[[ \d]+\] Estimated backup file size: ` + m[2] + ` bytes`).MatchString(res.stderr) {
		t.Errorf("-o: the VER estimate line does not match the warning's size:\n%s", res.stderr)
	}
	_ = os.Remove(filepath.Join(mnt, "out.asb"))

	res = runTool(t, "asbackup", mnt, nil, append(hp, "-d", "bk", "-F", "1")...)
	if !strings.Contains(res.stderr, "bytes of disk space remaining, but the expected total backup size is") {
		t.Fatalf("-d: no disk-space warning (exit %d):\n%s", res.code, res.stderr)
	}
}
