package e2e

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"asbtools/asdsim"
	"asbtools/stream"
)

const backupBenchRecords = 1000000

var (
	backupBenchSrvOnce sync.Once
	backupBenchSrv     *asdsim.Server
	backupBenchSrvErr  error
)

// backupBenchServer holds 1M records of about 200 bytes (as written to the
// backup) in namespace test.
func backupBenchServer(b *testing.B) *asdsim.Server {
	backupBenchSrvOnce.Do(func() {
		srv, err := asdsim.Start(asdsim.Config{})
		if err != nil {
			backupBenchSrvErr = err
			return
		}
		pad := strings.Repeat("z", 64)
		recs := make([]asdsim.Record, 0, 10000)
		for i := 0; i < backupBenchRecords; i++ {
			recs = append(recs, asdsim.Record{Set: "bench", Key: asdsim.IntKey(int64(i)), Bins: []asdsim.Bin{
				asdsim.IntBin("id", int64(i)),
				{Name: "name", Type: asdsim.ParticleString, Data: []byte(fmt.Sprintf("name-%09d-%s", i, pad))},
				{Name: "blob", Type: asdsim.ParticleBlob, Data: []byte(fmt.Sprintf("%032d", i))},
			}})
			if len(recs) == cap(recs) {
				if err := srv.PutMany("test", recs); err != nil {
					backupBenchSrvErr = err
					return
				}
				recs = recs[:0]
			}
		}
		backupBenchSrv = srv
	})
	if backupBenchSrvErr != nil {
		b.Fatal(backupBenchSrvErr)
	}
	return backupBenchSrv
}

// BenchmarkBackup1M backs up 1M records through the real binary at
// --parallel 1, 4 and 16 and reports records/s, MB/s, the CPU seconds and
// peak RSS of the asbackup process, the CPU seconds of the test server
// (the benchmark's own process, which serves the scans) and the cores both
// kept busy: where that is the number of cores, the backup cannot go
// faster with more jobs.
func BenchmarkBackup1M(b *testing.B) { benchBackup(b, []int{1, 4, 16}, nil) }

// benchKeyMaterial is the --encryption-key-env value of the benchmarks.
const benchKeyMaterial = "YmVuY2gta2V5LW1hdGVyaWFs"

// BenchmarkBackup1MZstd is BenchmarkBackup1M with -z zstd at --parallel 1,
// 2, 4 and 16 (compression should scale up to the number of cores); it also
// reports the size of the files relative to the text they hold.
func BenchmarkBackup1MZstd(b *testing.B) {
	benchBackup(b, []int{1, 2, 4, 16}, &stream.Options{Compress: true}, "-z", "zstd")
}

// BenchmarkBackup1MZstdAES256 is BenchmarkBackup1MZstd with -y aes256.
func BenchmarkBackup1MZstdAES256(b *testing.B) {
	mat, _ := stream.DecodeBase64Key(benchKeyMaterial)
	opts := &stream.Options{Compress: true, Cipher: stream.AES256, Key: stream.DeriveKey(mat, stream.AES256)}
	benchBackup(b, []int{1, 2, 4}, opts, "-z", "zstd", "-y", "aes256", "--encryption-key-env", "ASB_BENCH_KEY")
}

// textSize returns the size of the text a compressed or encrypted backup
// file holds.
func textSize(b *testing.B, path string, opts *stream.Options) int64 {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	r, err := stream.NewReader(bufio.NewReaderSize(f, 1<<16), *opts)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	n, err := io.Copy(io.Discard, r)
	if err != nil {
		b.Fatalf("%s: %v", path, err)
	}
	return n
}

// benchBackup runs asbackup with extra arguments at each --parallel value;
// opts (nil for plain backups) decodes the files of the first run to report
// the ratio of file size to text size.
func benchBackup(b *testing.B, pars []int, opts *stream.Options, extra ...string) {
	srv := backupBenchServer(b)
	env := []string{"ASB_BENCH_KEY=" + benchKeyMaterial}
	for _, par := range pars {
		b.Run(fmt.Sprintf("parallel-%d", par), func(b *testing.B) {
			var cpu, wall, srvCPU float64
			var rss, anon, size, text, firstSize int64
			for i := 0; i < b.N; i++ {
				work := b.TempDir()
				srv0 := selfCPU()
				res := runTool(b, "asbackup", work, env, append([]string{"-h", srv.Host(), "-p", fmt.Sprint(srv.Port()), "-n", "test",
					"-d", "bk", "--parallel", fmt.Sprint(par)}, extra...)...)
				srvCPU += (selfCPU() - srv0).Seconds()
				if res.code != 0 {
					b.Fatalf("asbackup exit %d:\n%s", res.code, res.stderr)
				}
				if !strings.Contains(res.stderr, fmt.Sprintf("Backed up %d record(s)", backupBenchRecords)) {
					b.Fatalf("unexpected summary:\n%s", lastLines(res.stderr, 2))
				}
				m, _ := filepath.Glob(filepath.Join(work, "bk", "*.asb"))
				for _, f := range m {
					if fi, err := os.Stat(f); err == nil {
						size += fi.Size()
						if i == 0 {
							firstSize += fi.Size()
						}
					}
					if i == 0 && opts != nil {
						text += textSize(b, f, opts)
					}
				}
				cpu += res.cpu.Seconds()
				wall += res.wall.Seconds()
				rss = max(rss, res.maxRSS)
				anon = max(anon, res.maxAnon)
			}
			n := float64(b.N)
			b.ReportMetric(backupBenchRecords*n/wall, "records/s")
			b.ReportMetric(float64(size)/wall/1e6, "MB/s")
			b.ReportMetric(cpu/n, "cpu-s/op")
			b.ReportMetric(srvCPU/n, "server-cpu-s/op")
			b.ReportMetric((cpu+srvCPU)/wall, "cores")
			b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
			b.ReportMetric(float64(anon)/(1<<20), "peak-anon-MiB")
			b.ReportMetric(float64(size)/backupBenchRecords/n, "B/record")
			if text > 0 {
				b.ReportMetric(float64(firstSize)/float64(text), "size/text")
			}
		})
	}
}

// zstdLevelBenchRecords is the size of the data set of
// BenchmarkBackupZstdLevels (about 69 MB of text).
const zstdLevelBenchRecords = 190000

// BenchmarkBackupZstdLevels backs up 190k records of names, e-mail
// addresses, cities and words (asdsim.PeopleRecords) with -d --parallel 4
// -z zstd at --compression-level 1, 3 (the default), 5, 6, 7, 9, 12 and 19
// and reports, per level, the size of the files relative to the text they
// hold (compare it with legacy asbackup's at the same level on the same
// data: `asdsim -seed-records 190000 -seed-kind people`), CPU seconds, wall
// time and peak RSS. In-run checkpoints run as they do for users (the
// first after 1 s, then every 5 s), and each ends a zstd frame, so slower
// runs give slightly larger files.
func BenchmarkBackupZstdLevels(b *testing.B) {
	srv, err := asdsim.Start(asdsim.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	if err := srv.SeedPeople("test", "people", zstdLevelBenchRecords, 1); err != nil {
		b.Fatal(err)
	}
	opts := &stream.Options{Compress: true}
	for _, lvl := range []int{1, 3, 5, 6, 7, 9, 12, 19} {
		b.Run(fmt.Sprintf("level-%d", lvl), func(b *testing.B) {
			var cpu, wall float64
			var rss, size, text int64
			for i := 0; i < b.N; i++ {
				work := b.TempDir()
				res := runTool(b, "asbackup", work, nil, "-h", srv.Host(), "-p", fmt.Sprint(srv.Port()), "-n", "test",
					"-d", "bk", "--parallel", "4", "-z", "zstd", "--compression-level", fmt.Sprint(lvl))
				if res.code != 0 {
					b.Fatalf("asbackup exit %d:\n%s", res.code, res.stderr)
				}
				m, _ := filepath.Glob(filepath.Join(work, "bk", "*.asb"))
				for _, f := range m {
					if fi, err := os.Stat(f); err == nil {
						size += fi.Size()
					}
					text += textSize(b, f, opts)
				}
				cpu += res.cpu.Seconds()
				wall += res.wall.Seconds()
				rss = max(rss, res.maxRSS)
			}
			n := float64(b.N)
			b.ReportMetric(float64(size)/float64(text), "size/text")
			b.ReportMetric(float64(size)/n/1e6, "MB")
			b.ReportMetric(cpu/n, "cpu-s/op")
			b.ReportMetric(wall/n, "wall-s/op")
			b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
		})
	}
}

// selfCPU returns the CPU time (user and system) of this process: the test
// server's work while a tool runs.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
