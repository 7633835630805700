package e2e

import (
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"asbtools/asb"
	"asbtools/asdsim"
	"asbtools/stream"
)

const resumeRecords = 200000

var (
	resumeSrvOnce sync.Once
	resumeSrv     *asdsim.Server
	resumeSrvErr  error
)

// resumeServer returns a shared test server holding 200k records of ~120
// bytes in namespace test (kept for the whole test process).
func resumeServer(t testing.TB) *asdsim.Server {
	resumeSrvOnce.Do(func() {
		srv, err := asdsim.Start(asdsim.Config{})
		if err != nil {
			resumeSrvErr = err
			return
		}
		recs := make([]asdsim.Record, 0, 10000)
		for i := 0; i < resumeRecords; i++ {
			recs = append(recs, asdsim.Record{Set: "rs", Key: asdsim.IntKey(int64(i)), Bins: []asdsim.Bin{
				asdsim.IntBin("n", int64(i)),
				{Name: "s", Type: asdsim.ParticleString, Data: []byte(fmt.Sprintf("value-%08d-%s", i, strings.Repeat("x", 40)))},
			}})
			if len(recs) == cap(recs) {
				if err := srv.PutMany("test", recs); err != nil {
					resumeSrvErr = err
					return
				}
				recs = recs[:0]
			}
		}
		resumeSrv = srv
	})
	if resumeSrvErr != nil {
		t.Fatal(resumeSrvErr)
	}
	return resumeSrv
}

// dirSize totals the *.asb files of dir (or the single file).
func outputSize(path string) int64 {
	if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
		return fi.Size()
	}
	m, _ := filepath.Glob(filepath.Join(path, "*.asb"))
	var n int64
	for _, f := range m {
		if fi, err := os.Stat(f); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// checkExactlyOnce reads every output file and checks that each seeded
// record is there exactly once and nothing else is.
// opts decodes compressed or encrypted files (nil: plain).
func checkExactlyOnce(t *testing.T, srv *asdsim.Server, files []string, opts *stream.Options) {
	t.Helper()
	seen := make(map[[20]byte]int, resumeRecords)
	firsts := 0
	for _, f := range files {
		recs, _, _ := backupRecords(t, f, opts)
		for _, r := range recs {
			seen[r.Digest]++
			if len(r.Bins) != 2 || r.Key.Type != asb.KeyInt || r.Bins[0].Int != r.Key.Int {
				t.Fatalf("%s: damaged record %x", f, r.Digest)
			}
		}
		data := decodeFile(t, f, opts)
		if strings.Contains(string(data[:min(len(data), 200)]), "# first-file\n") {
			firsts++
		}
	}
	if firsts != 1 {
		t.Errorf("%d files carry # first-file, want 1", firsts)
	}
	dups := 0
	for _, n := range seen {
		if n > 1 {
			dups++
		}
	}
	missing := 0
	srv.Each("test", func(r asdsim.Record) bool {
		if seen[r.Digest] == 0 {
			missing++
		}
		return true
	})
	if dups != 0 || missing != 0 || len(seen) != resumeRecords {
		t.Fatalf("records: %d distinct, %d duplicated, %d missing (want %d exactly once)", len(seen), dups, missing, resumeRecords)
	}
}

func TestBackupResumeExactlyOnce(t *testing.T) {
	srv := resumeServer(t)
	type tc struct {
		name   string
		single bool
		sig    syscall.Signal
		at     int64 // interrupt once the output holds this many bytes
	}
	cases := []tc{
		{"dir-sigint-early", false, syscall.SIGINT, 1 << 20},
		{"dir-sigint-late", false, syscall.SIGINT, 14 << 20},
		{"dir-sigkill-early", false, syscall.SIGKILL, 3 << 20},
		{"dir-sigkill-late", false, syscall.SIGKILL, 12 << 20},
		{"file-sigint", true, syscall.SIGINT, 6 << 20},
		{"file-sigkill", true, syscall.SIGKILL, 8 << 20},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			work := t.TempDir()
			base := []string{"-h", srv.Host(), "-p", fmt.Sprint(srv.Port()), "-n", "test"}
			out, statePath := "bk", filepath.Join(work, "bk", "test.asb.state")
			outArgs := []string{"-d", out, "--parallel", "4", "--file-limit", "2"}
			if c.single {
				out, statePath = "bk.asb", filepath.Join(work, "bk.asb.state")
				outArgs = []string{"-o", out, "--parallel", "4"}
			}
			env := []string{"ASBACKUP_CHECKPOINT_MS=100"}
			args := append(append(append([]string{}, base...), outArgs...), "--nice", "10")
			cmd := toolCmd(t, "asbackup", work, env, args...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(60 * time.Second)
			for outputSize(filepath.Join(work, out)) < c.at && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if c.sig == syscall.SIGKILL {
				// Give the checkpoint covering this point time to land.
				time.Sleep(250 * time.Millisecond)
			}
			cmd.Process.Signal(c.sig)
			err := cmd.Wait()
			if err == nil {
				t.Fatalf("backup finished before the interruption; stderr:\n%s", stderr.String())
			}
			if c.sig == syscall.SIGINT && !strings.Contains(stderr.String(), "Backup was interrupted, to resume, run backup with `--continue") {
				t.Fatalf("no resume hint after SIGINT:\n%s", stderr.String())
			}
			if _, err := os.Stat(statePath); err != nil {
				t.Fatalf("no state file after %v: %v\n%s", c.sig, err, stderr.String())
			}
			rel, _ := filepath.Rel(work, statePath)
			cont := append(append(append([]string{}, base...), outArgs...), "--continue", rel)
			res := runTool(t, "asbackup", work, nil, cont...)
			if res.code != 0 {
				t.Fatalf("--continue exit %d:\n%s", res.code, res.stderr)
			}
			var files []string
			if c.single {
				files = []string{filepath.Join(work, out)}
			} else {
				files, _ = filepath.Glob(filepath.Join(work, out, "*.asb"))
				sort.Strings(files)
			}
			checkExactlyOnce(t, srv, files, nil)
			if !strings.Contains(res.stderr, fmt.Sprintf("Backed up %d record(s)", resumeRecords)) {
				t.Errorf("resumed summary does not report %d records:\n%s", resumeRecords, lastLines(res.stderr, 3))
			}
		})
	}
}

// A compressed and encrypted directory backup at --parallel 4, killed with
// SIGKILL after in-run checkpoints, continues with every record exactly once
// (the checkpoints end the zstd frames, the CTR keystream goes on from the
// saved position) and restores to exactly the original records.
func TestBackupResumeZstdAES256(t *testing.T) {
	srv := resumeServer(t)
	work := t.TempDir()
	const material = "resume-zstd-aes256-key"
	env := []string{"ASB_TEST_KEY=" + base64.StdEncoding.EncodeToString([]byte(material))}
	codec := []string{"-z", "zstd", "-y", "aes256", "--encryption-key-env", "ASB_TEST_KEY"}
	args := append([]string{"-h", srv.Host(), "-p", fmt.Sprint(srv.Port()), "-n", "test",
		"-d", "bk", "--parallel", "4", "--file-limit", "1"}, codec...)
	// --nice 1 holds the (compressed) output at 1 MiB/s, so the kill lands
	// while the scans run.
	cmd := toolCmd(t, "asbackup", work, append([]string{"ASBACKUP_CHECKPOINT_MS=100"}, env...), append(append([]string{}, args...), "--nice", "1")...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for outputSize(filepath.Join(work, "bk")) < 1<<20 && time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("backup ended (%v) before the kill; stderr:\n%s", err, stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	time.Sleep(250 * time.Millisecond) // a checkpoint covering this point lands
	cmd.Process.Signal(syscall.SIGKILL)
	if err := <-done; err == nil {
		t.Fatalf("backup finished before the kill; stderr:\n%s", stderr.String())
	}
	statePath := filepath.Join(work, "bk", "test.asb.state")
	if _, err := os.Stat(statePath); err != nil {
		t.Fatalf("no state file after SIGKILL: %v\n%s", err, stderr.String())
	}
	res := runTool(t, "asbackup", work, env, append(append([]string{}, args...), "--continue", filepath.Join("bk", "test.asb.state"))...)
	if res.code != 0 {
		t.Fatalf("--continue exit %d:\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, fmt.Sprintf("Backed up %d record(s)", resumeRecords)) {
		t.Errorf("resumed summary does not report %d records:\n%s", resumeRecords, lastLines(res.stderr, 3))
	}
	files, _ := filepath.Glob(filepath.Join(work, "bk", "*.asb"))
	sort.Strings(files)
	if len(files) < 2 {
		t.Fatalf("%d files, want several (--file-limit 1)", len(files))
	}
	opts := stream.Options{Compress: true, Cipher: stream.AES256, Key: stream.DeriveKey([]byte(material), stream.AES256)}
	checkExactlyOnce(t, srv, files, &opts)

	dst := startServer(t, asdsim.Config{})
	rr := runTool(t, "asrestore", work, env, append([]string{"-h", dst.Host(), "-p", fmt.Sprint(dst.Port()), "-d", "bk"}, codec...)...)
	if rr.code != 0 {
		t.Fatalf("asrestore exit %d:\n%s", rr.code, rr.stderr)
	}
	assertSameRecords(t, snapshot(srv, "test"), snapshot(dst, "test"))
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

var _ = exec.Command

// TestBackupResumeEarlySIGKILL kills asbackup 1.5 s after it stored its
// first records, with the default checkpoint period: the first in-run
// checkpoint comes about 1 s after the first record, so the backup can be
// continued, and the result holds every record exactly once and restores to
// the source.
func TestBackupResumeEarlySIGKILL(t *testing.T) {
	srv := resumeServer(t)
	for _, single := range []bool{false, true} {
		name := "dir"
		if single {
			name = "file"
		}
		t.Run(name, func(t *testing.T) {
			work := t.TempDir()
			base := []string{"-h", srv.Host(), "-p", fmt.Sprint(srv.Port()), "-n", "test"}
			out, statePath := "bk", filepath.Join(work, "bk", "test.asb.state")
			outArgs := []string{"-d", out, "--parallel", "4", "--file-limit", "1"}
			if single {
				out, statePath = "bk.asb", filepath.Join(work, "bk.asb.state")
				outArgs = []string{"-o", out, "--parallel", "4"}
			}
			// 10k records/s: the whole backup would take 20 s.
			args := append(append(append([]string{}, base...), outArgs...), "-L", "10000")
			cmd := toolCmd(t, "asbackup", work, nil, args...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// The first records are stored when the output holds data.
			if !waitFor(60*time.Second, func() bool { return outputSize(filepath.Join(work, out)) > 0 }) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("no data written within 60 s:\n%s", stderr.String())
			}
			time.Sleep(1500 * time.Millisecond)
			cmd.Process.Signal(syscall.SIGKILL)
			if err := cmd.Wait(); err == nil {
				t.Fatalf("backup finished before the kill:\n%s", stderr.String())
			}
			if _, err := os.Stat(statePath); err != nil {
				t.Fatalf("no state file 1.5 s after the first records: %v\n%s", err, stderr.String())
			}
			rel, _ := filepath.Rel(work, statePath)
			cont := append(append(append([]string{}, base...), outArgs...), "--continue", rel)
			res := runTool(t, "asbackup", work, nil, cont...)
			if res.code != 0 {
				t.Fatalf("--continue exit %d:\n%s", res.code, res.stderr)
			}
			var files []string
			if single {
				files = []string{filepath.Join(work, out)}
			} else {
				files, _ = filepath.Glob(filepath.Join(work, out, "*.asb"))
				sort.Strings(files)
			}
			checkExactlyOnce(t, srv, files, nil)
			if !strings.Contains(res.stderr, fmt.Sprintf("Backed up %d record(s)", resumeRecords)) {
				t.Errorf("resumed summary does not report %d records:\n%s", resumeRecords, lastLines(res.stderr, 3))
			}

			// Restored into an empty server, the backup equals the source.
			dst := startServer(t, asdsim.Config{})
			rargs := []string{"-h", dst.Host(), "-p", fmt.Sprint(dst.Port())}
			if single {
				rargs = append(rargs, "-i", out)
			} else {
				rargs = append(rargs, "-d", out)
			}
			if r := runTool(t, "asrestore", work, nil, rargs...); r.code != 0 {
				t.Fatalf("asrestore exit %d:\n%s", r.code, r.stderr)
			}
			assertSameRecords(t, snapshot(srv, "test"), snapshot(dst, "test"))
		})
	}
}
