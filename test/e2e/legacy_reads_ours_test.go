package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"asbtools/asdsim"
)

// TestLegacyReadsOurZstd: legacy 4.5.8 asrestore restored every record of
// each file in test/golden/legacy-reads-ours (written by this asbackup with
// zstd at one level of each encoder, and with zstd+AES-256; recorded by its
// record.sh). This asbackup must still write exactly those bytes at those
// levels from the same records: a change in what the encoders write makes
// this fail until the files are recorded again and legacy asrestore is
// shown to read the new ones. The AES-256 file holds the text of the
// default level's file.
func TestLegacyReadsOurZstd(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "test", "golden", "legacy-reads-ours")
	transcript, err := os.ReadFile(filepath.Join(dir, "legacy-restore.txt"))
	if err != nil {
		t.Fatal(err)
	}
	restored := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(transcript)), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 || f[1] != "0" || !strings.Contains(line, "inserted 600: failed 0") {
			t.Fatalf("legacy asrestore did not restore every record: %q", line)
		}
		restored[f[0]] = true
	}
	levels := []int{1, 3, 5, 7}
	for _, want := range []string{"level-1.asb", "level-3.asb", "level-5.asb", "level-7.asb", "zstd-aes256.asb"} {
		if !restored[want] {
			t.Fatalf("legacy-restore.txt has no line for %s", want)
		}
	}

	srv, err := asdsim.Start(asdsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	// asdsim -seed-records 600 -seed-kind people, as record.sh runs it
	if err := srv.SeedPeople("test", "demo", 600, 1); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	for _, l := range levels {
		name := fmt.Sprintf("level-%d.asb", l)
		res := runTool(t, "asbackup", work, []string{"ASBACKUP_CHECKPOINT_MS=-1"},
			append(hostArgs(srv), "-n", "test", "-o", name, "-z", "zstd", "--compression-level", fmt.Sprint(l))...)
		if res.code != 0 {
			t.Fatalf("asbackup exit %d:\n%s", res.code, lastLines(res.stderr, 5))
		}
		got, err := os.ReadFile(filepath.Join(work, name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("--compression-level %d: asbackup now writes other bytes (%d, first difference at %d) than the %d that legacy asrestore was shown to read; record test/golden/legacy-reads-ours again",
				l, len(got), firstDiff(got, want), len(want))
		}
	}

	c := refCodecOf(t, dir, []string{"-z", "zstd", "-y", "aes256", "--encryption-key-env", "ASB_ENCRYPTION_KEY"})
	aes := c.decodeFile(t, filepath.Join(dir, "zstd-aes256.asb"))
	plain := refCodec{zstd: true}.decodeFile(t, filepath.Join(dir, "level-3.asb"))
	if len(plain) < 100_000 || !bytes.Equal(aes, plain) {
		t.Errorf("zstd-aes256.asb holds %d bytes of text, level-3.asb %d: not the same", len(aes), len(plain))
	}
}
