package asbfs_test

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"asbtools/asb"
)

// writeBenchBackup writes a backup directory of n records of about 200
// bytes each, split over files of perFile records.
func writeBenchBackup(b *testing.B, dir string, n, perFile int) {
	rng := rand.New(rand.NewSource(1))
	blob := make([]byte, 60)
	for fi := 0; fi*perFile < n; fi++ {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("test_%05d.asb", fi)))
		if err != nil {
			b.Fatal(err)
		}
		bw := bufio.NewWriterSize(f, 1<<20)
		w := asb.NewWriter(bw)
		meta := []asb.Meta{asb.NamespaceMeta("test")}
		if fi == 0 {
			meta = append(meta, asb.FirstFileMeta())
		}
		if err := w.WriteHeader(&asb.Header{Meta: meta}); err != nil {
			b.Fatal(err)
		}
		var rec asb.Record
		for i := fi * perFile; i < min(n, (fi+1)*perFile); i++ {
			var d [20]byte
			rng.Read(d[:])
			rng.Read(blob)
			rec = asb.Record{
				Key:        asb.Key{Type: asb.KeyString, Bytes: []byte(fmt.Sprintf("user-%08d", i))},
				Namespace:  []byte("test"),
				Digest:     d,
				Set:        []byte("users"),
				HasSet:     true,
				Generation: 1,
				VoidTime:   uint32(500_000_000 + i),
				Bins: []asb.Bin{
					{Name: []byte("age"), Type: asb.BinInt, Int: int64(i % 100)},
					{Name: []byte("name"), Type: asb.BinString, Bytes: []byte("name-" + strconv.Itoa(i))},
					{Name: []byte("data"), Type: asb.BinBlob, Bytes: blob},
				},
			}
			if err := w.WriteRecord(&rec); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := bw.Flush(); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

// procStatus returns a field of /proc/<pid>/status in bytes (VmHWM, VmRSS).
func procStatus(pid int, field string) int64 {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, field+":") {
			f := strings.Fields(l)
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

var indexBytesRE = regexp.MustCompile(`index (\d+) bytes`)

// benchMount is one asbfs process serving a benchmark backup.
type benchMount struct {
	mnt    string
	cmd    *exec.Cmd
	stderr bytes.Buffer
	exited chan error
	ready  time.Duration // from starting the process until the set answers
}

// startBenchMount runs asbfs on backup and waits until set (a path in the
// mount) exists.
func startBenchMount(b *testing.B, backup, mnt, set string) *benchMount {
	os.MkdirAll(mnt, 0o755)
	m := &benchMount{mnt: mnt, exited: make(chan error, 1)}
	m.cmd = exec.Command(asbfsBin, "--no-config-file", "-v", backup, mnt)
	m.cmd.Stderr = &m.stderr
	start := time.Now()
	if err := m.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() { m.exited <- m.cmd.Wait() }()
	for {
		if _, err := os.Stat(filepath.Join(mnt, set)); err == nil {
			break
		}
		select {
		case err := <-m.exited:
			b.Fatalf("asbfs exited (%v):\n%s", err, m.stderr.String())
		case <-time.After(2 * time.Millisecond):
		}
		if time.Since(start) > 5*time.Minute {
			m.stop()
			b.Fatalf("not mounted after 5 minutes:\n%s", m.stderr.String())
		}
	}
	m.ready = time.Since(start)
	return m
}

func (m *benchMount) stop() {
	m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.exited:
	case <-time.After(time.Minute):
		unmount(m.mnt, true)
		m.cmd.Process.Kill()
	}
}

// shell runs a shell command line, checks that its output is want (when
// want is not empty) and returns how long it took.
func (m *benchMount) shell(b *testing.B, line, want string) time.Duration {
	start := time.Now()
	out, err := exec.Command("sh", "-c", line).Output()
	d := time.Since(start)
	if err != nil || (want != "" && strings.TrimSpace(string(out)) != want) {
		m.stop()
		b.Fatalf("%s: %q, %v (want %q)", line, out, err, want)
	}
	return d
}

// readLatencies reads samples random records by name and returns the
// sorted latencies.
func (m *benchMount) readLatencies(b *testing.B, set string, n, samples int, seed int64) []time.Duration {
	rng := rand.New(rand.NewSource(seed))
	lat := make([]time.Duration, samples)
	for i := range lat {
		p := filepath.Join(m.mnt, set, fmt.Sprintf("user-%08d", rng.Intn(n)))
		t0 := time.Now()
		data, err := os.ReadFile(p)
		lat[i] = time.Since(t0)
		if err != nil || len(data) < 100 {
			m.stop()
			b.Fatalf("reading %s: %d bytes, %v", p, len(data), err)
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat
}

// indexPerRecord returns the index size per record asbfs -v reported.
func (m *benchMount) indexPerRecord(n int) float64 {
	if mm := indexBytesRE.FindStringSubmatch(m.stderr.String()); mm != nil {
		ib, _ := strconv.ParseInt(mm[1], 10, 64)
		return float64(ib) / float64(n)
	}
	return 0
}

// benchBackup writes (or reuses, with ASBFS_BENCH_DIR) a backup directory
// of n records, 4 files, and returns it with its size.
func benchBackup(b *testing.B, n int) (string, int64) {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		b.Skip("skipping: /dev/fuse is absent")
	}
	backup := filepath.Join(b.TempDir(), "backup")
	if keep := os.Getenv("ASBFS_BENCH_DIR"); keep != "" {
		// Reuse a backup written by an earlier run.
		backup = keep
	}
	if _, err := os.Stat(filepath.Join(backup, "test_00000.asb")); err != nil {
		os.MkdirAll(backup, 0o755)
		writeBenchBackup(b, backup, n, (n+3)/4)
	}
	var size int64
	ents, _ := os.ReadDir(backup)
	for _, e := range ents {
		if fi, err := e.Info(); err == nil {
			size += fi.Size()
		}
	}
	return backup, size
}

// BenchmarkMillionRecords mounts a 1M-record backup directory (4 files,
// about 230 bytes per record) with the asbfs command, several times so
// that every listing starts with cold kernel caches, and reports:
// mount-ready-s (process start until the set answers), ls-s (ls | wc -l),
// ls-l-warm-s (ls -l right after ls, as a user would), read-p50/p99-µs
// (2,000 random records read by name) and asbfs-peak-RSS-MiB (VmHWM of
// that whole session), then ls-l-s, find-size-s (find -size +1k) and
// du-s-s (du -s), each on a fresh mount, and jsonl-MB/s (reading the set's
// JSON lines stream sequentially). Run with -benchtime 1x.
// ASBFS_BENCH_RECORDS changes the record count; ASBFS_BENCH_DIR keeps the
// generated backup in that directory for reuse.
func BenchmarkMillionRecords(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("ASBFS_BENCH_RECORDS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	backup, size := benchBackup(b, n)
	dir := b.TempDir()
	const set = "test/users"
	count := strconv.Itoa(n)
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		mnt := func(k int) string { return filepath.Join(dir, fmt.Sprintf("mnt%d-%d", it, k)) }
		// Session 1: ls, ls -l, random reads, peak memory.
		m := startBenchMount(b, backup, mnt(1), set)
		sd := filepath.Join(m.mnt, set)
		ls := m.shell(b, "ls "+sd+" | wc -l", count)
		lslWarm := m.shell(b, "ls -l "+sd+" | wc -l", strconv.Itoa(n+1))
		lat := m.readLatencies(b, set, n, 2000, int64(it))
		hwm := procStatus(m.cmd.Process.Pid, "VmHWM")
		m.stop()
		ready, perRec := m.ready, m.indexPerRecord(n)

		// Sessions 2-4: each tool on cold caches.
		m = startBenchMount(b, backup, mnt(2), set)
		lsl := m.shell(b, "ls -l "+filepath.Join(m.mnt, set)+" | wc -l", strconv.Itoa(n+1))
		m.stop()
		m = startBenchMount(b, backup, mnt(3), set)
		find := m.shell(b, "find "+filepath.Join(m.mnt, set)+" -size +1k | wc -l", "0")
		m.stop()
		m = startBenchMount(b, backup, mnt(4), set)
		du := m.shell(b, "du -s "+filepath.Join(m.mnt, set)+" >/dev/null", "")
		jsonl := filepath.Join(m.mnt, "test", "%jsonl", "users.jsonl")
		st, err := os.Stat(jsonl)
		if err != nil {
			b.Fatal(err)
		}
		rd := m.shell(b, "cat "+jsonl+" | wc -c", strconv.FormatInt(st.Size(), 10))
		m.stop()

		b.ReportMetric(ready.Seconds(), "mount-ready-s")
		b.ReportMetric(ls.Seconds(), "ls-s")
		b.ReportMetric(lslWarm.Seconds(), "ls-l-warm-s")
		b.ReportMetric(lsl.Seconds(), "ls-l-s")
		b.ReportMetric(find.Seconds(), "find-size-s")
		b.ReportMetric(du.Seconds(), "du-s-s")
		b.ReportMetric(float64(st.Size())/rd.Seconds()/1e6, "jsonl-MB/s")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "read-p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "read-p99-µs")
		b.ReportMetric(perRec, "index-B/record")
		b.ReportMetric(float64(hwm)/(1<<20), "asbfs-peak-RSS-MiB")
		b.ReportMetric(float64(size)/float64(n), "backup-B/record")
	}
}

// BenchmarkTenMillionRecords mounts a 10M-record backup directory (4 files,
// about 2.3 GB, written by the benchmark) and reports mount-ready-s,
// ls-s (ls | wc -l), read-p50/p99-µs (2,000 random records by name),
// index-B/record and asbfs-peak-RSS-MiB. It needs about 2.5 GB of space in
// the temporary directory. Run with -benchtime 1x; ASBFS_BENCH_DIR keeps
// the backup for reuse.
func BenchmarkTenMillionRecords(b *testing.B) {
	const n = 10_000_000
	backup, size := benchBackup(b, n)
	dir := b.TempDir()
	const set = "test/users"
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		m := startBenchMount(b, backup, filepath.Join(dir, fmt.Sprintf("mnt%d", it)), set)
		ls := m.shell(b, "ls "+filepath.Join(m.mnt, set)+" | wc -l", strconv.Itoa(n))
		lat := m.readLatencies(b, set, n, 2000, int64(it))
		hwm := procStatus(m.cmd.Process.Pid, "VmHWM")
		m.stop()
		b.ReportMetric(m.ready.Seconds(), "mount-ready-s")
		b.ReportMetric(ls.Seconds(), "ls-s")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "read-p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "read-p99-µs")
		b.ReportMetric(m.indexPerRecord(n), "index-B/record")
		b.ReportMetric(float64(hwm)/(1<<20), "asbfs-peak-RSS-MiB")
		b.ReportMetric(float64(size)/float64(n), "backup-B/record")
	}
}
