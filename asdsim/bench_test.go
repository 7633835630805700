package asdsim

import (
	"bytes"
	"testing"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"
)

// seedSynthetic stores n records of about recSize bytes (one string bin and
// one integer bin) in namespace "test", set "bench".
func seedSynthetic(tb testing.TB, s *Server, n, recSize int) {
	tb.Helper()
	if err := s.SeedSynthetic("test", "bench", n, recSize); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkScan measures full-namespace scan throughput of 1M ~200-byte
// records through the real client (records/s metric).
func BenchmarkScan(b *testing.B) {
	s := startServer(b, Config{})
	const n = 1_000_000
	seedSynthetic(b, s, n, 200)
	c := connect(b, s)
	b.ResetTimer()
	start := time.Now()
	total := 0
	for i := 0; i < b.N; i++ {
		got, err := drainErr(c.ScanPartitions(nil, as.NewPartitionFilterAll(), "test", "bench"))
		if err != nil || got != n {
			b.Fatalf("scan: %d %v", got, err)
		}
		total += got
	}
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "records/s")
}

// BenchmarkScanRawServer measures how fast the server alone streams a scan:
// the response bytes are read and discarded without decoding records.
func BenchmarkScanRawServer(b *testing.B) {
	s := startServer(b, Config{})
	const n = 1_000_000
	seedSynthetic(b, s, n, 200)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		got, err := rawScanCount(s.Addr(), "test", "bench")
		if err != nil || got != n {
			b.Fatalf("raw scan: %d %v", got, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "records/s")
}

// BenchmarkBatchWrite measures BatchOperate writes of ~200-byte records in
// batches of 1000 through the real client (records/s metric).
func BenchmarkBatchWrite(b *testing.B) {
	s := startServer(b, Config{})
	c := connect(b, s)
	val := bytes.Repeat([]byte{'v'}, 180)
	const batch = 1000
	keys := make([]*as.Key, batch)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		recs := make([]as.BatchRecordIfc, batch)
		for j := range recs {
			k, _ := as.NewKey("test", "bw", i*batch+j)
			keys[j] = k
			recs[j] = as.NewBatchWrite(nil, k, as.PutOp(as.NewBin("v", val)), as.PutOp(as.NewBin("i", j)))
		}
		if err := c.BatchOperate(nil, recs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/time.Since(start).Seconds(), "records/s")
}
