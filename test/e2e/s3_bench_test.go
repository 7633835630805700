package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"asbtools/asdsim"
)

// benchSeq numbers the S3 targets of all runs (-count > 1 runs a
// sub-benchmark again in the same bucket).
var benchSeq atomic.Int64

// BenchmarkS3VsLocal1M backs up the 1M-record set (~200 bytes a record) to
// local disk and to the S3 test server (MinIO on 127.0.0.1), as a directory
// (--parallel 4) and as a single file, then restores each into an empty
// server, and reports wall time, CPU seconds and peak RSS of the tool
// process for both steps, and for S3 the CPU seconds the S3 server spent
// meanwhile (it shares the machine's cores: every second it spends is one
// the tool and the database server do not get). S3 and local figures come
// from the same machine and data, so their ratio is what matters.
//
// The pinned-* runs give the S3 server a core of its own, as a store on
// another machine has: the tool and the database servers (in this
// process) run on every core but the last, the S3 server on the last
// (local and S3 alike; only with 2 cores or more).
func BenchmarkS3VsLocal1M(b *testing.B) {
	src := backupBenchServer(b)
	bucket := s3Bucket(b)
	cores := runtime.NumCPU()
	for _, m := range []struct {
		name   string
		s3     bool
		single bool
		pinned bool
	}{
		{"local-dir", false, false, false},
		{"s3-dir", true, false, false},
		{"local-file", false, true, false},
		{"s3-file", true, true, false},
		{"pinned-local-dir", false, false, true},
		{"pinned-s3-dir", true, false, true},
		{"pinned-local-file", false, true, true},
		{"pinned-s3-file", true, true, true},
	} {
		if m.pinned && cores < 2 {
			continue
		}
		b.Run(m.name, func(b *testing.B) {
			if m.pinned {
				rest := make([]int, cores-1)
				for i := range rest {
					rest[i] = i
				}
				defer pinProcess(b, os.Getpid(), rest...)()
				defer pinProcess(b, s3Server(b).Pid(), cores-1)()
			}
			var bw, bc, bs, rw, rc, rs float64
			// s3CPU returns the S3 server's CPU seconds so far.
			s3CPU := func() float64 {
				if !m.s3 {
					return 0
				}
				d, ok := s3Server(b).CPUTime()
				if !ok {
					b.Fatal("cannot read the S3 server's CPU time")
				}
				return d.Seconds()
			}
			var brss, rrss int64
			for i := 0; i < b.N; i++ {
				work := b.TempDir()
				target := filepath.Join(work, "bk")
				if m.s3 {
					target = fmt.Sprintf("s3://%s/%s-%d", bucket, m.name, benchSeq.Add(1))
				}
				out, in := []string{"-d", target, "--parallel", "4"}, []string{"-d", target}
				if m.single {
					target += ".asb"
					out, in = []string{"-o", target}, []string{"-i", target}
				}
				var env, flags []string
				if m.s3 {
					env, flags = s3Env(b), s3Flags(b)
				}
				c0 := s3CPU()
				res := runTool(b, "asbackup", work, env, append(append(append(hostArgs(src), "-n", "test"), out...), flags...)...)
				bs += s3CPU() - c0
				if res.code != 0 || !strings.Contains(res.stderr, fmt.Sprintf("Backed up %d record(s)", backupBenchRecords)) {
					b.Fatalf("asbackup exit %d:\n%s", res.code, lastLines(res.stderr, 5))
				}
				bw += res.wall.Seconds()
				bc += res.cpu.Seconds()
				brss = max(brss, res.maxRSS)
				dst, err := asdsim.Start(asdsim.Config{})
				if err != nil {
					b.Fatal(err)
				}
				c0 = s3CPU()
				res = runTool(b, "asrestore", work, env, append(append(hostArgs(dst), in...), flags...)...)
				rs += s3CPU() - c0
				n := dst.Count("test", "bench")
				dst.Close()
				if res.code != 0 || n != backupBenchRecords {
					b.Fatalf("asrestore exit %d, %d records:\n%s", res.code, n, lastLines(res.stderr, 5))
				}
				rw += res.wall.Seconds()
				rc += res.cpu.Seconds()
				rrss = max(rrss, res.maxRSS)
				os.RemoveAll(work)
			}
			n := float64(b.N)
			b.ReportMetric(bw/n, "backup-wall-s")
			b.ReportMetric(bc/n, "backup-cpu-s")
			b.ReportMetric(float64(brss)/(1<<20), "backup-peak-RSS-MiB")
			if m.s3 {
				b.ReportMetric(bs/n, "backup-s3server-cpu-s")
				b.ReportMetric(rs/n, "restore-s3server-cpu-s")
			}
			b.ReportMetric(rw/n, "restore-wall-s")
			b.ReportMetric(rc/n, "restore-cpu-s")
			b.ReportMetric(float64(rrss)/(1<<20), "restore-peak-RSS-MiB")
		})
	}
}
