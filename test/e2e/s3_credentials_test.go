package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"asbtools/asdsim"
	"asbtools/internal/miniotest"
)

// TestS3CredentialChain gives the tools their S3 credentials through the
// shared credentials file instead of the environment: the default profile
// (wrong keys here), the profile named by --s3-profile, by the s3-profile
// key of astools.conf and by AWS_PROFILE; a profile that does not exist is
// an error. --s3-log-level Debug logs the SDK's requests as INF lines.
func TestS3CredentialChain(t *testing.T) {
	src := s3Source(t)
	bucket := s3Bucket(t)
	work := t.TempDir()
	creds := filepath.Join(work, "credentials")
	err := os.WriteFile(creds, []byte("[default]\naws_access_key_id = nobody\naws_secret_access_key = nothing\n\n"+
		"[bk]\naws_access_key_id = "+miniotest.AccessKey+"\naws_secret_access_key = "+miniotest.SecretKey+"\n"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(work, "astools.conf")
	if err := os.WriteFile(conf, []byte("[asrestore]\ns3-profile = \"bk\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := func(extra ...string) []string {
		return append([]string{"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN=", "AWS_REGION=", "AWS_PROFILE=",
			"AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=" + creds, "AWS_EC2_METADATA_DISABLED=true"}, extra...)
	}
	obj := "s3://" + bucket + "/profile.asb"
	res := runTool(t, "asbackup", work, env(), append(append(hostArgs(src), "-n", "test", "-o", obj, "--s3-profile", "bk"), s3Flags(t)...)...)
	if res.code != 0 {
		t.Fatalf("backup with --s3-profile bk: exit %d\n%s", res.code, res.stderr)
	}
	restore := func(env []string, args ...string) toolRun {
		dst := startServer(t, asdsim.Config{})
		res := runTool(t, "asrestore", work, env, append(append(append(hostArgs(dst), "-i", obj), s3Flags(t)...), args...)...)
		if res.code == 0 {
			sameServerContent(t, src, dst)
		}
		return res
	}
	// (The object's HEAD request gets a 403 without a body: "Forbidden".)
	if res := restore(env(), "--no-config-file"); res.code != 1 || !strings.Contains(res.stderr, "[ERR]") || !strings.Contains(res.stderr, "Forbidden") {
		t.Errorf("the default profile's wrong keys: exit %d\n%s", res.code, res.stderr)
	}
	for name, c := range map[string]struct {
		env  []string
		args []string
	}{
		"--s3-profile":     {env(), []string{"--no-config-file", "--s3-profile", "bk"}},
		"astools.conf key": {env(), []string{"--only-config-file", conf}},
		"AWS_PROFILE":      {env("AWS_PROFILE=bk"), []string{"--no-config-file"}},
	} {
		if res := restore(c.env, c.args...); res.code != 0 {
			t.Errorf("profile bk through %s: exit %d\n%s", name, res.code, lastLines(res.stderr, 3))
		}
	}
	if res := restore(env(), "--no-config-file", "--s3-profile", "nosuch"); res.code != 1 || !strings.Contains(res.stderr, "[ERR]") || !strings.Contains(res.stderr, "nosuch") {
		t.Errorf("a profile that does not exist: exit %d\n%s", res.code, lastLines(res.stderr, 3))
	}

	res = restore(env(), "--no-config-file", "--s3-profile", "bk", "--s3-log-level", "debug")
	if res.code != 0 {
		t.Fatalf("--s3-log-level debug: exit %d\n%s", res.code, lastLines(res.stderr, 3))
	}
	logged := 0
	for _, l := range strings.Split(res.stderr, "\n") {
		if strings.Contains(l, "[S3 ") {
			if !strings.Contains(l, "[INF]") {
				t.Errorf("not an INF line: %s", l)
			}
			logged++
		}
	}
	if logged == 0 || !strings.Contains(res.stderr, "GET /"+bucket+"/profile.asb") {
		t.Errorf("--s3-log-level debug logged no request:\n%s", lastLines(res.stderr, 5))
	}
	if res := restore(env(), "--no-config-file", "--s3-profile", "bk"); strings.Contains(res.stderr, "[S3 ") {
		t.Errorf("the SDK logged at the default level Fatal:\n%s", lastLines(res.stderr, 5))
	}
}
