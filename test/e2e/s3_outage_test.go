package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"asbtools/asdsim"
	"asbtools/state"
)

// TestS3BackupOutage takes the S3 server away, for longer than requests
// are retried, while a backup uploads to it (a directory whose files
// rotate, and a single object), and brings it back only once the backup
// has ended. As with the legacy tool, a part that cannot be uploaded stops
// the backup: the store's message is an ERR line, the state file is
// created and saved with the failed parts' bytes, the resume hint is
// printed and the exit code is 1, the uploads are left open. Once the
// server is back, --continue must upload the failed parts and finish:
// every record exactly once in the objects, the same records as the source
// after a restore from S3, no incomplete upload left.
func TestS3BackupOutage(t *testing.T) {
	srv := resumeServer(t)
	bucket := s3Bucket(t)
	cases := []struct {
		name string
		out  []string
	}{
		// 5 MiB parts: the directory's files (8 MiB) have a full part
		// uploaded while they are written and the rest at rotation.
		{"dir", []string{"-d", "s3://" + bucket + "/outage", "--file-limit", "8"}},
		// 2 MiB files: each is one part, uploaded when the file rotates.
		{"dir-rotating", []string{"-d", "s3://" + bucket + "/outage-rot", "--file-limit", "2"}},
		{"object", []string{"-o", "s3://" + bucket + "/outage.asb"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			work := t.TempDir()
			base := append(append(append(hostArgs(srv), "-n", "test", "--parallel", "2"), c.out...), s3Flags(t)...)
			// Slowed down (1 MiB/s, about 25 s in all) so that the server
			// goes away with most of the backup still to upload.
			cmd := toolCmd(t, "asbackup", work, s3Env(t, "ASBACKUP_CHECKPOINT_MS=100"), append(base, "-N", "1")...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			statePath := filepath.Join(work, "test.asb.state")
			if !waitFor(60*time.Second, func() bool { return stateRecords(statePath) >= 30000 }) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("no checkpoint with 30000 records:\n%s", stderr.String())
			}
			s3Server(t).Kill()
			err := cmd.Wait()
			if rerr := s3Server(t).Relaunch(); rerr != nil {
				t.Fatal(rerr)
			}
			out := stderr.String()
			t.Logf("stderr tail:\n%s", lastLines(out, 8))
			if err == nil || cmd.ProcessState.ExitCode() != 1 {
				t.Fatalf("backup during the outage: %v, want exit 1", err)
			}
			if strings.Contains(out, "Backup aborted") || strings.Contains(out, "unrecoverable") {
				t.Fatalf("the backup was aborted:\n%s", out)
			}
			if !containsInOrder(out, "[ERR] [", "] Unable to connect to endpoint: ",
				"[INF] [", "] Created backup state file test.asb.state\n",
				"[INF] [", "] Backup was interrupted, to resume, run backup with `--continue test.asb.state` and all the same arguments (except --remove-files)\n",
				"[INF] [", "] Backed up ") {
				t.Fatalf("not the legacy lines of a failed part:\n%s", out)
			}
			if strings.Contains(out, "### Backup interrupted ###") {
				t.Errorf("a failed part reported as an interrupt:\n%s", out)
			}
			// A rotation whose file cannot be finished: legacy's failed
			// close, the job stopped without a file. (If the store went
			// away between a rotation's close and its new file, the
			// creation fails instead.)
			created := containsInOrder(out, "] Failed to open directory file s3://", "] Error while opening new backup file\n")
			if c.name == "dir-rotating" && !created && !containsInOrder(out, "] Created backup state file test.asb.state\n",
				"[ERR] [", "] Error while closing backup io proxy\n", "[ERR] [", "] Error while closing old backup file\n",
				"] Backup of ", " interrupted, records: ",
				"[ERR] [", "] Attempting to close a NULL file descriptor\n", "[ERR] [", "] Error while closing backup file\n") {
				t.Errorf("not the legacy lines of a failed rotation:\n%s", out)
			}
			st, lerr := state.Load(statePath)
			if lerr != nil {
				t.Fatal(lerr)
			}
			if st.RecTotal >= resumeRecords {
				t.Fatalf("the state holds all %d records: the outage came too late", st.RecTotal)
			}
			failed := 0
			for _, f := range st.Files {
				if f.S3 == nil {
					t.Fatalf("%s: no upload state", f.Path)
				}
				key := strings.TrimPrefix(f.Path, "s3://"+bucket+"/")
				if ids := s3UploadIDs(t, bucket, key); len(ids) != 1 || ids[0] != f.S3.UploadID {
					t.Errorf("%s: uploads %v open, want the saved %s", f.Path, ids, f.S3.UploadID)
				}
				for _, p := range f.S3.Failed {
					if len(p.Data) == 0 {
						t.Errorf("%s: failed part %d without its bytes", f.Path, p.PartNumber)
					}
					failed++
				}
			}
			if failed == 0 && !created {
				t.Fatalf("no failed part in the state (%d files)", len(st.Files))
			}

			res := runTool(t, "asbackup", work, s3Env(t), append(base, "--continue", "test.asb.state")...)
			if res.code != 0 {
				t.Fatalf("--continue: exit %d\n%s", res.code, lastLines(res.stderr, 8))
			}
			if !strings.Contains(res.stderr, fmt.Sprintf("Backed up %d record(s)", resumeRecords)) {
				t.Errorf("summary of the resumed run:\n%s", lastLines(res.stderr, 3))
			}
			for _, f := range st.Files {
				key := strings.TrimPrefix(f.Path, "s3://"+bucket+"/")
				if ids := s3UploadIDs(t, bucket, key); len(ids) != 0 {
					t.Errorf("%s: incomplete uploads left: %v", f.Path, ids)
				}
			}
			if u := s3Uploads(t, bucket); len(u) != 0 {
				t.Errorf("incomplete uploads left: %v", u)
			}
			local := filepath.Join(work, "copy")
			os.Mkdir(local, 0o755)
			prefix := strings.TrimPrefix(c.out[1], "s3://"+bucket+"/")
			if c.name != "object" {
				prefix += "/"
			}
			checkExactlyOnce(t, srv, s3Download(t, bucket, prefix, local), nil)

			dst := startServer(t, asdsim.Config{})
			in := []string{"-d", c.out[1]}
			if c.name == "object" {
				in = []string{"-i", c.out[1]}
			}
			r := runTool(t, "asrestore", work, s3Env(t), append(append(hostArgs(dst), in...), s3Flags(t)...)...)
			if r.code != 0 {
				t.Fatalf("restore: exit %d\n%s", r.code, lastLines(r.stderr, 5))
			}
			sameServerContent(t, srv, dst)
		})
	}
}

// containsInOrder reports whether s holds the parts one after the other.
func containsInOrder(s string, parts ...string) bool {
	for _, p := range parts {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}

// s3UploadIDs returns the ids of the incomplete uploads of key.
func s3UploadIDs(t testing.TB, bucket, key string) []string {
	t.Helper()
	res, err := s3Server(t).Client().ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket), Prefix: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, u := range res.Uploads {
		if aws.ToString(u.Key) == key {
			out = append(out, aws.ToString(u.UploadId))
		}
	}
	return out
}
