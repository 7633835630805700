package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"

	"asbtools/asdsim"
	"asbtools/stream"
)

// levelSteps are --compression-level values, one for each encoder setting
// of stream.encoderSettings from the fastest to the best (0 is the default
// level, 3).
var levelSteps = []int{1, 0, 5, 6, 7, 9}

// TestZstdLevels backs up 30k records of names, e-mail addresses, cities
// and words (11 MB of text) with -o at one level of each encoder setting.
// Each file is one frame whose window is the level's (stream.Window: what a
// reader of the file holds), the zstd command decompresses it to the text
// of the same backup without -z, and every step up the levels gives a
// smaller file: a level mapped onto the wrong encoder or window fails. In-run
// checkpoints are off so that every file is a single frame whatever the
// speed of the machine.
func TestZstdLevels(t *testing.T) {
	zstdPath := zstdCommand(t)
	srv, err := asdsim.Start(asdsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.SeedPeople("test", "people", 30000, 1); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	env := []string{"ASBACKUP_CHECKPOINT_MS=-1"}
	backup := func(name string, args ...string) string {
		t.Helper()
		res := runTool(t, "asbackup", work, env, append([]string{"-h", srv.Host(), "-p", fmt.Sprint(srv.Port()), "-n", "test", "-o", name}, args...)...)
		if res.code != 0 {
			t.Fatalf("asbackup %q: exit %d\n%s", args, res.code, res.stderr)
		}
		return filepath.Join(work, name)
	}
	plain, err := os.ReadFile(backup("plain.asb"))
	if err != nil {
		t.Fatal(err)
	}
	want := readBackupText(t, []string{"plain"}, func(string) []byte { return plain })
	prev := int64(-1)
	for i, lvl := range levelSteps {
		args := []string{"-z", "zstd"}
		if lvl != 0 {
			args = append(args, "--compression-level", fmt.Sprint(lvl))
		}
		f := backup(fmt.Sprintf("level%d.asb", lvl), args...)
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var h zstd.Header
		if err := h.Decode(data); err != nil {
			t.Fatalf("level %d: %v", lvl, err)
		}
		if h.WindowSize != uint64(stream.Window(lvl)) {
			t.Errorf("level %d: window %d, want %d", lvl, h.WindowSize, stream.Window(lvl))
		}
		if frames, err := zstdFrames(data); err != nil || len(frames) != 1 {
			t.Errorf("level %d: frames %v (%v), want 1", lvl, frames, err)
		}
		got := readBackupText(t, []string{f}, func(f string) []byte { return zstdDecompress(t, zstdPath, f) })
		sameBackupText(t, fmt.Sprintf("level %d", lvl), got, want, true)
		size := int64(len(data))
		t.Logf("level %d: %d bytes, %.1f%% of the text", lvl, size, 100*float64(size)/float64(len(plain)))
		if i > 0 && size >= prev {
			t.Errorf("level %d: %d bytes, not smaller than %d at level %d", lvl, size, prev, levelSteps[i-1])
		}
		prev = size
	}
}
