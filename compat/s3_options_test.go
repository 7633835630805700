package compat

import (
	"testing"
	"time"
)

// TestS3OptionValues checks the legacy defaults of the --s3-* options of
// both tools, their values from the command line (MiB for the part size,
// the log level in any case) and from the astools.conf keys of each
// tool's section, and that the command line wins over a file.
func TestS3OptionValues(t *testing.T) {
	def := S3Config{MaxAsyncDownloads: 32, MaxAsyncUploads: 16, LogLevel: "Fatal", ConnectTimeout: 1000 * time.Millisecond}
	opt := func(v string) Opt { return Opt{Value: v, Set: true} }
	full := S3Config{Region: opt("eu-west-1"), Profile: opt("backups"), EndpointOverride: opt("http://127.0.0.1:9000"),
		MinPartSize: 64 << 20, MaxAsyncDownloads: 7, MaxAsyncUploads: 3, LogLevel: "Debug",
		ConnectTimeout: 2500 * time.Millisecond, AllowSystemProxy: true}
	cli := []string{"--s3-region", "eu-west-1", "--s3-profile", "backups", "--s3-endpoint-override", "http://127.0.0.1:9000",
		"--s3-min-part-size", "64", "--s3-max-async-downloads", "7", "--s3-max-async-uploads", "3",
		"--s3-log-level", "dEbUg", "--s3-connect-timeout", "2500", "--s3-allow-system-proxy"}
	file := func(section string, backup bool) []ConfigSetting {
		s := []ConfigSetting{set(section, "s3-region", "eu-west-1"), set(section, "s3-profile", "backups"),
			set(section, "s3-endpoint-override", "http://127.0.0.1:9000"), set(section, "s3-max-async-downloads", int64(7)),
			set(section, "s3-log-level", "DEBUG"), set(section, "s3-connect-timeout", int64(2500)),
			set(section, "s3-allow-system-proxy", true)}
		if backup {
			s = append(s, set(section, "s3-min-part-size", int64(64)), set(section, "s3-max-async-uploads", int64(3)))
		}
		return s
	}

	if got := backupOK(t, testEnv(t, nil, nil, nil), "-n", "ns", "-o", "x").S3; got != def {
		t.Errorf("asbackup defaults %+v, want %+v", got, def)
	}
	if got := backupOK(t, testEnv(t, nil, nil, nil), append([]string{"-n", "ns", "-o", "x"}, cli...)...).S3; got != full {
		t.Errorf("asbackup command line %+v, want %+v", got, full)
	}
	if got := backupOK(t, testEnv(t, file("asbackup", true), nil, nil), "-n", "ns", "-o", "x").S3; got != full {
		t.Errorf("asbackup astools.conf %+v, want %+v", got, full)
	}
	over := backupOK(t, testEnv(t, file("asbackup", true), nil, nil), "-n", "ns", "-o", "x", "--s3-region", "us-east-2", "--s3-max-async-uploads", "9").S3
	if over.Region.Value != "us-east-2" || over.MaxAsyncUploads != 9 || over.MinPartSize != 64<<20 {
		t.Errorf("asbackup command line over astools.conf: %+v", over)
	}

	restore := func(env Env, args ...string) S3Config {
		t.Helper()
		c, a, err := ParseRestore(append([]string{"asrestore", "-i", "x"}, args...), env)
		if err != nil || a != ActionRun {
			t.Fatalf("ParseRestore(%q): %v %v", args, a, err)
		}
		return c.S3
	}
	// asrestore has no part size and no uploads.
	rdef, rfull := def, full
	rdef.MaxAsyncUploads = 0
	rfull.MinPartSize, rfull.MaxAsyncUploads = 0, 0
	if got := restore(testEnv(t, nil, nil, nil)); got != rdef {
		t.Errorf("asrestore defaults %+v, want %+v", got, rdef)
	}
	if got := restore(testEnv(t, nil, nil, nil), cli[:6]...); got.Region != full.Region || got.Profile != full.Profile || got.EndpointOverride != full.EndpointOverride {
		t.Errorf("asrestore command line %+v", got)
	}
	rcli := append(append([]string{}, cli[:6]...), cli[8:10]...)
	rcli = append(rcli, cli[12:]...)
	if got := restore(testEnv(t, nil, nil, nil), rcli...); got != rfull {
		t.Errorf("asrestore command line %+v, want %+v", got, rfull)
	}
	if got := restore(testEnv(t, file("asrestore", false), nil, nil)); got != rfull {
		t.Errorf("asrestore astools.conf %+v, want %+v", got, rfull)
	}
}
