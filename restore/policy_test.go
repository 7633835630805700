package restore

import (
	"math"
	"slices"
	"testing"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"
	"github.com/aerospike/aerospike-client-go/v7/types"

	"asbtools/asb"
	"asbtools/clusterconn"
)

// TestBasePolicy checks the legacy write-policy mapping of --unique,
// --replace and --no-generation (legacy-cli.md §8.8).
func TestBasePolicy(t *testing.T) {
	cases := []struct {
		name                   string
		unique, replace, nogen bool
		rea                    as.RecordExistsAction
		gp                     as.GenerationPolicy
	}{
		{"default", false, false, false, as.UPDATE, as.EXPECT_GEN_GT},
		{"unique", true, false, false, as.CREATE_ONLY, as.EXPECT_GEN_GT},
		{"replace", false, true, false, as.REPLACE, as.EXPECT_GEN_GT},
		{"no-generation", false, false, true, as.UPDATE, as.NONE},
		{"replace+no-generation", false, true, true, as.REPLACE, as.NONE},
		{"unique+no-generation", true, false, true, as.CREATE_ONLY, as.NONE},
	}
	for _, c := range cases {
		p := basePolicy(c.unique, c.replace, c.nogen)
		if p.RecordExistsAction != c.rea || p.GenerationPolicy != c.gp {
			t.Errorf("%s: exists action %v, generation policy %v; want %v, %v", c.name,
				p.RecordExistsAction, p.GenerationPolicy, c.rea, c.gp)
		}
		if p.CommitLevel != as.COMMIT_ALL || p.DurableDelete || p.FilterExpression != nil {
			t.Errorf("%s: unexpected extra settings %+v", c.name, p)
		}
	}
}

// TestPreparePolicies checks the per-record fields of the write policies
// (generation, TTL, send-key only with a stored key) and the operations
// built from a batch.
func TestPreparePolicies(t *testing.T) {
	w := &writers{policy: basePolicy(false, false, false)}
	var b batch
	keyed := &asb.Record{Key: asb.Key{Type: asb.KeyString, Bytes: []byte("k1")}, Generation: 7,
		Bins: []asb.Bin{{Name: []byte("a"), Type: asb.BinInt, Int: 5}, {Name: []byte("n"), Type: asb.BinNil}}}
	digestOnly := &asb.Record{Generation: 2, Bins: []asb.Bin{{Name: []byte("s"), Type: asb.BinString, Bytes: []byte("xy")}}}
	name := func(_ int, b []byte) string { return string(b) }
	b.add(keyed, "test", "set", 100, []int{0, 1}, name)
	b.add(digestOnly, "test", "", as.TTLDontExpire, []int{0}, name)
	var s wstate
	if err := w.prepare(&s, &b); err != nil {
		t.Fatal(err)
	}
	p0, p1 := s.policies[0], s.policies[1]
	if p0.Generation != 7 || p0.Expiration != 100 || !p0.SendKey || p0.GenerationPolicy != as.EXPECT_GEN_GT {
		t.Errorf("keyed record policy %+v", p0)
	}
	if p1.Generation != 2 || p1.Expiration != as.TTLDontExpire || p1.SendKey {
		t.Errorf("digest-only record policy %+v", p1)
	}
	if got := len(s.ops(&b, 0)); got != 2 {
		t.Errorf("keyed record has %d operations, want 2", got)
	}
	if got := len(s.ops(&b, 1)); got != 1 {
		t.Errorf("digest-only record has %d operations, want 1", got)
	}
	v := s.values[0]
	if v.ParticleType != int(asb.ParticleInteger) || string(v.Data) != "\x00\x00\x00\x00\x00\x00\x00\x05" {
		t.Errorf("integer bin value %+v", v)
	}
	if s.keys[0].SetName() != "set" || s.keys[0].Value().String() != "k1" {
		t.Errorf("key %v", s.keys[0])
	}
	// Releasing the writer's state drops every client object.
	s.release()
	if s.keys[0] != nil {
		t.Error("release kept a key")
	}
}

// TestRecordTTL checks expiry and TTL computation with --extra-ttl.
func TestRecordTTL(t *testing.T) {
	const now = 1_000_000
	cases := []struct {
		void    uint32
		extra   int64
		ttl     uint32
		expired bool
	}{
		{0, 0, as.TTLDontExpire, false},   // never expires
		{0, 500, as.TTLDontExpire, false}, // extra TTL does not apply
		{now + 60, 0, 60, false},
		{now + 1, 0, 1, false},
		{now, 0, 0, true}, // void time reached: expired
		{now - 10, 0, 0, true},
		{now - 10, 10, 0, true}, // extra TTL exactly reaching now
		{now - 10, 11, 1, false},
		{now - 10, 3600, 3590, false},
		{math.MaxUint32, math.MaxInt32, math.MaxUint32 - 2, false}, // capped below the special values
	}
	for _, c := range cases {
		ttl, expired := recordTTL(c.void, c.extra, now)
		if ttl != c.ttl || expired != c.expired {
			t.Errorf("recordTTL(%d, %d, %d) = %d, %v; want %d, %v", c.void, c.extra, now, ttl, expired, c.ttl, c.expired)
		}
	}
}

// TestRetrySchedule checks the legacy back-off schedule (legacy-cli.md
// §8.9): no delay before the first retry, then scale × 2^(k−2) before
// retry k, and no more than --max-retries retries.
func TestRetrySchedule(t *testing.T) {
	ms := time.Millisecond
	schedule := func(scale time.Duration, maxRetries int64) []time.Duration {
		var rs retryStatus
		var out []time.Duration
		for {
			d, ok := rs.next(scale, maxRetries)
			if !ok {
				return out
			}
			out = append(out, d)
			if len(out) > 100 {
				t.Fatalf("more than 100 retries granted with --max-retries %d", maxRetries)
			}
		}
	}
	cases := []struct {
		scale time.Duration
		max   int64
		want  []time.Duration
	}{
		{150 * ms, 5, []time.Duration{0, 150 * ms, 300 * ms, 600 * ms, 1200 * ms}}, // the defaults
		{150 * ms, 0, nil}, // --max-retries 0: no retry
		{150 * ms, 1, []time.Duration{0}},
		{10 * ms, 3, []time.Duration{0, 10 * ms, 20 * ms}},
		{0, 3, []time.Duration{0, 0, 0}},
	}
	for _, c := range cases {
		got := schedule(c.scale, c.max)
		if !slices.Equal(got, c.want) {
			t.Errorf("scale %v, max %d: delays %v, want %v", c.scale, c.max, got, c.want)
		}
	}
	// Very late retries are capped instead of overflowing.
	long := schedule(150*ms, 80)
	if len(long) != 80 || long[79] != maxRetryDelay || long[40] != maxRetryDelay {
		t.Errorf("80 retries: got %d delays, last %v", len(long), long[len(long)-1])
	}
	for i := 1; i < len(long); i++ {
		if long[i] < long[i-1] {
			t.Fatalf("delay %d (%v) shorter than delay %d (%v)", i, long[i], i-1, long[i-1])
		}
	}
}

// TestClassify checks how C client status codes are sorted: record
// outcomes, permanent errors and everything else retried.
func TestClassify(t *testing.T) {
	cases := map[int]outcome{
		0:   outInserted,
		3:   outFresher,
		5:   outExisted,
		13:  outRecordError, // record too big
		21:  outRecordError, // bin name
		4:   outPermanent,   // request invalid
		-1:  outPermanent,   // client error
		-12: outPermanent,   // max retries exceeded
		150: outBatchDisabled,
		9:   outRetry, // timeout
		18:  outRetry, // device overload
		14:  outRetry, // key busy
		11:  outRetry, // partition unavailable
		-8:  outRetry, // invalid node
		-10: outRetry, // connection
		-15: outRetry, // no response
		-7:  outRetry, // no more connections
	}
	for code, want := range cases {
		if got := classify(code); got != want {
			t.Errorf("classify(%d) = %v, want %v", code, got, want)
		}
	}
	// Go client codes reach classify through their C equivalents.
	goCases := map[types.ResultCode]outcome{
		types.NETWORK_ERROR:                    outRetry,
		types.TIMEOUT:                          outRetry,
		types.SERVER_NOT_AVAILABLE:             outRetry,
		types.INVALID_NODE_ERROR:               outRetry,
		types.NO_RESPONSE:                      outRetry,
		types.NO_AVAILABLE_CONNECTIONS_TO_NODE: outRetry,
		types.PARTITION_UNAVAILABLE:            outRetry,
		types.KEY_BUSY:                         outRetry,
		types.DEVICE_OVERLOAD:                  outRetry,
		types.PARAMETER_ERROR:                  outPermanent,
		types.SERIALIZE_ERROR:                  outPermanent,
		types.BIN_NAME_TOO_LONG:                outRecordError,
	}
	for rc, want := range goCases {
		if got := classify(clusterconn.CStatus(rc)); got != want {
			t.Errorf("classify(CStatus(%v)) = %v, want %v", rc, got, want)
		}
	}
}

// TestRetriedOutcome checks that a retried write refused as fresher or
// existing (its lost first attempt stored it) counts as inserted, and only
// then.
func TestRetriedOutcome(t *testing.T) {
	cases := []struct {
		code    int
		retried bool
		want    int
	}{
		{3, true, 0}, {5, true, 0}, {3, false, 3}, {5, false, 5},
		{0, true, 0}, {13, true, 13}, {4, true, 4},
	}
	for _, c := range cases {
		if got := retriedOutcome(c.code, c.retried); got != c.want {
			t.Errorf("retriedOutcome(%d, %v) = %d, want %d", c.code, c.retried, got, c.want)
		}
	}
}
