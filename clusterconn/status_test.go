package clusterconn

import (
	"testing"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"
	"github.com/aerospike/aerospike-client-go/v7/types"

	"asbtools/asdsim"
)

// TestErrorStatusOfAnOutage checks the C status codes of the Go client's
// errors while a node is down and after it is back: the client's "max
// retries exceeded" wrapper is reported by the error of the attempt
// (connection error, -10), never as -12 or -16.
func TestErrorStatusOfAnOutage(t *testing.T) {
	srv, err := asdsim.Start(asdsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cp := as.NewClientPolicy()
	client, err := as.NewClientWithPolicy(cp, srv.Host(), srv.Port())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	key, _ := as.NewKey("test", "s", 1)
	wp := as.NewWritePolicy(0, 0)
	wp.MaxRetries = 0
	if err := client.PutBins(wp, key, as.NewBin("a", 1)); err != nil {
		t.Fatal(err)
	}
	srv.Down()
	err = client.PutBins(wp, key, as.NewBin("a", 2))
	if err == nil {
		t.Fatal("write to a node that is down succeeded")
	}
	if got := ErrorStatus(err); got != StatusConnection {
		t.Errorf("status of %q = %d (%s), want %d", err, got, StatusName(got), StatusConnection)
	}
	bw := as.NewBatchWrite(nil, key, as.PutOp(as.NewBin("a", 3)))
	bp := as.NewBatchPolicy()
	bp.MaxRetries = 0
	err = client.BatchOperate(bp, []as.BatchRecordIfc{bw})
	// The client's error-rate breaker may have tripped by now (after
	// 100 failed connection attempts): the C client has the same one.
	if got := ErrorStatus(err); got != StatusConnection && got != StatusMaxErrorRate {
		t.Errorf("batch: status of %q = %d, want %d or %d", err, got, StatusConnection, StatusMaxErrorRate)
	}
	if got := ErrorStatus(bw.Err); bw.ResultCode >= 0 || (got != StatusConnection && got != StatusMaxErrorRate) {
		t.Errorf("batch row: result %v, status of its error %d", bw.ResultCode, got)
	}
	if err := srv.Up(); err != nil {
		t.Fatal(err)
	}
	var last error
	ok := false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if last = client.PutBins(wp, key, as.NewBin("a", 4)); last == nil {
			ok = true
			break
		}
		if got := ErrorStatus(last); got != StatusConnection && got != StatusInvalidNode && got != StatusMaxErrorRate {
			t.Fatalf("status of %q while reconnecting = %d", last, got)
		}
	}
	if !ok {
		t.Fatalf("no write succeeded after the node came back: %v", last)
	}
	// A server error is reported as such even when the client's earlier
	// attempts (an empty connection pool) are chained to it.
	// (A new client's first command finds its pool empty.)
	fresh, err := as.NewClientWithPolicy(cp, srv.Host(), srv.Port())
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	srv.Faults().FailNextWrites(1, asdsim.ResultRecordTooBig)
	if err := fresh.PutBins(wp, key, as.NewBin("a", 5)); ErrorStatus(err) != 13 {
		t.Errorf("status of %q = %d, want 13", err, ErrorStatus(err))
	}
	if ErrorStatus(nil) != 0 {
		t.Error("nil error has a status")
	}
}

// TestStatusNames checks the C client's names and the mapping of the Go
// client's own codes.
func TestStatusNames(t *testing.T) {
	names := map[int]string{
		-10: "AEROSPIKE_ERR_CONNECTION", 9: "AEROSPIKE_ERR_TIMEOUT", 11: "AEROSPIKE_ERR_CLUSTER",
		-8: "AEROSPIKE_ERR_INVALID_NODE", -1: "AEROSPIKE_ERR_CLIENT", 0: "AEROSPIKE_OK",
		-99: "AEROSPIKE_ERR_CLIENT", 999: "AEROSPIKE_ERR_SERVER",
	}
	for code, want := range names {
		if got := StatusName(code); got != want {
			t.Errorf("StatusName(%d) = %s, want %s", code, got, want)
		}
	}
	codes := map[types.ResultCode]int{
		types.NETWORK_ERROR: -10, types.TIMEOUT: 9, types.PARTITION_UNAVAILABLE: 11,
		types.INVALID_NODE_ERROR: -8, types.SERVER_NOT_AVAILABLE: -8, types.NO_RESPONSE: -15,
		types.BATCH_FAILED: -16, types.MAX_RETRIES_EXCEEDED: -12, types.COMMON_ERROR: -1,
		types.KEY_BUSY: 14, types.DEVICE_OVERLOAD: 18,
	}
	for rc, want := range codes {
		if got := CStatus(rc); got != want {
			t.Errorf("CStatus(%v) = %d, want %d", rc, got, want)
		}
	}
}
