package asdsim

import (
	"testing"

	as "github.com/aerospike/aerospike-client-go/v7"
	"github.com/aerospike/aerospike-client-go/v7/types"
)

func TestBatchWrites(t *testing.T) {
	s := startServer(t, Config{})
	c := connect(t, s, oneConn)
	bwp := as.NewBatchWritePolicy()
	bwp.SendKey = true
	bwp.Expiration = 500
	var recs []as.BatchRecordIfc
	for i := 0; i < 100; i++ {
		recs = append(recs, as.NewBatchWrite(bwp, mustKey(t, "test", "bw", i), as.PutOp(as.NewBin("a", i)), as.PutOp(as.NewBin("b", "x"))))
	}
	if err := c.BatchOperate(nil, recs); err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		if r.BatchRec().ResultCode != 0 {
			t.Fatalf("row %d: %v", i, r.BatchRec().ResultCode)
		}
	}
	if n := s.Count("test", "bw"); n != 100 {
		t.Fatalf("stored %d", n)
	}
	r, _ := s.GetByKey("test", "bw", IntKey(42))
	if r.Key == nil || len(r.Bins) != 2 || r.Bins[0].Name != "a" || r.VoidTime == 0 {
		t.Fatalf("batch-written record %+v", r)
	}
	// create-only + generation policies per row: some rows fail, others succeed
	co := as.NewBatchWritePolicy()
	co.RecordExistsAction = as.CREATE_ONLY
	gt := as.NewBatchWritePolicy()
	gt.GenerationPolicy = as.EXPECT_GEN_GT
	gt.Generation = 5
	rows := []as.BatchRecordIfc{
		as.NewBatchWrite(co, mustKey(t, "test", "bw", 1), as.PutOp(as.NewBin("a", 0))),
		as.NewBatchWrite(co, mustKey(t, "test", "bw", 1000), as.PutOp(as.NewBin("a", 0))),
		as.NewBatchWrite(gt, mustKey(t, "test", "bw", 2), as.PutOp(as.NewBin("a", 0))),
		as.NewBatchDelete(nil, mustKey(t, "test", "bw", 3)),
		as.NewBatchRead(nil, mustKey(t, "test", "bw", 4), []string{"a"}),
		as.NewBatchRead(nil, mustKey(t, "test", "bw", 5000), nil),
	}
	if err := c.BatchOperate(nil, rows); err != nil {
		t.Fatal(err)
	}
	want := []types.ResultCode{types.KEY_EXISTS_ERROR, 0, 0, 0, 0, types.KEY_NOT_FOUND_ERROR}
	for i, r := range rows {
		if got := r.BatchRec().ResultCode; got != want[i] {
			t.Fatalf("row %d: %v want %v", i, got, want[i])
		}
	}
	if rows[4].BatchRec().Record.Bins["a"] != 4 {
		t.Fatalf("batch read row: %v", rows[4].BatchRec().Record)
	}
	if _, ok := s.GetByKey("test", "bw", IntKey(3)); ok {
		t.Fatal("batch delete did not delete")
	}
	if r, _ := s.GetByKey("test", "bw", IntKey(2)); r.Generation != 2 {
		t.Fatalf("gen-gt row: gen %d", r.Generation)
	}
	// 1-record batches take the single-record shortcut
	one := []as.BatchRecordIfc{as.NewBatchWrite(bwp, mustKey(t, "test", "bw", 7777), as.PutOp(as.NewBin("a", 1)))}
	if err := c.BatchOperate(nil, one); err != nil || one[0].BatchRec().ResultCode != 0 {
		t.Fatalf("1-record batch: %v %v", err, one[0].BatchRec().ResultCode)
	}
	one = []as.BatchRecordIfc{as.NewBatchWrite(co, mustKey(t, "test", "bw", 7777), as.PutOp(as.NewBin("a", 1)))}
	if err := c.BatchOperate(nil, one); one[0].BatchRec().ResultCode != types.KEY_EXISTS_ERROR {
		t.Fatalf("1-record create-only batch: %v %v", err, one[0].BatchRec().ResultCode)
	}
	if r, ok := s.GetByKey("test", "bw", IntKey(7777)); !ok || r.Key == nil {
		t.Fatalf("1-record batch stored %+v", r)
	}
	// old-format batch reads
	keys := []*as.Key{mustKey(t, "test", "bw", 10), mustKey(t, "test", "bw", 99999), mustKey(t, "test", "bw", 11)}
	got, err := c.BatchGet(nil, keys, "a")
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Bins["a"] != 10 || got[1] != nil || got[2].Bins["a"] != 11 || len(got[0].Bins) != 1 {
		t.Fatalf("batch get: %v", got)
	}
	ex, err := c.BatchExists(nil, keys)
	if err != nil || !ex[0] || ex[1] || !ex[2] {
		t.Fatalf("batch exists: %v %v", ex, err)
	}
	hdr, err := c.BatchGetHeader(nil, keys)
	if err != nil || hdr[0] == nil || len(hdr[0].Bins) != 0 || hdr[0].Generation != 1 {
		t.Fatalf("batch header: %v %v", hdr, err)
	}
	// batch delete
	res, err := c.BatchDelete(nil, nil, keys)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].ResultCode != 0 || res[1].ResultCode != types.KEY_NOT_FOUND_ERROR {
		t.Fatalf("batch delete: %v %v", res[0].ResultCode, res[1].ResultCode)
	}
	// raw particle types survive batch writes
	raw := []byte{0x92, 0x01, 0x02}
	rows = []as.BatchRecordIfc{
		as.NewBatchWrite(nil, mustKey(t, "test", "raw", 1), as.PutOp(as.NewBin("l", as.NewRawBlobValue(int(ParticleList), raw)))),
		as.NewBatchWrite(nil, mustKey(t, "test", "raw", 2), as.PutOp(as.NewBin("j", as.NewRawBlobValue(int(ParticleJava), raw)))),
	}
	if err := c.BatchOperate(nil, rows); err != nil {
		t.Fatal(err)
	}
	r1, _ := s.GetByKey("test", "raw", IntKey(1))
	r2, _ := s.GetByKey("test", "raw", IntKey(2))
	if string(r1.Bins[0].Data) != string(raw) || r1.Bins[0].Type != ParticleList || r2.Bins[0].Type != ParticleJava {
		t.Fatalf("raw batch: %+v %+v", r1.Bins, r2.Bins)
	}
	// injected row failures surface per row
	s.Faults().FailNextWrites(1, ResultRecordTooBig)
	rows = []as.BatchRecordIfc{
		as.NewBatchWrite(nil, mustKey(t, "test", "f", 1), as.PutOp(as.NewBin("a", 1))),
		as.NewBatchWrite(nil, mustKey(t, "test", "f", 2), as.PutOp(as.NewBin("a", 1))),
	}
	if err := c.BatchOperate(nil, rows); err != nil && resultCode(err) != int(types.RECORD_TOO_BIG) {
		t.Fatal(err)
	}
	if rows[0].BatchRec().ResultCode != types.RECORD_TOO_BIG || rows[1].BatchRec().ResultCode != 0 {
		t.Fatalf("fault rows: %v %v", rows[0].BatchRec().ResultCode, rows[1].BatchRec().ResultCode)
	}
	// connection still fine
	if _, err := c.Get(nil, mustKey(t, "test", "bw", 12)); err != nil {
		t.Fatal(err)
	}
}
