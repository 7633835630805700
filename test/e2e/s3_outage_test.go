package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestS3BackupOutage stops the S3 server for longer than the requests are
// retried while a directory backup uploads to it: the backup must fail
// with an ERR line and exit 1 (never succeed with objects missing), and a
// second run once the server is back (--continue if a state was saved,
// else -r) must leave every record exactly once and no incomplete upload.
func TestS3BackupOutage(t *testing.T) {
	srv := resumeServer(t)
	bucket := s3Bucket(t)
	work := t.TempDir()
	target := "s3://" + bucket + "/outage"
	args := append(append(hostArgs(srv), "-n", "test", "-d", target, "--parallel", "2", "-F", "2", "-N", "4"), s3Flags(t)...)
	cmd := toolCmd(t, "asbackup", work, s3Env(t), args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if !waitFor(60*time.Second, func() bool { return len(s3Keys(t, bucket, "outage/")) >= 2 }) {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("no object written:\n%s", stderr.String())
	}
	if err := s3Server(t).Restart(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	t.Logf("exit %v; stderr tail:\n%s", err, lastLines(stderr.String(), 8))
	if err == nil {
		// Every record must then be there.
		local := filepath.Join(work, "copy")
		os.Mkdir(local, 0o755)
		checkExactlyOnce(t, srv, s3Download(t, bucket, "outage/", local), nil)
		return
	}
	if !strings.Contains(stderr.String(), "[ERR]") {
		t.Fatalf("failed without an ERR line:\n%s", stderr.String())
	}
	rerun := append(append(hostArgs(srv), "-n", "test", "-d", target, "--parallel", "2", "-F", "2"), s3Flags(t)...)
	if strings.Contains(stderr.String(), "--continue test.asb.state") {
		rerun = append(rerun, "--continue", "test.asb.state")
	} else {
		// A failed upload fails the file's flush, which aborts the
		// backup (docs/compat.md): it says so, and a new run with -r
		// replaces what it left.
		if !strings.Contains(stderr.String(), "Backup aborted, backup state is likely unrecoverable") {
			t.Fatalf("neither a resumable state nor an abort:\n%s", lastLines(stderr.String(), 8))
		}
		rerun = append(rerun, "-r")
	}
	res := runTool(t, "asbackup", work, s3Env(t), rerun...)
	if res.code != 0 {
		t.Fatalf("%v: exit %d\n%s", rerun[len(rerun)-1], res.code, lastLines(res.stderr, 8))
	}
	if !strings.Contains(res.stderr, fmt.Sprintf("Backed up %d record(s)", resumeRecords)) {
		t.Errorf("summary of the second run:\n%s", lastLines(res.stderr, 3))
	}
	local := filepath.Join(work, "copy")
	os.Mkdir(local, 0o755)
	checkExactlyOnce(t, srv, s3Download(t, bucket, "outage/", local), nil)
	if u := s3Uploads(t, bucket); len(u) != 0 {
		t.Errorf("incomplete uploads left: %v", u)
	}
}
