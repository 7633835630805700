package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"asbtools/asb"
	"asbtools/asdsim"
	"asbtools/internal/miniotest"
	"asbtools/state"
)

var (
	s3Once sync.Once
	s3Srv  *miniotest.Server
	s3Err  error
	s3Seq  struct {
		sync.Mutex
		n int
	}
)

// withS3Cleanup stops the shared S3 server once the tests have run.
type withS3Cleanup struct{ m *testing.M }

func (r withS3Cleanup) Run() int {
	code := r.m.Run()
	if s3Srv != nil {
		s3Srv.Stop()
	}
	return code
}

// s3Server returns the S3 server shared by the tests of this process (a
// real MinIO, built on first use).
func s3Server(t testing.TB) *miniotest.Server {
	t.Helper()
	s3Once.Do(func() { s3Srv, s3Err = miniotest.Start() })
	if s3Err != nil {
		t.Fatalf("starting the S3 test server: %v", s3Err)
	}
	return s3Srv
}

// s3Bucket creates a fresh bucket.
func s3Bucket(t testing.TB) string {
	t.Helper()
	srv := s3Server(t)
	s3Seq.Lock()
	s3Seq.n++
	name := fmt.Sprintf("e2e-%d-%d", os.Getpid()%100000, s3Seq.n)
	s3Seq.Unlock()
	if err := srv.MakeBucket(name); err != nil {
		t.Fatal(err)
	}
	return name
}

// s3Env is the environment of a tool run against the test server.
func s3Env(t testing.TB, extra ...string) []string {
	return append(s3Server(t).Env(), extra...)
}

// s3Flags are the --s3-* options that point a tool at the test server.
func s3Flags(t testing.TB) []string {
	return []string{"--s3-endpoint-override", s3Server(t).Addr}
}

// s3Keys lists the objects under prefix (all pages).
func s3Keys(t testing.TB, bucket, prefix string) []string {
	t.Helper()
	c := s3Server(t).Client()
	var keys []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	sort.Strings(keys)
	return keys
}

// s3Uploads lists the incomplete multipart uploads of a bucket.
func s3Uploads(t testing.TB, bucket string) []string {
	t.Helper()
	res, err := s3Server(t).Client().ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, u := range res.Uploads {
		out = append(out, aws.ToString(u.Key))
	}
	return out
}

func s3Get(t testing.TB, bucket, key string) []byte {
	t.Helper()
	res, err := s3Server(t).Client().GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func s3Put(t testing.TB, bucket, key string, data []byte) {
	t.Helper()
	_, err := s3Server(t).Client().PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

// s3Download copies every object under prefix into dir (base names) and
// returns the local paths.
func s3Download(t testing.TB, bucket, prefix, dir string) []string {
	t.Helper()
	var out []string
	for _, k := range s3Keys(t, bucket, prefix) {
		p := filepath.Join(dir, path.Base(k))
		if err := os.WriteFile(p, s3Get(t, bucket, k), 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// sameServerContent compares records, indexes and UDFs of two servers.
func sameServerContent(t testing.TB, want, got *asdsim.Server) {
	t.Helper()
	w, g := snapshot(want, "test"), snapshot(got, "test")
	// Void times come from TTLs relative to the second of each restore.
	for i := range g {
		if i < len(w) && w[i].VoidTime != 0 && g[i].VoidTime != 0 && max(w[i].VoidTime, g[i].VoidTime)-min(w[i].VoidTime, g[i].VoidTime) <= 2 {
			g[i].VoidTime = w[i].VoidTime
		}
	}
	assertSameRecords(t, w, g)
	wi, gi := want.SIndexes(), got.SIndexes()
	sort.Slice(wi, func(i, j int) bool { return wi[i].Name < wi[j].Name })
	sort.Slice(gi, func(i, j int) bool { return gi[i].Name < gi[j].Name })
	if !reflect.DeepEqual(wi, gi) {
		t.Errorf("indexes differ:\n%+v\n%+v", gi, wi)
	}
	wu, gu := want.UDFs(), got.UDFs()
	sort.Slice(wu, func(i, j int) bool { return wu[i].Name < wu[j].Name })
	sort.Slice(gu, func(i, j int) bool { return gu[i].Name < gu[j].Name })
	if !reflect.DeepEqual(wu, gu) {
		t.Errorf("UDFs differ")
	}
}

func hostArgs(srv *asdsim.Server) []string {
	return []string{"-h", srv.Host(), "-p", strconv.Itoa(srv.Port())}
}

// TestS3RestoreLegacyGoldens puts every legacy golden backup into S3 (a
// directory as objects under a prefix, a file as one object) and restores
// it from S3 and from the local copy into two empty servers: the servers
// must hold the same records, indexes and UDFs.
func TestS3RestoreLegacyGoldens(t *testing.T) {
	root := filepath.Join(repoRoot(t), "test", "golden", "legacy-4.5.8")
	bucket := s3Bucket(t)
	cases := []struct {
		name  string
		input string // file or directory of the case
		dir   bool
		flags []string
	}{
		{name: "01-kitchen-file", input: "backup.asb"},
		{name: "02-kitchen-compact", input: "backup.asb"},
		{name: "03-kitchen-dir-parallel", input: "backup", dir: true},
		{name: "04-kitchen-zstd", input: "backup.asb", flags: []string{"-z", "zstd"}},
		{name: "05-kitchen-aes128-keyfile", input: "backup.asb", flags: []string{"-y", "aes128", "--encryption-key-file", "key.pem"}},
		{name: "06-kitchen-zstd-aes256-env", input: "backup.asb", flags: []string{"-z", "zstd", "-y", "aes256", "--encryption-key-env", "ASB_ENCRYPTION_KEY"}},
		{name: "07-large-dir", input: "backup", dir: true},
		{name: "08-kitchen-no-bins", input: "backup.asb"},
		{name: "09-kitchen-set-bins", input: "backup.asb"},
		{name: "10-kitchen-no-records", input: "backup.asb"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			caseDir := filepath.Join(root, c.name)
			env := s3Env(t)
			if data, err := os.ReadFile(filepath.Join(caseDir, "env-key.txt")); err == nil {
				env = append(env, "ASB_ENCRYPTION_KEY="+strings.TrimSpace(string(data)))
			}
			local := filepath.Join(caseDir, c.input)
			remote := "s3://" + bucket + "/" + c.name + "/" + c.input
			opt := "-i"
			if c.dir {
				opt = "-d"
				files, _ := filepath.Glob(filepath.Join(local, "*.asb"))
				for _, f := range files {
					data, _ := os.ReadFile(f)
					s3Put(t, bucket, c.name+"/"+c.input+"/"+filepath.Base(f), data)
				}
			} else {
				data, _ := os.ReadFile(local)
				s3Put(t, bucket, c.name+"/"+c.input, data)
			}
			fromS3 := startServer(t, asdsim.Config{})
			fromLocal := startServer(t, asdsim.Config{})
			args := append(append(append(hostArgs(fromS3), opt, remote), c.flags...), s3Flags(t)...)
			res := runTool(t, "asrestore", caseDir, env, args...)
			if res.code != 0 {
				t.Fatalf("restore from S3: exit %d\n%s", res.code, res.stderr)
			}
			res = runTool(t, "asrestore", caseDir, env, append(append(hostArgs(fromLocal), opt, c.input), c.flags...)...)
			if res.code != 0 {
				t.Fatalf("restore from the local copy: exit %d\n%s", res.code, res.stderr)
			}
			if len(snapshot(fromLocal, "test")) == 0 && c.name != "10-kitchen-no-records" && c.name != "08-kitchen-no-bins" {
				t.Fatal("the local restore restored nothing")
			}
			sameServerContent(t, fromLocal, fromS3)
		})
	}
}

// s3Source returns a server seeded with the kitchen golden data set
// (records, indexes, UDFs).
func s3Source(t testing.TB) *asdsim.Server {
	t.Helper()
	srv := startServer(t, asdsim.Config{})
	recs, _, udfs := backupRecords(t, filepath.Join(repoRoot(t), "test", "golden", "legacy-4.5.8", "01-kitchen-file", "backup.asb"), nil)
	seedRecords(t, srv, "test", recs)
	seedMeta(t, srv, kitchenIndexes(t), udfs)
	return srv
}

// TestS3BackupRoundTrip backs the kitchen data set up to S3 as a directory
// (rotated into several objects) and as a single object, plain, zstd,
// AES-256 and zstd+AES-256, restores each from S3 and from a downloaded
// local copy, and compares both with the source.
func TestS3BackupRoundTrip(t *testing.T) {
	src := s3Source(t)
	keyDir := filepath.Join(repoRoot(t), "test", "golden", "legacy-4.5.8", "05-kitchen-aes128-keyfile")
	modes := []struct {
		name  string
		flags []string
	}{
		{"plain", nil},
		{"zstd", []string{"-z", "zstd"}},
		{"aes256", []string{"-y", "aes256", "--encryption-key-file", filepath.Join(keyDir, "key.pem")}},
		{"zstd-aes256", []string{"-z", "zstd", "-y", "aes256", "--encryption-key-file", filepath.Join(keyDir, "key.pem")}},
	}
	bucket := s3Bucket(t)
	for _, m := range modes {
		for _, single := range []bool{false, true} {
			name := m.name + "-dir"
			if single {
				name = m.name + "-object"
			}
			t.Run(name, func(t *testing.T) {
				work := t.TempDir()
				prefix := name
				target := "s3://" + bucket + "/" + prefix
				out := []string{"-d", target, "--parallel", "4"}
				in := []string{"-d", target}
				if single {
					target += ".asb"
					out = []string{"-o", target}
					in = []string{"-i", target}
				}
				args := append(append(append(append(hostArgs(src), "-n", "test"), out...), m.flags...), s3Flags(t)...)
				res := runTool(t, "asbackup", work, s3Env(t), args...)
				if res.code != 0 {
					t.Fatalf("backup: exit %d\n%s", res.code, res.stderr)
				}
				if !strings.Contains(res.stderr, "Initializing S3 API") {
					t.Errorf("no `Initializing S3 API` line:\n%s", res.stderr)
				}
				if u := s3Uploads(t, bucket); len(u) != 0 {
					t.Errorf("incomplete uploads left: %v", u)
				}
				keys := s3Keys(t, bucket, prefix)
				if len(keys) == 0 || (!single && len(keys) < 2) {
					t.Fatalf("objects: %v", keys)
				}
				// From S3.
				dst := startServer(t, asdsim.Config{})
				res = runTool(t, "asrestore", work, s3Env(t), append(append(append(hostArgs(dst), in...), m.flags...), s3Flags(t)...)...)
				if res.code != 0 {
					t.Fatalf("restore from S3: exit %d\n%s", res.code, res.stderr)
				}
				sameServerContent(t, src, dst)
				// From a local copy of the objects.
				local := filepath.Join(work, "copy")
				os.Mkdir(local, 0o755)
				files := s3Download(t, bucket, prefix, local)
				dst2 := startServer(t, asdsim.Config{})
				lin := []string{"-d", local}
				if single {
					lin = []string{"-i", files[0]}
				}
				res = runTool(t, "asrestore", work, nil, append(append(hostArgs(dst2), lin...), m.flags...)...)
				if res.code != 0 {
					t.Fatalf("restore from the local copy: exit %d\n%s", res.code, res.stderr)
				}
				sameServerContent(t, src, dst2)
			})
		}
	}
	// --file-limit rotation on S3: 1 MiB objects of the 200k-record set.
	t.Run("rotation", func(t *testing.T) {
		big := resumeServer(t)
		work := t.TempDir()
		target := "s3://" + bucket + "/rot"
		res := runTool(t, "asbackup", work, s3Env(t), append(append(hostArgs(big), "-n", "test", "-d", target, "-F", "1", "--parallel", "2"), s3Flags(t)...)...)
		if res.code != 0 {
			t.Fatalf("backup: exit %d\n%s", res.code, res.stderr)
		}
		files := s3Download(t, bucket, "rot/", work)
		if len(files) < 20 {
			t.Fatalf("%d objects for a ~30 MiB backup with -F 1", len(files))
		}
		for _, f := range files {
			if fi, _ := os.Stat(f); fi.Size() > 2<<20 {
				t.Errorf("%s: %d bytes with -F 1", f, fi.Size())
			}
		}
		checkExactlyOnce(t, big, files, nil)
	})
}

// TestS3RemoveFilesAndRefusals checks that nothing in a bucket is replaced
// or deleted without --remove-files, and what -r and --remove-artifacts do.
func TestS3RemoveFilesAndRefusals(t *testing.T) {
	src := s3Source(t)
	bucket := s3Bucket(t)
	work := t.TempDir()
	s3Put(t, bucket, "bk.asb", []byte("precious"))
	s3Put(t, bucket, "dir/old_00000.asb", []byte("precious too"))
	s3Put(t, bucket, "dir/notes.txt", []byte("not a backup"))
	base := append(hostArgs(src), "-n", "test")
	res := runTool(t, "asbackup", work, s3Env(t), append(append(base, "-o", "s3://"+bucket+"/bk.asb"), s3Flags(t)...)...)
	if res.code != 1 || !strings.Contains(res.stderr, "[ERR] ") || !strings.Contains(res.stderr, "S3 object s3:"+bucket+"/bk.asb exists, pass --remove-files to replace it") {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	res = runTool(t, "asbackup", work, s3Env(t), append(append(base, "-d", "s3://"+bucket+"/dir"), s3Flags(t)...)...)
	if res.code != 1 || !strings.Contains(res.stderr, "S3 directory dir in bucket "+bucket+" seems to contain an existing backup; use -r to clear the directory") {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if string(s3Get(t, bucket, "bk.asb")) != "precious" || string(s3Get(t, bucket, "dir/old_00000.asb")) != "precious too" {
		t.Fatal("an object was replaced without --remove-files")
	}
	res = runTool(t, "asbackup", work, s3Env(t), append(append(base, "-r", "-d", "s3://"+bucket+"/dir"), s3Flags(t)...)...)
	if res.code != 0 {
		t.Fatalf("-r: exit %d\n%s", res.code, res.stderr)
	}
	keys := s3Keys(t, bucket, "dir/")
	if len(keys) < 2 || keys[len(keys)-1] != "dir/test_00000.asb" && !strings.Contains(strings.Join(keys, ","), "dir/notes.txt") {
		t.Fatalf("objects after -r: %v", keys)
	}
	for _, k := range keys {
		if k == "dir/old_00000.asb" {
			t.Fatal("-r kept the old backup object")
		}
	}
	res = runTool(t, "asbackup", work, s3Env(t), append([]string{"--remove-artifacts", "-d", "s3://" + bucket + "/dir"}, s3Flags(t)...)...)
	if res.code != 0 || !strings.Contains(res.stderr, "Deleting backup directory s3://"+bucket+"/dir") {
		t.Fatalf("--remove-artifacts: exit %d\n%s", res.code, res.stderr)
	}
	if keys := s3Keys(t, bucket, "dir/"); strings.Join(keys, ",") != "dir/notes.txt" {
		t.Fatalf("objects after --remove-artifacts: %v", keys)
	}
}

// TestS3BadInput: a missing bucket, wrong credentials, an unreachable
// endpoint, a malformed URL or no region/endpoint give an error line and
// exit 1.
func TestS3BadInput(t *testing.T) {
	src := s3Source(t)
	bucket := s3Bucket(t)
	work := t.TempDir()
	base := append(hostArgs(src), "-n", "test")
	cases := []struct {
		name string
		tool string
		args []string
		env  []string
		want string
	}{
		{"backup-missing-bucket", "asbackup", append(append(base, "-d", "s3://no-such-bucket/x"), s3Flags(t)...), nil, "The specified bucket does not exist"},
		{"backup-object-missing-bucket", "asbackup", append(append(base, "-o", "s3://no-such-bucket/x.asb"), s3Flags(t)...), nil, "The specified bucket does not exist"},
		{"restore-missing-bucket", "asrestore", append(append(hostArgs(src), "-d", "s3://no-such-bucket/x"), s3Flags(t)...), nil, "The specified bucket does not exist"},
		{"restore-missing-object", "asrestore", append(append(hostArgs(src), "-i", "s3://"+bucket+"/none.asb"), s3Flags(t)...), nil, "Not Found"},
		{"backup-wrong-secret", "asbackup", append(append(base, "-d", "s3://"+bucket+"/x"), s3Flags(t)...), []string{"AWS_SECRET_ACCESS_KEY=wrong"}, "signature we calculated does not match"},
		{"restore-wrong-key", "asrestore", append(append(hostArgs(src), "-d", "s3://"+bucket+"/x"), s3Flags(t)...), []string{"AWS_ACCESS_KEY_ID=nobody"}, "Access Key Id you provided does not exist"},
		{"backup-unreachable", "asbackup", append(base, "-d", "s3://"+bucket+"/x", "--s3-endpoint-override", "127.0.0.1:1"), nil, "connection refused"},
		{"restore-unreachable", "asrestore", append(hostArgs(src), "-i", "s3://"+bucket+"/x.asb", "--s3-endpoint-override", "http://127.0.0.1:1"), nil, "connection refused"},
		{"backup-malformed", "asbackup", append(append(base, "-d", "s3://bucket-without-slash"), s3Flags(t)...), nil, `Failed to parse S3 path "s3://bucket-without-slash", bucket name not followed by '/'.`},
		{"restore-malformed", "asrestore", append(append(hostArgs(src), "-i", "s3://nokey"), s3Flags(t)...), nil, `Failed to parse S3 path "s3://nokey", bucket name not followed by '/'.`},
		{"backup-no-region", "asbackup", append(base, "-d", "s3://"+bucket+"/x"), nil, "S3 API must be enabled by specifying a region if no endpoint override is given."},
		{"restore-no-region", "asrestore", append(hostArgs(src), "-d", "s3://"+bucket+"/x"), nil, "S3 API must be enabled by specifying a region if no endpoint override is given."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := runTool(t, c.tool, work, s3Env(t, c.env...), c.args...)
			if res.code != 1 || !strings.Contains(res.stderr, c.want) {
				t.Fatalf("exit %d, want 1 and %q:\n%s", res.code, c.want, res.stderr)
			}
			for _, l := range strings.Split(res.stderr, "\n") {
				if strings.Contains(l, c.want) && !strings.Contains(l, "[ERR] ") {
					t.Errorf("not an ERR line: %s", l)
				}
			}
		})
	}
	if keys := s3Keys(t, bucket, ""); len(keys) != 0 {
		t.Errorf("failed runs left objects: %v", keys)
	}
	if u := s3Uploads(t, bucket); len(u) != 0 {
		t.Errorf("failed runs left uploads: %v", u)
	}
}

// TestS3Restore2500Objects restores a backup directory of 2,500 objects
// (several listing pages).
func TestS3Restore2500Objects(t *testing.T) {
	bucket := s3Bucket(t)
	const n = 2500
	err := s3Server(t).PutObjects(bucket, n, func(i int) (string, []byte) {
		var b bytes.Buffer
		w := asb.NewWriter(&b)
		w.WriteHeader(&asb.Header{Version: asb.Version31, Meta: []asb.Meta{asb.NamespaceMeta("test")}})
		w.WriteRecord(policyRecord("key-"+strconv.Itoa(i), 1, 0, intBin("a", int64(i))))
		w.Flush()
		return fmt.Sprintf("many/test_%05d.asb", i), b.Bytes()
	})
	if err != nil {
		t.Fatal(err)
	}
	dst := startServer(t, asdsim.Config{})
	res := runTool(t, "asrestore", t.TempDir(), s3Env(t), append(append(hostArgs(dst), "-d", "s3://"+bucket+"/many", "--s3-max-async-downloads", "4"), s3Flags(t)...)...)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, lastLines(res.stderr, 10))
	}
	if !strings.Contains(res.stderr, "Found 2500 backup file(s) in s3://"+bucket+"/many") {
		t.Errorf("no Found line:\n%s", lastLines(res.stderr, 10))
	}
	if got := dst.Count("test", "s"); got != n {
		t.Fatalf("restored %d records, want %d", got, n)
	}
	for i := range n {
		if _, ok := dst.GetByKey("test", "s", asdsim.StringKey("key-"+strconv.Itoa(i))); !ok {
			t.Fatalf("record key-%d missing", i)
		}
	}
}

// stateRecords returns the record total of a state file (0 if unreadable).
func stateRecords(p string) uint64 {
	st, err := state.Load(p)
	if err != nil {
		return 0
	}
	return st.RecTotal
}

// TestS3BackupResumeExactlyOnce interrupts backups to S3 (directory with
// rotation, single object) with SIGKILL, SIGINT and SIGTERM and resumes
// them with --continue: every record must be in the objects exactly once
// and no incomplete upload may be left.
func TestS3BackupResumeExactlyOnce(t *testing.T) {
	srv := resumeServer(t)
	bucket := s3Bucket(t)
	cases := []struct {
		name   string
		single bool
		sig    syscall.Signal
		at     uint64 // interrupt once a checkpoint holds this many records
		// s3State puts the state file into the bucket (--state-file-dst).
		s3State bool
	}{
		{"dir-sigkill", false, syscall.SIGKILL, 60000, false},
		{"dir-sigint", false, syscall.SIGINT, 30000, false},
		{"object-sigkill", true, syscall.SIGKILL, 80000, false},
		{"object-sigterm", true, syscall.SIGTERM, 50000, false},
		{"dir-sigkill-s3-state", false, syscall.SIGKILL, 40000, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			work := t.TempDir()
			target := "s3://" + bucket + "/" + c.name
			outArgs := []string{"-d", target, "--parallel", "4", "--file-limit", "2"}
			if c.single {
				target += ".asb"
				outArgs = []string{"-o", target, "--parallel", "4"}
			}
			statePath := filepath.Join(work, "test.asb.state")
			stateArg := "test.asb.state"
			checkpointed := func() uint64 { return stateRecords(statePath) }
			if c.s3State {
				stateArg = "s3://" + bucket + "/states/" + c.name + ".state"
				outArgs = append(outArgs, "--state-file-dst", stateArg)
				checkpointed = func() uint64 {
					res, err := s3Server(t).Client().GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("states/" + c.name + ".state")})
					if err != nil {
						return 0
					}
					defer res.Body.Close()
					st, err := state.Read(res.Body)
					if err != nil {
						return 0
					}
					return st.RecTotal
				}
			}
			base := append(append(hostArgs(srv), "-n", "test"), s3Flags(t)...)
			args := append(append(append([]string{}, base...), outArgs...), "--nice", "5")
			cmd := toolCmd(t, "asbackup", work, s3Env(t, "ASBACKUP_CHECKPOINT_MS=100"), args...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if !waitFor(90*time.Second, func() bool { return checkpointed() >= c.at }) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("no checkpoint with %d records:\n%s", c.at, stderr.String())
			}
			cmd.Process.Signal(c.sig)
			if err := cmd.Wait(); err == nil {
				t.Fatalf("backup finished before the interruption:\n%s", stderr.String())
			}
			if c.sig != syscall.SIGKILL && !strings.Contains(stderr.String(), "Backup was interrupted, to resume, run backup with `--continue "+stateArg+"`") {
				t.Fatalf("no resume hint:\n%s", stderr.String())
			}
			cont := append(append(append([]string{}, base...), outArgs...), "--continue", stateArg)
			res := runTool(t, "asbackup", work, s3Env(t), cont...)
			if res.code != 0 {
				t.Fatalf("--continue exit %d:\n%s", res.code, res.stderr)
			}
			if !strings.Contains(res.stderr, fmt.Sprintf("Backed up %d record(s)", resumeRecords)) {
				t.Errorf("resumed summary does not report %d records:\n%s", resumeRecords, lastLines(res.stderr, 3))
			}
			local := filepath.Join(work, "copy")
			os.Mkdir(local, 0o755)
			prefix := c.name + "/"
			if c.single {
				prefix = c.name + ".asb"
			}
			files := s3Download(t, bucket, prefix, local)
			checkExactlyOnce(t, srv, files, nil)
			for _, u := range s3Uploads(t, bucket) {
				if strings.HasPrefix(u, c.name) {
					t.Errorf("incomplete upload left: %s", u)
				}
			}
		})
	}
}

// TestS3RestoreServerRestart restarts the S3 server while a restore reads
// from it: the restore must either finish with every record (the reads
// are retried from the last byte received) or fail with a non-zero exit,
// never end successfully with records missing.
func TestS3RestoreServerRestart(t *testing.T) {
	srv := resumeServer(t)
	bucket := s3Bucket(t)
	work := t.TempDir()
	res := runTool(t, "asbackup", work, s3Env(t), append(append(hostArgs(srv), "-n", "test", "-d", "s3://"+bucket+"/big", "-F", "1", "--parallel", "2"), s3Flags(t)...)...)
	if res.code != 0 {
		t.Fatalf("backup: exit %d\n%s", res.code, res.stderr)
	}
	dst := startServer(t, asdsim.Config{})
	// Slowed down (-N 4 MiB/s) so that most objects are still to be read
	// when the server goes away.
	cmd := toolCmd(t, "asrestore", work, s3Env(t), append(append(hostArgs(dst), "-d", "s3://"+bucket+"/big", "--parallel", "1", "-N", "4,100000"), s3Flags(t)...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if !waitFor(60*time.Second, func() bool { return dst.Count("test", "rs") >= 20000 }) {
		t.Fatalf("restore did not start:\n%s", stderr.String())
	}
	restarted := dst.Count("test", "rs")
	if err := s3Server(t).Restart(time.Second); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	got := dst.Count("test", "rs")
	t.Logf("restart after %d records; exit %v; %d records restored", restarted, err, got)
	if restarted >= resumeRecords {
		t.Fatal("the restore finished before the restart")
	}
	t.Logf("stderr tail:\n%s", lastLines(stderr.String(), 6))
	if err == nil && got != resumeRecords {
		t.Fatalf("exit 0 with %d of %d records:\n%s", got, resumeRecords, lastLines(stderr.String(), 5))
	}
	if err != nil && !strings.Contains(stderr.String(), "[ERR]") {
		t.Fatalf("failed without an error line:\n%s", stderr.String())
	}
}
