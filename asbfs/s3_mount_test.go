package asbfs_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"asbtools/internal/miniotest"
)

var (
	s3Once sync.Once
	s3Srv  *miniotest.Server
	s3Err  error
)

// s3Server starts the S3 test server (MinIO) on first use; withASBFS stops
// it after the tests.
func s3Server(t *testing.T) *miniotest.Server {
	t.Helper()
	s3Once.Do(func() { s3Srv, s3Err = miniotest.Start() })
	if s3Err != nil {
		t.Fatalf("starting the S3 test server: %v", s3Err)
	}
	return s3Srv
}

func stopS3() {
	if s3Srv != nil {
		s3Srv.Stop()
	}
}

// treeContent maps every path under root to its content ("<dir>" for
// directories).
func treeContent(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			out[rel] = "<dir>"
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[rel] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestS3Mounts puts every golden backup into S3 and mounts it from there:
// the mount shows exactly the same files with the same content as the
// mount of the local copy (which TestGoldenMounts checks in detail).
func TestS3Mounts(t *testing.T) {
	needFUSE(t)
	srv := s3Server(t)
	const bucket = "asbfs-goldens"
	if err := srv.MakeBucket(bucket); err != nil {
		t.Fatal(err)
	}
	client := srv.Client()
	env := srv.Env()
	for _, c := range goldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(goldenDir, c.name)
			local := filepath.Join(dir, c.path)
			err := filepath.WalkDir(local, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(dir, p)
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				_, err = client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket),
					Key: aws.String(c.name + "/" + filepath.ToSlash(rel)), Body: bytes.NewReader(data)})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			remote := "s3://" + bucket + "/" + c.name + "/" + c.path
			s3Args := append(append([]string{"--no-config-file", "--s3-endpoint-override", srv.Endpoint}, c.args...), remote)
			mnt := mount(t, append(append([]string{}, c.env...), env...), s3Args...)
			localMnt := mount(t, c.env, append(append([]string{"--no-config-file"}, c.args...), local)...)
			got, want := treeContent(t, mnt), treeContent(t, localMnt)
			if len(got) != len(want) {
				var g, w []string
				for k := range got {
					g = append(g, k)
				}
				for k := range want {
					w = append(w, k)
				}
				sort.Strings(g)
				sort.Strings(w)
				t.Fatalf("S3 mount has %d entries, local %d:\n%s\n---\n%s", len(got), len(want), strings.Join(g, "\n"), strings.Join(w, "\n"))
			}
			for k, v := range want {
				if got[k] != v {
					t.Fatalf("%s differs between the S3 and the local mount", k)
				}
			}
		})
	}
}
