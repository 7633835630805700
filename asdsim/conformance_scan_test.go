package asdsim

import (
	"bytes"
	"fmt"
	"sort"
	"testing"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"
	"github.com/aerospike/aerospike-client-go/v7/types"
)

// seed stores n records in set (keys 0..n-1) with bins i (int) and s
// (string), and a third bin x on even keys.
func seed(t testing.TB, s *Server, ns, set string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		bins := []Bin{IntBin("i", int64(i)), StringBin("s", fmt.Sprint("v", i))}
		if i%2 == 0 {
			bins = append(bins, IntBin("x", 1))
		}
		if err := s.Put(ns, Record{Set: set, Key: IntKey(int64(i)), Bins: bins}); err != nil {
			t.Fatal(err)
		}
	}
}

// scanResult is a drained recordset.
type scanResult struct {
	recs []*as.Record
	err  error
}

// collect drains a recordset.
func collect(rs *as.Recordset, err error) scanResult {
	if err != nil {
		return scanResult{err: err}
	}
	var out scanResult
	for r := range rs.Results() {
		if r.Err != nil {
			out.err = r.Err
			continue
		}
		out.recs = append(out.recs, r.Record)
	}
	return out
}

// must returns the records, failing the test on an error.
func (r scanResult) must(t testing.TB) []*as.Record {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.recs
}

func drainErr(rs *as.Recordset, err error) (int, error) {
	r := collect(rs, err)
	return len(r.recs), r.err
}

func TestScanPartitionsBasics(t *testing.T) {
	s := startServer(t, Config{})
	c := connect(t, s)
	seed(t, s, "test", "a", 300)
	seed(t, s, "test", "b", 100)
	seed(t, s, "test", "", 50)
	if got := len(collect(c.ScanPartitions(nil, as.NewPartitionFilterAll(), "test", "")).must(t)); got != 450 {
		t.Fatalf("whole namespace: %d", got)
	}
	recs := collect(c.ScanPartitions(nil, as.NewPartitionFilterAll(), "test", "a")).must(t)
	if len(recs) != 300 {
		t.Fatalf("set a: %d", len(recs))
	}
	for _, r := range recs {
		if r.Key.SetName() != "a" || r.Key.Value() == nil || len(r.Bins) < 2 || r.Generation != 1 {
			t.Fatalf("record %v", r)
		}
	}
	if got := len(collect(c.ScanPartitions(nil, as.NewPartitionFilterAll(), "test", "nope")).must(t)); got != 0 {
		t.Fatalf("missing set: %d", got)
	}
	// partition ranges add up
	total := 0
	for b := 0; b < 4096; b += 1024 {
		total += len(collect(c.ScanPartitions(nil, as.NewPartitionFilterByRange(b, 1024), "test", "")).must(t))
	}
	if total != 450 {
		t.Fatalf("ranges: %d", total)
	}
	// bin list: only selected bins; records with none of them are skipped
	sp := as.NewScanPolicy()
	recs = collect(c.ScanPartitions(sp, as.NewPartitionFilterAll(), "test", "a", "x")).must(t)
	if len(recs) != 150 {
		t.Fatalf("bin list x: %d records", len(recs))
	}
	for _, r := range recs {
		if len(r.Bins) != 1 || r.Bins["x"] != 1 {
			t.Fatalf("bin list record %v", r.Bins)
		}
	}
	// no bins
	sp.IncludeBinData = false
	recs = collect(c.ScanPartitions(sp, as.NewPartitionFilterAll(), "test", "b")).must(t)
	if len(recs) != 100 {
		t.Fatalf("no-bins: %d", len(recs))
	}
	for _, r := range recs {
		if len(r.Bins) != 0 || r.Generation != 1 {
			t.Fatalf("no-bins record %v", r)
		}
	}
	// PI query with the same filters
	stmt := as.NewStatement("test", "a", "s")
	recs = collect(c.QueryPartitions(nil, stmt, as.NewPartitionFilterByRange(0, 2048))).must(t)
	n2 := len(collect(c.QueryPartitions(nil, as.NewStatement("test", "a", "s"), as.NewPartitionFilterByRange(2048, 2048))).must(t))
	if len(recs)+n2 != 300 {
		t.Fatalf("query partitions: %d + %d", len(recs), n2)
	}
	for _, r := range recs {
		if len(r.Bins) != 1 || r.Bins["s"] == nil {
			t.Fatalf("query bins %v", r.Bins)
		}
	}
}

func TestScanOrderAndResume(t *testing.T) {
	s := startServer(t, Config{})
	c := connect(t, s)
	// Put many records into one partition by digest.
	pid := 77
	var digests [][20]byte
	for i := 0; len(digests) < 40; i++ {
		d := ComputeDigest("o", IntKey(int64(i)))
		if PartitionOf(d) != pid {
			continue
		}
		digests = append(digests, d)
		if err := s.Put("test", Record{Set: "o", Key: IntKey(int64(i)), Bins: []Bin{IntBin("i", int64(i))}}); err != nil {
			t.Fatal(err)
		}
	}
	recs := collect(c.ScanPartitions(nil, as.NewPartitionFilterById(pid), "test", "o")).must(t)
	if len(recs) != 40 {
		t.Fatalf("got %d", len(recs))
	}
	for i := 1; i < len(recs); i++ {
		if bytes.Compare(recs[i-1].Key.Digest(), recs[i].Key.Digest()) <= 0 {
			t.Fatalf("records not in descending digest order at %d", i)
		}
	}
	// resume after the 10th record: exactly the remaining 30 come back
	pf := &as.PartitionFilter{Begin: pid, Count: 1, Digest: recs[9].Key.Digest()}
	rest := collect(c.ScanPartitions(nil, pf, "test", "o")).must(t)
	if len(rest) != 30 || !bytes.Equal(rest[0].Key.Digest(), recs[10].Key.Digest()) {
		t.Fatalf("resume returned %d records", len(rest))
	}
	// A resume digest that is not stored still works (strictly smaller).
	var mid [20]byte
	copy(mid[:], recs[20].Key.Digest())
	mid[19] ^= 1 // neighbour of a stored digest, same partition
	pf = &as.PartitionFilter{Begin: pid, Count: 1, Digest: mid[:]}
	n := len(collect(c.ScanPartitions(nil, pf, "test", "o")).must(t))
	want := 0
	for _, d := range digests {
		if bytes.Compare(d[:], mid[:]) < 0 {
			want++
		}
	}
	if n != want {
		t.Fatalf("resume from unknown digest: %d want %d", n, want)
	}
}

func TestScanMaxRecordsPagination(t *testing.T) {
	s := startServer(t, Config{})
	c := connect(t, s)
	seed(t, s, "test", "pg", 54)
	sp := as.NewScanPolicy()
	sp.MaxRecords = 20
	pf := as.NewPartitionFilterAll()
	seen := map[string]bool{}
	var pages []int
	for !pf.IsDone() {
		recs := collect(c.ScanPartitions(sp, pf, "test", "pg")).must(t)
		pages = append(pages, len(recs))
		for _, r := range recs {
			k := fmt.Sprint(r.Key.Value())
			if seen[k] {
				t.Fatalf("duplicate %s", k)
			}
			seen[k] = true
		}
		if len(pages) > 10 {
			t.Fatal("pagination does not finish")
		}
	}
	if len(seen) != 54 || fmt.Sprint(pages) != "[20 20 14]" {
		t.Fatalf("pages %v, %d distinct", pages, len(seen))
	}
}

func TestScanFilterExpressions(t *testing.T) {
	clock := newFakeClock()
	s := startServer(t, Config{Clock: clock.now})
	c := connect(t, s)
	base := clock.now()
	// r0: old, r1: mid, r2: new; r1 has a TTL
	put := func(i int, lut time.Time, void uint32, set string, key bool, bins ...Bin) {
		r := Record{Set: set, Digest: ComputeDigest(set, IntKey(int64(i))), Bins: bins, LastUpdate: lut.UnixNano(), VoidTime: void}
		if key {
			r.Key = IntKey(int64(i))
		}
		if err := s.Put("test", r); err != nil {
			t.Fatal(err)
		}
	}
	nowVoid := uint32(base.Unix() - CitrusleafEpoch)
	put(0, base.Add(-3*time.Hour), 0, "f", true, IntBin("a", 100), StringBin("s", "apple"), FloatBin("f", 1.5), BytesBin("b", []byte{1, 2}), BoolBin("t", true))
	put(1, base.Add(-2*time.Hour), nowVoid+1000, "f", false, IntBin("a", 400), StringBin("s", "Avocado"))
	put(2, base.Add(-1*time.Hour), 0, "g", true, IntBin("a", 500))
	count := func(e *as.Expression) (int, error) {
		sp := as.NewScanPolicy()
		sp.FilterExpression = e
		return drainErr(c.ScanPartitions(sp, as.NewPartitionFilterAll(), "test", ""))
	}
	mustCount := func(name string, e *as.Expression, want int) {
		t.Helper()
		n, err := count(e)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n != want {
			t.Fatalf("%s: %d records, want %d", name, n, want)
		}
	}
	t1 := base.Add(-150 * time.Minute).UnixNano()
	t2 := base.Add(-30 * time.Minute).UnixNano()
	mustCount("modified-after", as.ExpGreaterEq(as.ExpLastUpdate(), as.ExpIntVal(t1)), 2)
	mustCount("modified-before", as.ExpLess(as.ExpLastUpdate(), as.ExpIntVal(t1)), 1)
	mustCount("between", as.ExpAnd(as.ExpGreaterEq(as.ExpLastUpdate(), as.ExpIntVal(t1)), as.ExpLess(as.ExpLastUpdate(), as.ExpIntVal(t2))), 2)
	mustCount("or", as.ExpOr(as.ExpLess(as.ExpLastUpdate(), as.ExpIntVal(t1)), as.ExpEq(as.ExpIntBin("a"), as.ExpIntVal(500))), 2)
	mustCount("not", as.ExpNot(as.ExpLess(as.ExpLastUpdate(), as.ExpIntVal(t1))), 2)
	mustCount("exact LUT", as.ExpEq(as.ExpLastUpdate(), as.ExpIntVal(base.Add(-time.Hour).UnixNano()/1e6*1e6)), 1)
	mustCount("no-ttl-only", as.ExpEq(as.ExpTTL(), as.ExpIntVal(-1)), 2)
	mustCount("ttl", as.ExpEq(as.ExpTTL(), as.ExpIntVal(1000)), 1)
	mustCount("void time", as.ExpEq(as.ExpVoidTime(), as.ExpIntVal((int64(nowVoid)+1000+CitrusleafEpoch)*1e9)), 1)
	mustCount("since update", as.ExpGreaterEq(as.ExpSinceUpdate(), as.ExpIntVal(int64(2*time.Hour/time.Millisecond))), 2)
	mustCount("set name", as.ExpEq(as.ExpSetName(), as.ExpStringVal("g")), 1)
	mustCount("key exists", as.ExpKeyExists(), 2)
	mustCount("not key exists", as.ExpNot(as.ExpKeyExists()), 1)
	mustCount("key", as.ExpEq(as.ExpKey(as.ExpTypeINT), as.ExpIntVal(2)), 1)
	mustCount("bin exists", as.ExpBinExists("s"), 2)
	mustCount("int bin", as.ExpGreater(as.ExpIntBin("a"), as.ExpIntVal(300)), 2)
	mustCount("string bin", as.ExpEq(as.ExpStringBin("s"), as.ExpStringVal("apple")), 1)
	mustCount("regex", as.ExpRegexCompare("^a.*", as.ExpRegexFlagICASE, as.ExpStringBin("s")), 2)
	mustCount("float bin", as.ExpEq(as.ExpFloatBin("f"), as.ExpFloatVal(1.5)), 1)
	mustCount("blob bin", as.ExpEq(as.ExpBlobBin("b"), as.ExpBlobVal([]byte{1, 2})), 1)
	mustCount("bool bin", as.ExpEq(as.ExpBoolBin("t"), as.ExpBoolVal(true)), 1)
	mustCount("tombstone", as.ExpOr(as.ExpIsTombstone(), as.ExpEq(as.ExpTTL(), as.ExpIntVal(-1))), 2)
	// digest modulo partitions the records
	total := 0
	for m := int64(0); m < 3; m++ {
		n, err := count(as.ExpEq(as.ExpDigestModulo(3), as.ExpIntVal(m)))
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	if total != 3 {
		t.Fatalf("digest modulo total %d", total)
	}
	// unsupported op: parameter error, not silently ignored
	_, err := count(as.ExpGreater(as.ExpListSize(as.ExpListBin("l")), as.ExpIntVal(0)))
	wantCode(t, err, int(types.PARAMETER_ERROR), "unsupported scan expression")
}

func TestScanManyRecordsChunked(t *testing.T) {
	s := startServer(t, Config{})
	c := connect(t, s)
	val := bytes.Repeat([]byte{'x'}, 150)
	for i := 0; i < 20000; i++ {
		if err := s.Put("bar", Record{Set: "big", Key: IntKey(int64(i)), Bins: []Bin{BytesBin("v", val), IntBin("i", int64(i))}}); err != nil {
			t.Fatal(err)
		}
	}
	recs := collect(c.ScanPartitions(nil, as.NewPartitionFilterAll(), "bar", "big")).must(t)
	if len(recs) != 20000 {
		t.Fatalf("got %d", len(recs))
	}
	ids := make([]int, 0, len(recs))
	for _, r := range recs {
		ids = append(ids, r.Bins["i"].(int))
	}
	sort.Ints(ids)
	for i, v := range ids {
		if v != i {
			t.Fatalf("missing or duplicate record %d", i)
		}
	}
	// records per second throttles
	sp := as.NewScanPolicy()
	sp.RecordsPerSecond = 200
	start := time.Now()
	n, err := drainErr(c.ScanPartitions(sp, as.NewPartitionFilterByRange(0, 25), "bar", "big"))
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Fatalf("only %d records in throttled range", n)
	}
	if el := time.Since(start); el < time.Duration(float64(n-1)/200*float64(time.Second))*8/10 {
		t.Fatalf("%d records at 200 rps took only %v", n, el)
	}
}
