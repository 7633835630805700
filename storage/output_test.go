package storage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"asbtools/asb"
	"asbtools/stream"
)

func collect(lines *[]string) Logf {
	return func(info bool, msg string) {
		lvl := "ERR "
		if info {
			lvl = "INF "
		}
		*lines = append(*lines, lvl+msg)
	}
}

func TestPrepareAndClearDirectory(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "bk")
	var log []string
	if err := PrepareDirectory(dir, collect(&log)); err != nil {
		t.Fatal(err)
	}
	want := []string{"INF Directory " + dir + " does not exist, creating", "INF Directory " + dir + " prepared for backup"}
	if strings.Join(log, "|") != strings.Join(want, "|") {
		t.Errorf("log %q", log)
	}
	os.WriteFile(filepath.Join(dir, "keep.txt"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "x.asb.state"), nil, 0o644)
	if err := ClearDirectory(dir, false); err != nil {
		t.Fatalf("other files must be ignored: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "old_00000.asb"), []byte("x"), 0o644)
	err := ClearDirectory(dir, false)
	if err == nil || err.Error() != "Directory "+dir+" seems to contain an existing backup; use -r to clear directory" {
		t.Fatalf("got %v", err)
	}
	if err := ClearDirectory(dir, true); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"keep.txt", "x.asb.state"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("-r removed %s", n)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "old_00000.asb")); err == nil {
		t.Error("-r kept the .asb file")
	}
	// A file where the directory should be.
	f := filepath.Join(base, "file")
	os.WriteFile(f, nil, 0o644)
	if err := PrepareDirectory(f, collect(&log)); err == nil {
		t.Error("file accepted as directory")
	}
}

func TestPrepareOutputFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.asb")
	if err := PrepareOutputFile(p, false); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p, []byte("x"), 0o644)
	if err := PrepareOutputFile(p, false); err == nil || err.Error() != "Output file "+p+" already exists; use -r to remove" {
		t.Fatalf("got %v", err)
	}
	if err := PrepareOutputFile(p, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err == nil {
		t.Error("-r did not remove the file")
	}
	if err := PrepareOutputFile("-", false); err != nil {
		t.Error("stdout refused")
	}
}

func TestRemoveArtifacts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bk")
	os.Mkdir(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "a.asb"), nil, 0o644)
	var log []string
	if err := RemoveArtifacts("", dir, collect(&log)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("emptied directory kept")
	}
	err := RemoveArtifacts(filepath.Join(dir, "missing.asb"), "", collect(&log))
	if err == nil || !strings.Contains(err.Error(), "(error 2: No such file or directory)") {
		t.Errorf("missing file: %v", err)
	}
}

func TestDirNamingAndReuse(t *testing.T) {
	dir := t.TempDir()
	d := NewDir(dir, "pre", "test", stream.Options{}, 100, 0)
	f0, fresh, err := d.Acquire(asb.Version31)
	if err != nil || !fresh || f0.Path != dir+"/pre_00000.asb" {
		t.Fatalf("%v %v %v", f0, fresh, err)
	}
	f1, _, _ := d.Acquire(asb.Version31)
	if f1.Path != dir+"/pre_00001.asb" {
		t.Fatalf("second file %s", f1.Path)
	}
	// Below the limit: queued and handed out again before a new file.
	if err := d.Release(f0); err != nil {
		t.Fatal(err)
	}
	g, fresh, _ := d.Acquire(asb.Version31)
	if g != f0 || fresh {
		t.Fatalf("reuse queue not used")
	}
	// Past the limit: closed.
	g.ASB().WriteMeta(asb.FirstFileMeta())
	for i := 0; i < 10; i++ {
		g.Stream().Write([]byte(strings.Repeat("x", 20)))
	}
	g.Flush()
	if err := d.Release(g); err != nil {
		t.Fatal(err)
	}
	if len(d.Queued()) != 0 {
		t.Error("full file queued")
	}
	if d.FileName(123456) != dir+"/pre_123456.asb" || d.Created() != 2 {
		t.Error("naming")
	}
	d.Release(f1)
	for _, f := range d.Drain() {
		d.CloseFile(f)
	}
	data, _ := os.ReadFile(dir + "/pre_00001.asb")
	if string(data) != "Version 3.1\n# namespace test\n" {
		t.Errorf("header %q", data)
	}
	b, r := d.Committed()
	if b == 0 || r != 0 {
		t.Errorf("committed %d %d", b, r)
	}
}
