package asbfs_test

import (
	"bufio"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"asbtools/asb"
	"asbtools/asbfs/fsnode"
	"asbtools/asbfs/index"
)

// writeBenchBackup writes a backup directory of n records of about 200
// bytes each, split over files of 250,000 records.
func writeBenchBackup(b *testing.B, dir string, n int) {
	rng := rand.New(rand.NewSource(1))
	const perFile = 250_000
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

func peakRSS() int64 {
	data, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			f := strings.Fields(l)
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkMillionRecords mounts a 1M-record backup directory and reports
// the time until the mount answers, the time to list the set, the latency
// of reading one record by name (p50/p99), the peak RSS and the index
// memory per record. Run with -benchtime 1x.
func BenchmarkMillionRecords(b *testing.B) {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		b.Skip("skipping: /dev/fuse is absent")
	}
	n := 1_000_000
	if s := os.Getenv("ASBFS_BENCH_RECORDS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	dir := b.TempDir()
	backup := filepath.Join(dir, "backup")
	os.Mkdir(backup, 0o755)
	writeBenchBackup(b, backup, n)
	var size int64
	ents, _ := os.ReadDir(backup)
	for _, e := range ents {
		if fi, err := e.Info(); err == nil {
			size += fi.Size()
		}
	}
	runtime.GC()
	debug.FreeOSMemory()
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		mnt := filepath.Join(dir, fmt.Sprintf("mnt%d", it))
		os.Mkdir(mnt, 0o755)
		start := time.Now()
		tree, err := index.Open(backup, index.Options{})
		if err != nil {
			b.Fatal(err)
		}
		srv, err := fsnode.Mount(mnt, tree, fsnode.Config{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(mnt, "test", "users")); err != nil {
			srv.Unmount()
			b.Fatal(err)
		}
		ready := time.Since(start)

		start = time.Now()
		names, err := os.ReadDir(filepath.Join(mnt, "test", "users"))
		list := time.Since(start)
		if err != nil || len(names) != n {
			srv.Unmount()
			b.Fatalf("listing: %d entries, %v", len(names), err)
		}
		names = nil

		rng := rand.New(rand.NewSource(int64(it)))
		const samples = 2000
		lat := make([]time.Duration, samples)
		for i := range lat {
			p := filepath.Join(mnt, "test", "users", fmt.Sprintf("user-%08d", rng.Intn(n)))
			t0 := time.Now()
			data, err := os.ReadFile(p)
			lat[i] = time.Since(t0)
			if err != nil || len(data) < 100 {
				srv.Unmount()
				b.Fatalf("reading %s: %d bytes, %v", p, len(data), err)
			}
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		perRec := float64(tree.IndexBytes()) / float64(n)
		if err := srv.Unmount(); err != nil {
			b.Fatal(err)
		}
		tree.Close()

		b.ReportMetric(ready.Seconds(), "mount-ready-s")
		b.ReportMetric(list.Seconds(), "list-set-s")
		b.ReportMetric(float64(lat[samples/2].Microseconds()), "read-p50-µs")
		b.ReportMetric(float64(lat[samples*99/100].Microseconds()), "read-p99-µs")
		b.ReportMetric(perRec, "index-B/record")
		b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MiB")
		b.ReportMetric(float64(size)/float64(n), "backup-B/record")
	}
}
