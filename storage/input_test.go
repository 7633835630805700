package storage

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"asbtools/msg"
)

func TestListInputDirectory(t *testing.T) {
	dir := t.TempDir()
	for name, size := range map[string]int{"a.asb": 3, "b.asb": 5, ".asb": 1, "c.ASB": 2, "d.asb.state": 7, "e.txt": 1} {
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.asb"), 0o755); err != nil {
		t.Fatal(err)
	}
	files, total, err := ListInputDirectory(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var want int64 = 8
	for _, f := range files {
		names = append(names, filepath.Base(f.Path))
		if filepath.Dir(f.Path) != dir {
			t.Errorf("path %q not under %q", f.Path, dir)
		}
		if filepath.Base(f.Path) == "sub.asb" {
			want += f.Size
		}
	}
	sort.Strings(names)
	if len(names) != 3 || names[0] != "a.asb" || names[1] != "b.asb" || names[2] != "sub.asb" {
		t.Fatalf("names = %v", names)
	}
	if total != want {
		t.Fatalf("total = %d, want %d", total, want)
	}
}

func TestListInputDirectoryMissing(t *testing.T) {
	_, _, err := ListInputDirectory("/nonexistent/dir")
	var ie *msg.Error
	if !errors.As(err, &ie) || len(ie.Lines) != 1 || ie.Lines[0] != msg.Err("Directory /nonexistent/dir does not exist") || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
}

func TestListInputDirectoryTrailingSlash(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x.asb"), nil, 0o644)
	files, _, err := ListInputDirectory(dir + "/")
	if err != nil || len(files) != 1 || files[0].Path != dir+"//x.asb" {
		t.Fatalf("files = %v, err = %v", files, err)
	}
}

func TestInputDirectoryList(t *testing.T) {
	cases := []struct {
		list, parent string
		has          bool
		want         []string
	}{
		{"a,b", "", false, []string{"a", "b"}},
		{"a, b", "p", true, []string{"p/a", "p/ b"}},
		{"a", "p/", true, []string{"p/a"}},
		{"a,", "p", true, []string{"p/a", "p/"}},
	}
	for _, c := range cases {
		got := InputDirectoryList(c.list, c.parent, c.has)
		if len(got) != len(c.want) {
			t.Fatalf("%q: got %q", c.list, got)
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%q: got %q want %q", c.list, got, c.want)
			}
		}
	}
	if !IsStdinInput("-") || !IsStdinInput("-:12") || IsStdinInput("a-") {
		t.Fatal("IsStdinInput")
	}
	if !IsBackupFileName("x.asb") || IsBackupFileName(".asb") || IsBackupFileName("x.asbx") {
		t.Fatal("IsBackupFileName")
	}
}
