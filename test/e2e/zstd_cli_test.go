package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// zstdCommand returns the path of the zstd command-line tool; the test
// fails (it does not skip) without it: .ci/run installs it.
func zstdCommand(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("zstd")
	if err != nil {
		t.Fatalf("this test needs the zstd command (Debian/Ubuntu package zstd, installed by .ci/run): %v", err)
	}
	return p
}

// zstdDecompress runs `zstd -d -c` on a file and returns the text.
func zstdDecompress(t *testing.T, zstdPath, file string) []byte {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(zstdPath, "-q", "-d", "-c", file)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("zstd -d %s: %v\n%s", file, err, errb.String())
	}
	return out.Bytes()
}

// backupText is what a set of backup files holds: each file's header (the
// exact lines before the first entry) and all record blocks, sorted.
type backupText struct {
	headers []string
	records []string
}

func readBackupText(t *testing.T, files []string, decode func(string) []byte) backupText {
	t.Helper()
	var bt backupText
	for _, f := range files {
		data := decode(f)
		h, globals, recs := fileBlocks(t, data, filepath.Base(f))
		if len(globals) != 0 {
			t.Fatalf("%s: %d unexpected index/UDF lines", f, len(globals))
		}
		bt.headers = append(bt.headers, h)
		bt.records = append(bt.records, recs...)
	}
	sort.Strings(bt.headers)
	sort.Strings(bt.records)
	return bt
}

func sameBackupText(t *testing.T, what string, got, want backupText, exactHeaders bool) {
	t.Helper()
	if exactHeaders && !slices.Equal(got.headers, want.headers) {
		t.Errorf("%s: file headers %q, want %q (as without -z)", what, got.headers, want.headers)
	}
	if !exactHeaders {
		// Another number of files: every header is one of the plain run's,
		// and exactly one file is the first file.
		first := 0
		for _, h := range got.headers {
			if !slices.Contains(want.headers, h) {
				t.Errorf("%s: file header %q is none of %q", what, h, want.headers)
			}
			if strings.Contains(h, "# first-file\n") {
				first++
			}
		}
		if first != 1 {
			t.Errorf("%s: %d files with # first-file, want 1", what, first)
		}
	}
	if len(got.records) != len(want.records) {
		t.Fatalf("%s: %d record blocks, want %d", what, len(got.records), len(want.records))
	}
	for i := range got.records {
		if got.records[i] != want.records[i] {
			t.Fatalf("%s: record blocks differ from the backup without -z, first difference:\n%q\nwant\n%q", what, got.records[i], want.records[i])
		}
	}
}

// TestZstdFilesReadableByZstdCommand: the compressed backup files (directory
// and -o, with several frames ended by in-run checkpoints, and after a
// SIGKILL and --continue) are standard zstd: the real `zstd -d` decompresses
// them to the text the same backup writes without -z (same headers, the
// same record blocks up to their order).
func TestZstdFilesReadableByZstdCommand(t *testing.T) {
	zstdPath := zstdCommand(t)
	srv := resumeServer(t)
	work := t.TempDir()
	base := []string{"-h", srv.Host(), "-p", fmt.Sprint(srv.Port()), "-n", "test", "--parallel", "4"}
	run := func(env []string, args ...string) {
		t.Helper()
		res := runTool(t, "asbackup", work, env, append(append([]string{}, base...), args...)...)
		if res.code != 0 {
			t.Fatalf("asbackup %q: exit %d\n%s", args, res.code, res.stderr)
		}
	}
	glob := func(dir string) []string {
		m, _ := filepath.Glob(filepath.Join(work, dir, "*.asb"))
		sort.Strings(m)
		return m
	}
	plainRead := func(f string) []byte {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var frames []int
	zstdRead := func(f string) []byte {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fr, err := zstdFrames(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		frames = append(frames, len(fr))
		return zstdDecompress(t, zstdPath, f)
	}
	// Checkpoints every 20 ms end the files' frames while the backup runs.
	ckpt := []string{"ASBACKUP_CHECKPOINT_MS=20"}

	run(nil, "-d", "plain")
	run(nil, "-o", "plain.asb")
	plainDir := readBackupText(t, glob("plain"), plainRead)
	plainFile := readBackupText(t, []string{filepath.Join(work, "plain.asb")}, plainRead)
	if len(plainDir.records) != resumeRecords || len(plainFile.records) != resumeRecords {
		t.Fatalf("plain backups hold %d and %d records, want %d", len(plainDir.records), len(plainFile.records), resumeRecords)
	}

	t.Run("directory", func(t *testing.T) {
		frames = nil
		run(ckpt, "-d", "z", "-z", "zstd")
		got := readBackupText(t, glob("z"), zstdRead)
		sameBackupText(t, "-d -z zstd", got, plainDir, len(glob("z")) == len(plainDir.headers))
		if slices.Max(frames) < 2 {
			t.Errorf("frames per file %v: the checkpoints should have ended frames", frames)
		}
	})
	t.Run("single-file", func(t *testing.T) {
		frames = nil
		run(ckpt, "-o", "z.asb", "-z", "zstd", "--compression-level", "1")
		got := readBackupText(t, []string{filepath.Join(work, "z.asb")}, zstdRead)
		sameBackupText(t, "-o -z zstd", got, plainFile, true)
		if frames[0] < 2 {
			t.Errorf("%d frame(s): the checkpoints should have ended frames", frames[0])
		}
	})
	t.Run("continued", func(t *testing.T) {
		frames = nil
		args := append(append([]string{}, base...), "-d", "r", "-z", "zstd", "--file-limit", "1")
		// --nice 1 holds the output at 1 MiB/s, so the kill lands while
		// the scans run; checkpoints every 100 ms.
		cmd := toolCmd(t, "asbackup", work, []string{"ASBACKUP_CHECKPOINT_MS=100"}, append(append([]string{}, args...), "--nice", "1")...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if !waitFor(60*time.Second, func() bool { return outputSize(filepath.Join(work, "r")) >= 1<<20 }) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("less than 1 MiB written within 60 s:\n%s", stderr.String())
		}
		time.Sleep(250 * time.Millisecond) // a checkpoint covering this point lands
		cmd.Process.Signal(syscall.SIGKILL)
		if err := cmd.Wait(); err == nil {
			t.Fatalf("backup finished before the kill:\n%s", stderr.String())
		}
		res := runTool(t, "asbackup", work, nil, append(args, "--continue", filepath.Join("r", "test.asb.state"))...)
		if res.code != 0 {
			t.Fatalf("--continue: exit %d\n%s", res.code, res.stderr)
		}
		files := glob("r")
		if len(files) < 2 {
			t.Fatalf("%d files, want several (--file-limit 1)", len(files))
		}
		got := readBackupText(t, files, zstdRead)
		sameBackupText(t, "-d -z zstd, killed and continued", got, plainDir, false)
	})
}
