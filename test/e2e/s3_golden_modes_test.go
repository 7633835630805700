package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"asbtools/asdsim"
)

// TestS3GoldenDatasetsAllModes takes the legacy golden data sets other
// than the kitchen one (which TestS3BackupRoundTrip covers): the large
// data set, the --no-bins and set+bins selections and the backup without
// records. Each is restored into a server, backed up from there to S3 as a
// directory and as a single object, plain, zstd, AES-256 and zstd+AES-256,
// and restored from S3 and from a downloaded copy of the objects: both
// servers must hold what the source holds.
func TestS3GoldenDatasetsAllModes(t *testing.T) {
	root := filepath.Join(repoRoot(t), "test", "golden", "legacy-4.5.8")
	key := filepath.Join(root, "05-kitchen-aes128-keyfile", "key.pem")
	modes := []struct {
		name  string
		flags []string
	}{
		{"plain", nil},
		{"zstd", []string{"-z", "zstd"}},
		{"aes256", []string{"-y", "aes256", "--encryption-key-file", key}},
		{"zstd-aes256", []string{"-z", "zstd", "-y", "aes256", "--encryption-key-file", key}},
	}
	bucket := s3Bucket(t)
	for _, c := range []struct{ name, input, opt string }{
		{"07-large-dir", "backup", "-d"},
		{"08-kitchen-no-bins", "backup.asb", "-i"},
		{"09-kitchen-set-bins", "backup.asb", "-i"},
		{"10-kitchen-no-records", "backup.asb", "-i"},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := startServer(t, asdsim.Config{})
			caseDir := filepath.Join(root, c.name)
			res := runTool(t, "asrestore", caseDir, nil, append(hostArgs(src), c.opt, c.input)...)
			if res.code != 0 {
				t.Fatalf("seeding from the golden backup: exit %d\n%s", res.code, res.stderr)
			}
			if c.name == "07-large-dir" && len(snapshot(src, "test")) == 0 {
				t.Fatal("the large data set restored no record")
			}
			for _, m := range modes {
				for _, single := range []bool{false, true} {
					name := m.name + "-dir"
					if single {
						name = m.name + "-object"
					}
					t.Run(name, func(t *testing.T) {
						work := t.TempDir()
						prefix := c.name + "/" + name
						target := "s3://" + bucket + "/" + prefix
						out, in := []string{"-d", target, "--parallel", "2", "-F", "1"}, []string{"-d", target}
						if single {
							target += ".asb"
							out, in = []string{"-o", target}, []string{"-i", target}
						}
						args := append(append(append(append(hostArgs(src), "-n", "test"), out...), m.flags...), s3Flags(t)...)
						if res := runTool(t, "asbackup", work, s3Env(t), args...); res.code != 0 {
							t.Fatalf("backup: exit %d\n%s", res.code, res.stderr)
						}
						if u := s3Uploads(t, bucket); len(u) != 0 {
							t.Errorf("incomplete uploads left: %v", u)
						}
						fromS3 := startServer(t, asdsim.Config{})
						args = append(append(append(hostArgs(fromS3), in...), m.flags...), s3Flags(t)...)
						if res := runTool(t, "asrestore", work, s3Env(t), args...); res.code != 0 {
							t.Fatalf("restore from S3: exit %d\n%s", res.code, res.stderr)
						}
						sameServerContent(t, src, fromS3)

						local := filepath.Join(work, "copy")
						if err := os.Mkdir(local, 0o755); err != nil {
							t.Fatal(err)
						}
						files := s3Download(t, bucket, prefix, local)
						if len(files) == 0 {
							t.Fatal("no object")
						}
						lin := []string{"-d", local}
						if single {
							lin = []string{"-i", files[0]}
						}
						fromLocal := startServer(t, asdsim.Config{})
						if res := runTool(t, "asrestore", work, nil, append(append(hostArgs(fromLocal), lin...), m.flags...)...); res.code != 0 {
							t.Fatalf("restore from the local copy: exit %d\n%s", res.code, res.stderr)
						}
						sameServerContent(t, src, fromLocal)
					})
				}
			}
		})
	}
}
