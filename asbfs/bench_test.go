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

// BenchmarkMillionRecords mounts a 1M-record backup directory with the
// asbfs command and reports the time from starting the process until the
// mount answers, the time to list the set, the latency of reading one
// record by name (p50/p99), the index memory per record and the asbfs
// process's peak RSS (VmHWM). Run with -benchtime 1x. ASBFS_BENCH_RECORDS
// changes the record count; ASBFS_BENCH_FILES=1 writes a single file;
// ASBFS_BENCH_LSL=1 also times a stat of every record (ls -l);
// ASBFS_BENCH_DIR keeps the generated backup in that directory for reuse.
func BenchmarkMillionRecords(b *testing.B) {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		b.Skip("skipping: /dev/fuse is absent")
	}
	n := 1_000_000
	if s := os.Getenv("ASBFS_BENCH_RECORDS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	perFile := 250_000
	if os.Getenv("ASBFS_BENCH_FILES") == "1" {
		perFile = n
	}
	dir := b.TempDir()
	backup := filepath.Join(dir, "backup")
	if keep := os.Getenv("ASBFS_BENCH_DIR"); keep != "" {
		// Reuse a backup written by an earlier run.
		backup = keep
	}
	if _, err := os.Stat(filepath.Join(backup, "test_00000.asb")); err != nil {
		os.MkdirAll(backup, 0o755)
		writeBenchBackup(b, backup, n, perFile)
	}
	var size int64
	ents, _ := os.ReadDir(backup)
	for _, e := range ents {
		if fi, err := e.Info(); err == nil {
			size += fi.Size()
		}
	}
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		mnt := filepath.Join(dir, fmt.Sprintf("mnt%d", it))
		os.Mkdir(mnt, 0o755)
		set := filepath.Join(mnt, "test", "users")
		cmd := exec.Command(asbfsBin, "--no-config-file", "-v", backup, mnt)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		stop := func() {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(20 * time.Second):
				unmount(mnt, true)
				cmd.Process.Kill()
			}
		}
		for {
			if _, err := os.Stat(set); err == nil {
				break
			}
			select {
			case err := <-exited:
				b.Fatalf("asbfs exited (%v):\n%s", err, stderr.String())
			case <-time.After(2 * time.Millisecond):
			}
			if time.Since(start) > time.Minute {
				stop()
				b.Fatalf("not mounted after a minute:\n%s", stderr.String())
			}
		}
		ready := time.Since(start)

		start = time.Now()
		names, err := os.ReadDir(set)
		list := time.Since(start)
		if err != nil || len(names) != n {
			stop()
			b.Fatalf("listing: %d entries, %v", len(names), err)
		}
		var lsl time.Duration
		if os.Getenv("ASBFS_BENCH_LSL") == "1" {
			start = time.Now()
			for _, e := range names {
				if _, err := e.Info(); err != nil {
					stop()
					b.Fatal(err)
				}
			}
			lsl = time.Since(start)
		}
		names = nil

		rng := rand.New(rand.NewSource(int64(it)))
		const samples = 2000
		lat := make([]time.Duration, samples)
		for i := range lat {
			p := filepath.Join(set, fmt.Sprintf("user-%08d", rng.Intn(n)))
			t0 := time.Now()
			data, err := os.ReadFile(p)
			lat[i] = time.Since(t0)
			if err != nil || len(data) < 100 {
				stop()
				b.Fatalf("reading %s: %d bytes, %v", p, len(data), err)
			}
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		hwm := procStatus(cmd.Process.Pid, "VmHWM")
		stop()
		var perRec float64
		if m := indexBytesRE.FindStringSubmatch(stderr.String()); m != nil {
			ib, _ := strconv.ParseInt(m[1], 10, 64)
			perRec = float64(ib) / float64(n)
		}
		b.ReportMetric(ready.Seconds(), "mount-ready-s")
		b.ReportMetric(list.Seconds(), "list-set-s")
		if lsl > 0 {
			b.ReportMetric(lsl.Seconds(), "stat-all-s")
		}
		b.ReportMetric(float64(lat[samples/2].Microseconds()), "read-p50-µs")
		b.ReportMetric(float64(lat[samples*99/100].Microseconds()), "read-p99-µs")
		b.ReportMetric(perRec, "index-B/record")
		b.ReportMetric(float64(hwm)/(1<<20), "asbfs-peak-RSS-MiB")
		b.ReportMetric(float64(size)/float64(n), "backup-B/record")
	}
}
