package restore

import (
	"math"
	"testing"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"
	"github.com/aerospike/aerospike-client-go/v7/types"

	"asbtools/asb"
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

// TestRetryDelay checks the legacy back-off schedule: no delay before the
// first try and the first retry, then scale × 2^(k−2) for retry k.
func TestRetryDelay(t *testing.T) {
	scale := 150 * time.Millisecond
	want := []time.Duration{0, 0, 150 * time.Millisecond, 300 * time.Millisecond, 600 * time.Millisecond, 1200 * time.Millisecond}
	for attempt, w := range want {
		if got := retryDelay(scale, int64(attempt)); got != w {
			t.Errorf("attempt %d: delay %v, want %v", attempt, got, w)
		}
	}
	if got := retryDelay(0, 5); got != 0 {
		t.Errorf("zero scale: delay %v", got)
	}
	if got := retryDelay(scale, 200); got != maxRetryDelay {
		t.Errorf("huge attempt: delay %v, want the cap %v", got, maxRetryDelay)
	}
	if got := retryDelay(scale, 40); got != maxRetryDelay {
		t.Errorf("overflowing attempt: delay %v, want the cap %v", got, maxRetryDelay)
	}
}

// TestClassify checks how result codes are counted.
func TestClassify(t *testing.T) {
	cases := map[types.ResultCode]outcome{
		types.OK:                   outInserted,
		types.GENERATION_ERROR:     outFresher,
		types.KEY_EXISTS_ERROR:     outExisted,
		types.RECORD_TOO_BIG:       outRecordError,
		types.BIN_NAME_TOO_LONG:    outRecordError,
		types.PARAMETER_ERROR:      outPermanent,
		types.BATCH_DISABLED:       outBatchDisabled,
		types.TIMEOUT:              outRetry,
		types.DEVICE_OVERLOAD:      outRetry,
		types.SERVER_NOT_AVAILABLE: outRetry,
	}
	for rc, want := range cases {
		if got := classify(rc); got != want {
			t.Errorf("classify(%v) = %v, want %v", rc, got, want)
		}
	}
}
