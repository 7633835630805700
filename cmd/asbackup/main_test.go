package main

import (
	"os"
	"runtime/debug"
	"strings"
	"testing"

	"asbtools/compat"
	"asbtools/internal/miniotest"
	"asbtools/storage"
	"asbtools/toolenv"
)

// currentLimit returns the soft memory limit without changing it.
func currentLimit() int64 { return debug.SetMemoryLimit(-1) }

// TestMemoryLimitFollowsPartSize checks the soft memory limit of S3
// backups: it starts with the part buffers of 5 MiB parts (or
// --s3-min-part-size) and, once a file expected to be large is written to
// a real S3 server (MinIO) with larger parts, it grows with them; a local
// backup has no part buffers.
func TestMemoryLimitFollowsPartSize(t *testing.T) {
	srv, err := miniotest.Start()
	if err != nil {
		t.Fatalf("starting the S3 test server: %v", err)
	}
	defer srv.Stop()
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	if err := srv.MakeBucket("limits"); err != nil {
		t.Fatal(err)
	}
	defer debug.SetMemoryLimit(currentLimit())

	parse := func(args ...string) *compat.BackupConfig {
		t.Helper()
		cfg, action, err := compat.ParseBackup(append([]string{"asbackup", "--no-config-file", "-n", "test"}, args...), compat.Env{})
		if err != nil || action != compat.ActionRun {
			t.Fatalf("%v: %v", args, err)
		}
		return cfg
	}
	const mib = 1 << 20
	enc := func(cfg *compat.BackupConfig) int64 { return codecMemory(cfg) }

	local := parse("-d", t.TempDir(), "-z", "zstd")
	setMemoryLimit(local, toolenv.Store(local.S3, nil))
	if got, want := currentLimit(), memoryLimit+enc(local); got != want {
		t.Errorf("local -d -z zstd: limit %d, want %d", got, want)
	}

	dir := parse("-d", "s3://limits/dir", "--parallel", "3", "--s3-endpoint-override", srv.Endpoint)
	setMemoryLimit(dir, toolenv.Store(dir.S3, nil))
	// 2 open files per thread and 16 uploads of 5 MiB parts.
	if got, want := currentLimit(), int64(memoryLimit+(6+16)*5*mib); got != want {
		t.Errorf("-d s3:// --parallel 3: limit %d, want %d", got, want)
	}
	dir = parse("-d", "s3://limits/dir", "--s3-min-part-size", "8", "--s3-max-async-uploads", "4", "--s3-endpoint-override", srv.Endpoint)
	setMemoryLimit(dir, toolenv.Store(dir.S3, nil))
	if got, want := currentLimit(), int64(memoryLimit+(2+4)*8*mib); got != want {
		t.Errorf("-d s3:// --s3-min-part-size 8 --s3-max-async-uploads 4: limit %d, want %d", got, want)
	}

	out := parse("-o", "s3://limits/big.asb", "--s3-max-async-uploads", "2", "--s3-endpoint-override", srv.Endpoint)
	store := toolenv.Store(out.S3, nil)
	setMemoryLimit(out, store)
	if got, want := currentLimit(), int64(memoryLimit+(1+2)*5*mib); got != want {
		t.Fatalf("-o s3://: limit %d, want %d", got, want)
	}
	// A file expected to hold 100 GiB has parts of ceil(100 GiB / 10,000)
	// bytes (legacy _calc_part_size): the limit follows once they are used.
	const expected = 100 << 30
	part := int64((expected + storage.S3MaxParts - 1) / storage.S3MaxParts)
	sk, err := store.CreateSized("s3://limits/big.asb", expected)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sk.Write(make([]byte, part+1)); err != nil {
		t.Fatal(err)
	}
	if got, want := currentLimit(), memoryLimit+(1+2)*part; got != want {
		t.Errorf("-o s3:// with %d-byte parts: limit %d, want %d", part, got, want)
	}
	if err := sk.Abort(); err != nil {
		t.Fatal(err)
	}
}

func TestMain(m *testing.M) {
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_REGION", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"} {
		os.Unsetenv(k)
	}
	os.Exit(m.Run())
}
