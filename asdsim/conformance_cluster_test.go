package asdsim

import (
	"sync"
	"testing"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"
	"github.com/aerospike/aerospike-client-go/v7/types"
)

func TestClusterOfThree(t *testing.T) {
	mark := testLog.mark()
	s := startServer(t, Config{Nodes: 3})
	c := connect(t, s)
	if n := len(c.GetNodes()); n != 3 {
		t.Fatalf("client sees %d nodes", n)
	}
	names := map[string]bool{}
	for _, n := range s.Nodes() {
		names[n.Name()] = true
		if len(n.Partitions()) < 1365 {
			t.Fatalf("node %s owns %d partitions", n.Name(), len(n.Partitions()))
		}
	}
	for _, n := range c.GetNodes() {
		if !names[n.GetName()] {
			t.Fatalf("unknown node %s", n.GetName())
		}
	}
	if got := info(t, c, "services"); got == "" {
		t.Fatal("services empty in a cluster")
	}
	// writes go to the owning node
	for i := 0; i < 300; i++ {
		if err := c.PutBins(nil, mustKey(t, "test", "c", i), as.NewBin("i", i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range s.Nodes() {
		if n.Stats().Writes == 0 {
			t.Fatalf("node %d received no writes", n.Index())
		}
	}
	seed(t, s, "test", "c", 3000)
	if got := len(collect(c.ScanAll(nil, "test", "c")).must(t)); got != 3000 {
		t.Fatalf("scan all: %d", got)
	}
	// per-node scans cover exactly each node's partitions
	total := 0
	for _, cn := range c.GetNodes() {
		recs := collect(c.ScanNode(nil, cn, "test", "c")).must(t)
		var node *Node
		for _, n := range s.Nodes() {
			if n.Name() == cn.GetName() {
				node = n
			}
		}
		owned := map[int]bool{}
		for _, p := range node.Partitions() {
			owned[p] = true
		}
		for _, r := range recs {
			if !owned[r.Key.PartitionId()] {
				t.Fatalf("node %s returned partition %d", cn.GetName(), r.Key.PartitionId())
			}
		}
		total += len(recs)
	}
	if total != 3000 {
		t.Fatalf("per-node scans: %d", total)
	}
	time.Sleep(2200 * time.Millisecond)
	noWarnings(t, mark)

	// A cluster change: partitions of node 0 move to node 1.
	gen := info(t, c, "partition-generation")
	key := info(t, c, "cluster-stable")
	moved := s.Node(0).Partitions()[:100]
	if err := s.MovePartitions(1, moved...); err != nil {
		t.Fatal(err)
	}
	if info(t, c, "partition-generation") == gen || info(t, c, "cluster-stable") == key {
		t.Fatal("cluster change not visible in info")
	}
	// a scan with the old map still completes (the old owner reports the
	// moved partitions unavailable and the client retries them)
	sp := as.NewScanPolicy()
	sp.SleepBetweenRetries = 300 * time.Millisecond
	sp.MaxRetries = 10
	if got := len(collect(c.ScanAll(sp, "test", "c")).must(t)); got != 3000 {
		t.Fatalf("scan after move: %d", got)
	}
	time.Sleep(1500 * time.Millisecond)
	// after the tend, the client routes the moved partitions to node 1
	for _, cn := range c.GetNodes() {
		if cn.GetName() == s.Node(1).Name() {
			recs := collect(c.ScanNode(nil, cn, "test", "c")).must(t)
			n := 0
			for _, r := range recs {
				for _, p := range moved {
					if r.Key.PartitionId() == p {
						n++
					}
				}
			}
			if n == 0 {
				t.Fatal("node 1 did not take over the moved partitions")
			}
		}
	}
}

func TestFaultDropAfterRecords(t *testing.T) {
	s := startServer(t, Config{})
	// spare pooled connections let the client retry at once after a drop
	c := connect(t, s, func(cp *as.ClientPolicy) { cp.MinConnectionsPerNode = 4 })
	seed(t, s, "test", "f", 500)
	s.Faults().DropAfterRecords(50)
	sp := as.NewScanPolicy()
	sp.MaxRetries = 0
	res := collect(c.ScanAll(sp, "test", "f"))
	if res.err == nil || len(res.recs) != 50 {
		t.Fatalf("drop after 50: %d records, err %v", len(res.recs), res.err)
	}
	if s.Faults().DroppedScans() != 1 {
		t.Fatal("drop not counted")
	}
	// one-shot: with retries the scan resumes and completes without
	// duplicates (the v7 client still reports the first round's network
	// error on the recordset after the retry round).
	s.Faults().DropAfterRecords(120)
	sp.MaxRetries = 5
	sp.SleepBetweenRetries = 100 * time.Millisecond
	res = collect(c.ScanAll(sp, "test", "f"))
	if ae, ok := res.err.(as.Error); res.err != nil && (!ok || !ae.Matches(types.NETWORK_ERROR)) {
		t.Fatalf("resumed scan error: %v", res.err)
	}
	recs := res.recs
	seen := map[any]bool{}
	for _, r := range recs {
		seen[r.Key.Value().GetObject()] = true
	}
	if len(recs) != 500 || len(seen) != 500 {
		t.Fatalf("resumed scan: %d records, %d distinct", len(recs), len(seen))
	}
}

func TestFaultDelayAndWrites(t *testing.T) {
	s := startServer(t, Config{})
	c := connect(t, s)
	k := mustKey(t, "test", "f", 1)
	s.Faults().SetReplyDelay(300 * time.Millisecond)
	wp := as.NewWritePolicy(0, 0)
	wp.TotalTimeout = 100 * time.Millisecond
	wp.SocketTimeout = 100 * time.Millisecond
	wp.MaxRetries = 0
	err := c.PutBins(wp, k, as.NewBin("a", 1))
	if err == nil || !err.Matches(types.TIMEOUT) {
		t.Fatalf("delayed reply: %v", err)
	}
	s.Faults().SetReplyDelay(0)
	time.Sleep(400 * time.Millisecond)
	s.Node(0).Faults().FailNextWrites(2, ResultKeyBusy)
	wantCode(t, c.PutBins(nil, k, as.NewBin("a", 1)), int(types.KEY_BUSY), "fail write 1")
	_, err = c.Delete(nil, k)
	wantCode(t, err, int(types.KEY_BUSY), "fail write 2")
	if err := c.PutBins(nil, k, as.NewBin("a", 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(nil, k); err != nil {
		t.Fatal(err)
	}
}

func TestFaultPartitionUnavailable(t *testing.T) {
	s := startServer(t, Config{})
	c := connect(t, s)
	seed(t, s, "test", "u", 2000)
	s.Faults().SetPartitionsUnavailable(2, 1, 2, 3, 100)
	sp := as.NewScanPolicy()
	sp.SleepBetweenRetries = 10 * time.Millisecond
	if got := len(collect(c.ScanAll(sp, "test", "u")).must(t)); got != 2000 {
		t.Fatalf("scan with retried partitions: %d", got)
	}
	s.Faults().SetPartitionsUnavailable(-1, 7)
	sp.MaxRetries = 2
	res := collect(c.ScanAll(sp, "test", "u"))
	wantCode(t, res.err, int(types.MAX_RETRIES_EXCEEDED), "permanently unavailable partition")
	s.Faults().ClearPartitionsUnavailable()
	if got := len(collect(c.ScanAll(sp, "test", "u")).must(t)); got != 2000 {
		t.Fatalf("after clear: %d", got)
	}
}

func TestFaultScanConcurrencyLimit(t *testing.T) {
	s := startServer(t, Config{})
	c := connect(t, s)
	seed(t, s, "test", "l", 400)
	s.Faults().LimitConcurrentScans(1, ResultFailForbidden)
	slow := as.NewScanPolicy()
	slow.RecordsPerSecond = 400
	var wg sync.WaitGroup
	wg.Add(1)
	var slowErr error
	var slowN int
	go func() {
		defer wg.Done()
		slowN, slowErr = drainErr(c.ScanAll(slow, "test", "l"))
	}()
	time.Sleep(200 * time.Millisecond)
	sp := as.NewScanPolicy()
	sp.MaxRetries = 0
	_, err := drainErr(c.ScanAll(sp, "test", "l"))
	wantCode(t, err, int(types.FAIL_FORBIDDEN), "second concurrent scan")
	wg.Wait()
	if slowErr != nil || slowN != 400 {
		t.Fatalf("first scan: %d %v", slowN, slowErr)
	}
	if s.Faults().RefusedScans() != 1 {
		t.Fatalf("refused %d", s.Faults().RefusedScans())
	}
	if got, err := drainErr(c.ScanAll(sp, "test", "l")); err != nil || got != 400 {
		t.Fatalf("scan after the first ended: %d %v", got, err)
	}
}

func TestSecurityLogin(t *testing.T) {
	s := startServer(t, Config{Users: map[string]string{"admin": "secret"}})
	c := connect(t, s, func(cp *as.ClientPolicy) { cp.User, cp.Password = "admin", "secret" })
	k := mustKey(t, "test", "sec", 1)
	if err := c.PutBins(nil, k, as.NewBin("a", 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(nil, k); err != nil {
		t.Fatal(err)
	}
	cp := as.NewClientPolicy()
	cp.Timeout = time.Second
	cp.User, cp.Password = "admin", "wrong"
	if bad, err := as.NewClientWithPolicyAndHost(cp, as.NewHost(s.Host(), s.Port())); err == nil {
		bad.Close()
		t.Fatal("wrong password accepted")
	}
	cp.User, cp.Password = "", ""
	if bad, err := as.NewClientWithPolicyAndHost(cp, as.NewHost(s.Host(), s.Port())); err == nil {
		bad.Close()
		t.Fatal("connected without credentials")
	}
	// an Enterprise server without security accepts clients that send
	// credentials (SECURITY_NOT_ENABLED); a Community one refuses them
	// (SECURITY_NOT_SUPPORTED), as the real servers do
	cp.User, cp.Password = "admin", "secret"
	ce := startServer(t, Config{})
	if bad, err := as.NewClientWithPolicyAndHost(cp, as.NewHost(ce.Host(), ce.Port())); err == nil {
		bad.Close()
		t.Fatal("a Community server without security accepted a login")
	} else if !err.Matches(types.SECURITY_NOT_SUPPORTED) {
		t.Fatalf("Community login: %v, want SECURITY_NOT_SUPPORTED", err)
	}
	open := startServer(t, Config{Enterprise: true})
	oc := connect(t, open, func(cp *as.ClientPolicy) { cp.User, cp.Password = "admin", "secret" })
	if err := oc.PutBins(nil, k, as.NewBin("a", 1)); err != nil {
		t.Fatal(err)
	}
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	s, err := Start(Config{Nodes: 2})
	if err != nil {
		t.Fatal(err)
	}
	cp := as.NewClientPolicy()
	c, err := as.NewClientWithPolicyAndHost(cp, as.NewHost(s.Host(), s.Port()))
	if err != nil {
		t.Fatal(err)
	}
	seed(t, s, "test", "g", 100)
	if n, err := drainErr(c.ScanAll(nil, "test", "g")); err != nil || n != 100 {
		t.Fatal(n, err)
	}
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs with connected clients")
	}
	c.Close()
	s.Close() // idempotent
}
