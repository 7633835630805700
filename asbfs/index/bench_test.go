package index

import (
	"os"
	"testing"
)

// BenchmarkOpen indexes the backup at $ASBFS_BENCH_DIR (e.g. one kept by
// asbfs's BenchmarkMillionRecords) and reports records per second.
func BenchmarkOpen(b *testing.B) {
	dir := os.Getenv("ASBFS_BENCH_DIR")
	if dir == "" {
		b.Skip("set ASBFS_BENCH_DIR to a backup to index")
	}
	for i := 0; i < b.N; i++ {
		tree, err := Open(dir, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(tree.Records())/b.Elapsed().Seconds()*float64(i+1), "records/s")
		b.ReportMetric(float64(tree.IndexBytes())/float64(tree.Records()), "index-B/record")
		tree.Close()
	}
}
