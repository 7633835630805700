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

// mountTmpfs mounts a tmpfs of size bytes on a new directory and returns it.
// The test is skipped when it cannot mount (not root, no mount namespace).
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		t.Skipf("cannot mount a %d-byte tmpfs to fill up (needs root or a user namespace): %v", size, err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// diskFullServer holds 20000 records of about 240 bytes of backup text each
// (string bin s, integer bin i): about 4.7 MB, more than the 2 MiB file
// systems of the disk-full tests.
func diskFullServer(t *testing.T) *asdsim.Server {
	srv := startServer(t, asdsim.Config{})
	if err := srv.SeedSynthetic("test", "demo", 20000, 200); err != nil {
		t.Fatal(err)
	}
	return srv
}

// inOrder reports whether lines holds a line matching each pattern, in
// this order (other lines may come between: jobs log concurrently).
func inOrder(lines []string, patterns ...string) bool {
	i := 0
	for _, l := range lines {
		if i < len(patterns) && regexp.MustCompile("^"+patterns[i]+"$").MatchString(l) {
			i++
		}
	}
	return i == len(patterns)
}

// The legacy chain of a record write that fills the disk: one failed
// buffer flush per 4 KiB buffer (those in a piece other than a value's
// payload go unnoticed), the noticed one, the abort, the job's end.
var diskFullChain = []string{
	`ERR: Failed writing data to file \(error 28: No space left on device\)`,
	`ERR: Error while writing data to backup file \[2\]`,
	`ERR: Error while writing record bin s`,
	`ERR: Error while storing record in backup file, aborting scan\. The backup state is currently unrecoverable in this state, so backup resumption is not possible\.`,
	`INF: Backup of 2048 partitions from [0-9]+ to [0-9]+ interrupted, records: [0-9]+, size: [0-9]+ \(~[0-9]+ B/rec\)`,
}

// levelLines returns the log lines of stderr as "LVL: text".
func levelLines(stderr string) string {
	var b strings.Builder
	re := regexp.MustCompile(`^\S+ \S+ GMT \[(\w+)\] \[ *\d+\] (.*)$`)
	for _, l := range strings.Split(stderr, "\n") {
		if m := re.FindStringSubmatch(l); m != nil {
			b.WriteString(m[1] + ": " + m[2] + "\n")
		}
	}
	return b.String()
}

// TestBackupDiskFull fills the file system of a backup (a 2 MiB tmpfs):
// as with the legacy tool, the record write that fills it logs the legacy
// chain, the backup is aborted without a state, exit 1; in directory mode
// the partially written files are deleted, with -o the file is kept
// (flushed as far as it goes). An in-run checkpoint taken before the disk
// filled up is removed too: it would describe files that are gone.
func TestBackupDiskFull(t *testing.T) {
	srv := diskFullServer(t)
	cases := []struct {
		name   string
		single bool
		env    []string
		extra  []string
	}{
		{name: "dir"},
		{name: "dir-checkpointed", env: []string{"ASBACKUP_CHECKPOINT_MS=20"}, extra: []string{"-L", "20000"}},
		{name: "dir-rotating", extra: []string{"--file-limit", "1"}},
		{name: "file", single: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mnt := mountTmpfs(t, 2<<20)
			out := filepath.Join(mnt, "bk")
			args := []string{"-h", srv.Host(), "-p", fmt.Sprint(srv.Port()), "-n", "test", "--parallel", "2"}
			if c.single {
				out = filepath.Join(mnt, "bk.asb")
				args = append(args, "-o", out)
			} else {
				args = append(args, "-d", out)
			}
			r := runTool(t, "asbackup", t.TempDir(), c.env, append(args, c.extra...)...)
			text := levelLines(r.stderr)
			lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
			if r.code != 1 {
				t.Fatalf("exit %d, want 1:\n%s", r.code, r.stderr)
			}
			file := regexp.QuoteMeta(out) + `/test_[0-9]{5}\.asb`
			chain := inOrder(lines, diskFullChain...)
			if !c.single {
				// The failed file is flushed and closed when the job ends.
				chain = chain && inOrder(lines, append(diskFullChain[1:], `ERR: Error while flushing backup file `+file, `ERR: Error while closing backup file`)...)
			}
			if !chain && c.name == "dir-rotating" {
				// The disk may fill up when a full file is closed.
				chain = inOrder(lines, `ERR: Error while flushing backup file `+file, `ERR: Error while closing old backup file`,
					`INF: Backup of .* interrupted, .*`)
			}
			if !chain {
				t.Errorf("no legacy disk-full chain:\n%s", text)
			}
			tail := "ERR: Backup was aborted, meaning the state is unrecoverable\n" +
				"ERR: Backup aborted, backup state is likely unrecoverable\n"
			if c.single {
				tail = fmt.Sprintf("ERR: Error while flushing shared backup file %q\n", out) + tail
			}
			if !regexp.MustCompile(regexp.QuoteMeta(tail) + `INF: Backed up [0-9]+ record\(s\), 0 secondary index\(es\), 0 UDF file\(s\), [0-9]+ byte\(s\) in total \(~[0-9]+ B/rec\)\n$`).MatchString(text) {
				t.Errorf("does not end with the abort lines and the summary:\n%s", text)
			}
			for _, bad := range []string{"Created backup state file", "to resume", "no space left on device"} {
				if strings.Contains(r.stderr, bad) {
					t.Errorf("stderr has %q:\n%s", bad, r.stderr)
				}
			}
			var left []string
			filepath.Walk(mnt, func(p string, fi os.FileInfo, err error) error {
				if err == nil && !fi.IsDir() {
					left = append(left, strings.TrimPrefix(p, mnt+"/"))
				}
				return nil
			})
			switch {
			case c.single:
				// Legacy keeps the single file, flushed as far as it goes.
				if strings.Join(left, " ") != "bk.asb" {
					t.Errorf("files left: %q, want the -o file", left)
				}
			case c.name == "dir-rotating":
				// Files closed by rotation stay (legacy): only complete ones.
				for _, f := range left {
					fi, err := os.Stat(filepath.Join(mnt, f))
					if !strings.HasSuffix(f, ".asb") || err != nil || fi.Size() < 1<<20 {
						t.Errorf("file left: %s", f)
						continue
					}
					backupRecords(t, filepath.Join(mnt, f), nil) // reads to the end without error
				}
			default:
				if len(left) != 0 {
					t.Errorf("files left: %q, want none", left)
				}
			}
		})
	}
}

// TestBackupDiskFullUnnoticed fills the disk of a -o backup whose records
// have no string, GeoJSON or bytes value: like the legacy tool, every
// failing 4 KiB flush is logged but none is noticed, the jobs complete, the
// final flush fails, the run ends with exit 1 and no state (an in-run
// checkpoint taken before the disk filled up is removed), the file is kept.
func TestBackupDiskFullUnnoticed(t *testing.T) {
	srv := startServer(t, asdsim.Config{})
	recs := make([]asdsim.Record, 0, 40000)
	for i := 0; i < cap(recs); i++ {
		recs = append(recs, asdsim.Record{Set: "ints", Key: asdsim.IntKey(int64(i)), Bins: []asdsim.Bin{
			asdsim.IntBin("a", int64(i)), asdsim.IntBin("b", int64(i)*1000003), asdsim.IntBin("c", -int64(i))}})
	}
	if err := srv.PutMany("test", recs); err != nil {
		t.Fatal(err)
	}
	mnt := mountTmpfs(t, 2<<20)
	out := filepath.Join(mnt, "bk.asb")
	r := runTool(t, "asbackup", t.TempDir(), []string{"ASBACKUP_CHECKPOINT_MS=20"},
		"-h", srv.Host(), "-p", fmt.Sprint(srv.Port()), "-n", "test", "--parallel", "2", "-o", out, "-L", "40000")
	text := levelLines(r.stderr)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", r.code, r.stderr)
	}
	failed := strings.Count(text, "ERR: Failed writing data to file (error 28: No space left on device)\n")
	// About 4.4 MB of text, 2 MiB fit: hundreds of failed 4 KiB flushes.
	if failed < 100 {
		t.Errorf("%d failed flushes logged, want hundreds:\n%s", failed, lastLines(text, 10))
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if !inOrder(lines, `INF: Completed backup for 2048 partitions from 0 to 2047, .*`) ||
		!inOrder(lines, `INF: Completed backup for 2048 partitions from 2048 to 4095, .*`) {
		t.Errorf("the jobs do not complete:\n%s", lastLines(text, 10))
	}
	if !regexp.MustCompile(fmt.Sprintf("ERR: Error while flushing shared backup file %q\n", out) +
		`INF: Backed up 40000 record\(s\), 0 secondary index\(es\), 0 UDF file\(s\), [0-9]+ byte\(s\) in total \(~[0-9]+ B/rec\)\n$`).MatchString(text) {
		t.Errorf("does not end with the failed flush and the summary:\n%s", lastLines(text, 10))
	}
	for _, bad := range []string{"Created backup state file", "to resume", "aborted", "Error while writing data", "no space left on device"} {
		if strings.Contains(r.stderr, bad) {
			t.Errorf("stderr has %q:\n%s", bad, lastLines(r.stderr, 10))
		}
	}
	ents, _ := os.ReadDir(mnt)
	if len(ents) != 1 || ents[0].Name() != "bk.asb" {
		t.Errorf("left in the file system: %v, want only the -o file", ents)
	}
}
