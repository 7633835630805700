package legacy

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"asbtools/backup"
	"asbtools/logging"
	"asbtools/msg"
	"asbtools/restore"
)

func TestFormatETA(t *testing.T) {
	for in, want := range map[int64]string{
		-5: "0s", 0: "0s", 45: "45s", 120: "2m0s", 3723: "1h2m3s", 86405: "1d0h0m5s",
		100 * 86400: "100d0h0m0s", 100*86400 + 1: ">100d",
	} {
		if got := FormatETA(in); got != want {
			t.Errorf("FormatETA(%d) = %q, want %q", in, got, want)
		}
	}
}

// messages returns the messages of the log lines in buf (the text after
// the "[LVL] [  tid] " prefix), with their level tag.
func messages(buf *bytes.Buffer) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		if l == "" {
			continue
		}
		i := strings.Index(l, "] [")
		j := strings.Index(l[i+3:], "] ")
		out = append(out, l[i-3:i]+" "+l[i+3+j+2:])
	}
	return out
}

// TestBackupProgress feeds ticks one second apart: the progress lines come
// after the first second and then every tenth tick, the machine lines with
// every tick, and the summary at the end.
func TestBackupProgress(t *testing.T) {
	var buf bytes.Buffer
	log := logging.New(&buf)
	mach := filepath.Join(t.TempDir(), "m.txt")
	b := NewBackup(log, "start", mach)
	if err := b.Begin(); err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1000, 0)
	b.Progress(backup.Progress{Expected: 1000, Time: t0, First: true})
	for i := 1; i <= 12; i++ {
		b.Progress(backup.Progress{Records: uint64(20 * i), Bytes: uint64(2048 * i), Expected: 1000, Time: t0.Add(time.Duration(i) * time.Second)})
	}
	code := b.Finish(false, backup.Summary{Records: 240, Bytes: 24576, Done: true}, nil)
	if code != 0 {
		t.Errorf("exit code %d", code)
	}
	want := []string{
		"INF 2% complete (~2 KiB/s, ~20 rec/s, ~102 B/rec)", "INF ~49s remaining",
		"INF 22% complete (~2 KiB/s, ~20 rec/s, ~102 B/rec)", "INF ~39s remaining",
		"INF Backed up 240 record(s), 0 secondary index(es), 0 UDF file(s), 24576 byte(s) in total (~102 B/rec)",
	}
	if got := messages(&buf); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	m, _ := os.ReadFile(mach)
	lines := strings.Split(strings.TrimSpace(string(m)), "\n")
	if len(lines) != 25 || lines[0] != "PROGRESS:2" || lines[1] != "REMAINING:49s" || lines[24] != "SUMMARY:240:0:0:24576:102" {
		t.Errorf("machine lines:\n%s", m)
	}
}

// TestBackupFinish: the error's lines come before the summary; a run that
// never began has no summary; the verbose exit line comes last.
func TestBackupFinish(t *testing.T) {
	var buf bytes.Buffer
	log := logging.New(&buf)
	log.SetVerbose(true)
	b := NewBackup(log, "start", "")
	err := msg.New(msg.Err("Backup aborted, backup state is likely unrecoverable"))
	if code := b.Finish(true, backup.Summary{Records: 3, Bytes: 30, Done: true}, err); code != 1 {
		t.Errorf("exit code %d", code)
	}
	buf2 := bytes.Buffer{}
	b2 := NewBackup(logging.New(&buf2), "start", "")
	if code := b2.Finish(false, backup.Summary{}, &msg.Error{Err: errors.New("x"), Code: 1}); code != 1 {
		t.Errorf("exit code %d", code)
	}
	want := []string{"ERR Backup aborted, backup state is likely unrecoverable",
		"INF Backed up 3 record(s), 0 secondary index(es), 0 UDF file(s), 30 byte(s) in total (~10 B/rec)",
		"VER Exiting with status code 1"}
	if got := messages(&buf); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s", strings.Join(got, "\n"))
	}
	if buf2.Len() != 0 {
		t.Errorf("a run that never began printed %q", buf2.String())
	}
}

// TestRestoreProgress: the progress lines come after the first second,
// every tenth tick and at the end, with the counter thread's id.
func TestRestoreProgress(t *testing.T) {
	var buf bytes.Buffer
	r := NewRestore(logging.New(&buf), "start", "")
	t0 := time.Unix(1000, 0)
	r.Progress(restore.Progress{Estimated: 10000, Time: t0, First: true})
	for i := 1; i <= 3; i++ {
		last := i == 3
		r.Progress(restore.Progress{Counts: restore.Summary{Records: uint64(10 * i), Bytes: uint64(1024 * i), Inserted: uint64(10 * i)},
			Estimated: 10000, Time: t0.Add(time.Duration(i) * time.Second), Last: last})
	}
	want := []string{
		"INF 0 UDF file(s), 0 secondary index(es), 10 record(s) (10 rec/s, 1 KiB/s, 102 B/rec, retries: 0)",
		"INF Expired 0 : skipped 0 : err_ignored 0 : inserted 10: failed 0 (existed 0 , fresher 0)",
		"INF 10% complete, ~8s remaining",
		"INF 0 UDF file(s), 0 secondary index(es), 30 record(s) (10 rec/s, 1 KiB/s, 102 B/rec, retries: 0)",
		"INF Expired 0 : skipped 0 : err_ignored 0 : inserted 30: failed 0 (existed 0 , fresher 0)",
		"INF 30% complete, ~6s remaining",
	}
	if got := messages(&buf); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestMachineWriteFailures: a --machine file that cannot be written to
// (/dev/full) gives the legacy ERR lines for every progress, remaining-time
// and summary line; a backup then fails (exit 1), a restore does not.
func TestMachineWriteFailures(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Fatalf("/dev/full: %v", err)
	}
	var buf bytes.Buffer
	b := NewBackup(logging.New(&buf), "start", "/dev/full")
	if err := b.Begin(); err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1000, 0)
	b.Progress(backup.Progress{Expected: 1000, Time: t0, First: true})
	b.Progress(backup.Progress{Records: 20, Bytes: 2048, Expected: 1000, Time: t0.Add(time.Second)})
	if code := b.Finish(false, backup.Summary{Records: 20, Bytes: 2048, Done: true}, nil); code != 1 {
		t.Errorf("backup exit code %d, want 1", code)
	}
	const enospc = " (error 28: No space left on device)"
	want := []string{
		"INF 2% complete (~2 KiB/s, ~20 rec/s, ~102 B/rec)", "INF ~49s remaining",
		"ERR Error while writing machine-readable progress" + enospc,
		"ERR Error while writing machine-readable remaining time" + enospc,
		"INF Backed up 20 record(s), 0 secondary index(es), 0 UDF file(s), 2048 byte(s) in total (~102 B/rec)",
		"ERR Error while writing machine-readable summary" + enospc,
	}
	if got := messages(&buf); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("backup lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	buf.Reset()
	r := NewRestore(logging.New(&buf), "start", "/dev/full")
	if err := r.Begin(); err != nil {
		t.Fatal(err)
	}
	r.Progress(restore.Progress{Estimated: 10000, Time: t0, First: true})
	r.Progress(restore.Progress{Counts: restore.Summary{Records: 10, Bytes: 1024, Inserted: 10},
		Estimated: 10000, Time: t0.Add(time.Second), Last: true})
	if code := r.Finish(false, nil); code != 0 {
		t.Errorf("restore exit code %d, want 0", code)
	}
	for _, w := range []string{"progress", "remaining time", "summary"} {
		if !strings.Contains(buf.String(), "[ERR] ") || !strings.Contains(buf.String(), "Error while writing machine-readable "+w+enospc) {
			t.Errorf("restore: no %s failure in\n%s", w, buf.String())
		}
	}
}
