package e2e

import (
	"bytes"
	"crypto/tls"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"asbtools/asb"
	"asbtools/asdsim"
	"asbtools/secretagent/satest"
)

// manyRecords builds n keyed records of set "s" with two bins.
func manyRecords(n int) []*asb.Record {
	recs := make([]*asb.Record, n)
	for i := range recs {
		recs[i] = policyRecord("key-"+strconv.Itoa(i), 1, 0, intBin("a", int64(i)),
			asb.Bin{Name: []byte("b"), Type: asb.BinString, Bytes: []byte("value-" + strconv.Itoa(i))})
	}
	return recs
}

// writeFullBackup writes a backup file with indexes, UDFs and records.
func writeFullBackup(t testing.TB, path string, idx []*asb.Index, udfs []*asb.UDF, recs []*asb.Record) {
	t.Helper()
	var buf bytes.Buffer
	w := asb.NewWriter(&buf)
	if err := w.WriteHeader(&asb.Header{Version: asb.Version31, Meta: []asb.Meta{asb.NamespaceMeta("test"), asb.FirstFileMeta()}}); err != nil {
		t.Fatal(err)
	}
	for _, ix := range idx {
		if err := w.WriteIndex(ix); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range udfs {
		if err := w.WriteUDF(u); err != nil {
			t.Fatal(err)
		}
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

// TestRestoreMachineFile checks the --machine lines: progress while
// running and the final SUMMARY line with the counters.
func TestRestoreMachineFile(t *testing.T) {
	srv := startServer(t, asdsim.Config{})
	dir := t.TempDir()
	recs := manyRecords(50)
	past := uint32(time.Now().Unix()-1262304000) - 10
	recs = append(recs, policyRecord("gone", 1, past, intBin("a", 1)))
	writeBackup(t, filepath.Join(dir, "b.asb"), "test", recs)
	mach := filepath.Join(dir, "machine.txt")
	os.WriteFile(mach, []byte("previous line\n"), 0o644)
	res := runTool(t, "asrestore", dir, nil, "-h", srv.Host(), "-p", strconv.Itoa(srv.Port()), "-i", "b.asb", "--machine", mach)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	data, err := os.ReadFile(mach)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if lines[0] != "previous line" {
		t.Errorf("machine file not appended to: first line %q", lines[0])
	}
	re := regexp.MustCompile(`^(PROGRESS:\d+|REMAINING:[0-9dhms>]+|SUMMARY:.*)$`)
	for _, l := range lines[1:] {
		if !re.MatchString(l) {
			t.Errorf("unexpected machine line %q", l)
		}
	}
	if !strings.HasPrefix(lines[1], "PROGRESS:") {
		t.Errorf("first machine line %q, want PROGRESS", lines[1])
	}
	if want := "SUMMARY:0:0:51:1:0:0 :50:0:0"; lines[len(lines)-1] != want {
		t.Errorf("last machine line %q, want %q", lines[len(lines)-1], want)
	}
	if got := srv.Count("test", "s"); got != 50 {
		t.Errorf("%d records restored, want 50", got)
	}

	// An unwritable machine file is an error before any record is read.
	res = runTool(t, "asrestore", dir, nil, "-h", srv.Host(), "-p", strconv.Itoa(srv.Port()), "-i", "b.asb", "--machine", filepath.Join(dir, "nodir", "m.txt"))
	if res.code != 1 || !strings.Contains(res.stderr, "Error while opening machine-readable file "+filepath.Join(dir, "nodir", "m.txt")+" (error 2: No such file or directory)") {
		t.Errorf("exit %d, stderr:\n%s", res.code, res.stderr)
	}
}

// TestRestoreIndexMismatch checks existing indexes: one with the same
// definition is left alone and counted matched; one with the same name and
// another definition is removed and recreated from the backup.
func TestRestoreIndexMismatch(t *testing.T) {
	srv := startServer(t, asdsim.Config{})
	dir := t.TempDir()
	same := &asb.Index{Namespace: "test", Set: "s", Name: "idx_same", Type: asb.IndexDefault,
		Paths: []asb.IndexPath{{Bin: "a", Type: asb.IndexNumeric}}}
	changed := &asb.Index{Namespace: "test", Set: "s", Name: "idx_changed", Type: asb.IndexDefault,
		Paths: []asb.IndexPath{{Bin: "b", Type: asb.IndexString}}}
	fresh := &asb.Index{Namespace: "test", Name: "idx_new", Type: asb.IndexList,
		Paths: []asb.IndexPath{{Bin: "l", Type: asb.IndexNumeric}}}
	writeFullBackup(t, filepath.Join(dir, "b.asb"), []*asb.Index{same, changed, fresh}, nil, manyRecords(5))
	if err := srv.CreateSIndex(asdsim.SIndex{Namespace: "test", Name: "idx_same", Set: "s", Bin: "a", Type: "numeric", IndexType: "default"}); err != nil {
		t.Fatal(err)
	}
	// Same name, different bin and type.
	if err := srv.CreateSIndex(asdsim.SIndex{Namespace: "test", Name: "idx_changed", Set: "s", Bin: "a", Type: "numeric", IndexType: "default"}); err != nil {
		t.Fatal(err)
	}
	res := runTool(t, "asrestore", dir, nil, "-h", srv.Host(), "-p", strconv.Itoa(srv.Port()), "-i", "b.asb", "-v")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	got := map[string]asdsim.SIndex{}
	for _, si := range srv.SIndexes() {
		got[si.Name] = si
	}
	want := map[string]asdsim.SIndex{
		"idx_same":    {Namespace: "test", Name: "idx_same", Set: "s", Bin: "a", Type: "numeric", IndexType: "default"},
		"idx_changed": {Namespace: "test", Name: "idx_changed", Set: "s", Bin: "b", Type: "string", IndexType: "default"},
		"idx_new":     {Namespace: "test", Name: "idx_new", Bin: "l", Type: "numeric", IndexType: "list"},
	}
	if len(got) != len(want) {
		t.Errorf("server has indexes %v", got)
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("index %s: server has %+v, want %+v", name, got[name], w)
		}
	}
	for _, line := range []string{
		"[VER] [TID] Removing mismatched index test:idx_changed",
		"[VER] [TID] Skipping matched index test:s:idx_same (a)",
		"[INF] [TID] Skipped 1 matched index(es)",
		"[INF] [TID] 0 UDF file(s), 3 secondary index(es), 5 record(s)",
	} {
		if !containsLine(res.stderr, line) {
			t.Errorf("missing %q in\n%s", line, res.stderr)
		}
	}
	if strings.Contains(res.stderr, "mismatched index(es)") {
		t.Errorf("a replaced index was counted as mismatched:\n%s", res.stderr)
	}
}

// containsLine reports whether a normalized log line starts with prefix
// (after "<TS> ").
func containsLine(stderr, prefix string) bool {
	for _, l := range normalizeLog(stderr) {
		if strings.HasPrefix(strings.TrimPrefix(l, "<TS> "), prefix) {
			return true
		}
	}
	return false
}

// TestRestoreWait checks --wait: the restore waits until the indexes are
// built and the UDFs present on every node, then succeeds.
func TestRestoreWait(t *testing.T) {
	srv := startServer(t, asdsim.Config{Nodes: 2})
	dir := t.TempDir()
	ix := &asb.Index{Namespace: "test", Set: "s", Name: "idx_a", Type: asb.IndexDefault,
		Paths: []asb.IndexPath{{Bin: "a", Type: asb.IndexNumeric}}}
	udf := &asb.UDF{Type: 'L', Name: "sum.lua", Content: []byte("function sum(r) return 1 end\n")}
	writeFullBackup(t, filepath.Join(dir, "b.asb"), []*asb.Index{ix}, []*asb.UDF{udf}, manyRecords(20))
	for _, extra := range [][]string{nil, {"--indexes-last"}} {
		srv.Clear()
		for _, si := range srv.SIndexes() {
			srv.DropSIndex(si.Namespace, si.Name)
		}
		args := append([]string{"-h", srv.Host(), "-p", strconv.Itoa(srv.Port()), "-i", "b.asb", "--wait", "-v"}, extra...)
		res := runTool(t, "asrestore", dir, nil, args...)
		if res.code != 0 {
			t.Fatalf("%v: exit %d\n%s", extra, res.code, res.stderr)
		}
		for _, line := range []string{"[VER] [TID] Waiting for index test:idx_a", "[VER] [TID] Waiting for UDF file sum.lua"} {
			if !containsLine(res.stderr, line) {
				t.Errorf("%v: missing %q in\n%s", extra, line, res.stderr)
			}
		}
		if n := len(srv.SIndexes()); n != 1 {
			t.Errorf("%v: %d indexes on the server", extra, n)
		}
		if u := srv.UDFs(); len(u) != 1 || u[0].Name != "sum.lua" || !bytes.Equal(u[0].Content, udf.Content) {
			t.Errorf("%v: UDFs on the server: %+v", extra, u)
		}
		if got := srv.Count("test", "s"); got != 20 {
			t.Errorf("%v: %d records restored", extra, got)
		}
	}
}

// TestRestoreInterrupt sends SIGINT during a throttled restore: exit code
// 1, "### Restore interrupted ###", the final summary still printed, and
// every record counted as inserted is really in the server.
func TestRestoreInterrupt(t *testing.T) {
	srv := startServer(t, asdsim.Config{})
	dir := t.TempDir()
	const n = 40000
	writeBackup(t, filepath.Join(dir, "b.asb"), "test", manyRecords(n))
	cmd := exec.Command(restoreBinary(t), "-h", srv.Host(), "-p", strconv.Itoa(srv.Port()), "-i", "b.asb", "--nice", "1000,4000")
	cmd.Args[0] = "asrestore"
	cmd.Dir = dir
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if !waitFor(10*time.Second, func() bool { return srv.Count("test", "s") >= 2000 }) {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("restore made no progress\n%s", se.String())
	}
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("restore did not stop after SIGINT\n%s", se.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	stderr := se.String()
	if !containsLine(stderr, "[ERR] [TID] ### Restore interrupted ###") {
		t.Errorf("no interruption line in\n%s", stderr)
	}
	_, _, _, inserted, _, _ := summaryCounts(t, stderr)
	got := srv.Count("test", "s")
	if inserted != got {
		t.Errorf("summary reports %d inserted, the server has %d records", inserted, got)
	}
	if got >= n {
		t.Errorf("all %d records restored: the interruption had no effect", got)
	}
	if so.Len() != 0 {
		t.Errorf("unexpected stdout %q", so.String())
	}
}

// TestRestoreNiceTPS measures the record rate under --nice and checks it
// against the TPS limit (a loose lower bound, for loaded machines).
func TestRestoreNiceTPS(t *testing.T) {
	srv := startServer(t, asdsim.Config{})
	dir := t.TempDir()
	const n, tps = 12000, 4000
	writeBackup(t, filepath.Join(dir, "b.asb"), "test", manyRecords(n))
	res := runTool(t, "asrestore", dir, nil, "-h", srv.Host(), "-p", strconv.Itoa(srv.Port()), "-i", "b.asb", "--nice", "1000,"+strconv.Itoa(tps))
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if got := srv.Count("test", "s"); got != n {
		t.Fatalf("%d records restored, want %d", got, n)
	}
	// The first second's allowance is available at once: n records need
	// (n − tps) / tps seconds.
	ideal := time.Duration(float64(n-tps) / tps * float64(time.Second))
	t.Logf("--nice TPS %d: %d records in %v (ideal %v, %.0f rec/s after the first second)", tps, n, res.wall, ideal,
		float64(n-tps)/res.wall.Seconds())
	if res.wall < ideal*95/100 {
		t.Errorf("restore took %v, faster than the TPS limit allows (%v)", res.wall, ideal)
	}
	if res.wall > ideal*3 {
		t.Errorf("restore took %v, far slower than the TPS limit (%v)", res.wall, ideal)
	}
}

// TestRestoreInvalidCredentials checks the legacy client's rejection of
// an over-long user name or password: a stdout line and exit code 1, before
// any connection.
func TestRestoreInvalidCredentials(t *testing.T) {
	dir := t.TempDir()
	writeBackup(t, filepath.Join(dir, "b.asb"), "test", manyRecords(1))
	long := strings.Repeat("u", 64)
	for _, c := range []struct{ user, password string }{{long, "secret"}, {"someone", strings.Repeat("p", 64)}} {
		// Port 1 is never listened on: the check happens before connecting.
		res := runTool(t, "asrestore", dir, nil, "-h", "127.0.0.1", "-p", "1", "-i", "b.asb", "--user", c.user, "--password="+c.password)
		if res.code != 1 {
			t.Errorf("exit %d, want 1", res.code)
		}
		if want := "Invalid password for user name `" + c.user + "`\n"; res.stdout != want {
			t.Errorf("stdout %q, want %q", res.stdout, want)
		}
		lines := normalizeLog(res.stderr)
		if len(lines) != 1 || lines[0] != "<TS> [ERR] [TID] Failed to initialize restore status" {
			t.Errorf("stderr %q", lines)
		}
	}
}

// TestRestoreTLS restores over TLS with the CA from --tls-cafile and the
// TLS name from --tls-name, and fails cleanly with the wrong CA.
func TestRestoreTLS(t *testing.T) {
	pki, err := satest.NewPKI("asd.test")
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, asdsim.Config{TLS: &tls.Config{Certificates: []tls.Certificate{pki.Cert}, MinVersion: tls.VersionTLS12}})
	dir := t.TempDir()
	writeBackup(t, filepath.Join(dir, "b.asb"), "test", manyRecords(30))
	os.WriteFile(filepath.Join(dir, "ca.pem"), pki.CAPEM, 0o644)
	other, err := satest.NewPKI("asd.test")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "other-ca.pem"), other.CAPEM, 0o644)
	args := []string{"-h", srv.Host(), "-p", strconv.Itoa(srv.Port()), "--tls-enable", "--tls-name", "asd.test", "-i", "b.asb"}
	res := runTool(t, "asrestore", dir, nil, append(args, "--tls-cafile", "ca.pem")...)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if got := srv.Count("test", "s"); got != 30 {
		t.Errorf("%d records restored over TLS, want 30", got)
	}
	res = runTool(t, "asrestore", dir, nil, append(args, "--tls-cafile", "other-ca.pem")...)
	lines := normalizeLog(res.stderr)
	if res.code != 1 || len(lines) < 2 || !strings.HasPrefix(lines[len(lines)-2], "<TS> [ERR] [TID] Error while connecting to "+srv.Host()+":"+strconv.Itoa(srv.Port())) ||
		lines[len(lines)-1] != "<TS> [ERR] [TID] Failed to initialize restore status" {
		t.Errorf("untrusted server certificate: exit %d, stderr:\n%s", res.code, res.stderr)
	}
}
