package asdsim

import (
	"bytes"
	"encoding/hex"
	"math"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"
	"github.com/aerospike/aerospike-client-go/v7/types"
)

func TestDigestVectors(t *testing.T) {
	cases := []struct {
		set  string
		key  *UserKey
		want string
		pid  int
	}{
		{"demo", StringKey("key1"), "ec91192d4b7f8ce35d5d78d34bca65cbaaaac960", 492},
		{"demo", IntKey(1), "b7f4b83889e2da67de683e1df6919a1eacc446c8", 1207},
		{"", StringKey("key1"), "579f05ecf9e6a9e796f4da2ab0b1323364df5c10", 3927},
	}
	for _, c := range cases {
		d := ComputeDigest(c.set, c.key)
		if hex.EncodeToString(d[:]) != c.want {
			t.Errorf("digest(%q,%v) = %x, want %s", c.set, c.key, d, c.want)
		}
		if PartitionOf(d) != c.pid {
			t.Errorf("partition of %x = %d, want %d", d, PartitionOf(d), c.pid)
		}
	}
	// Agree with the client for blob keys and other values too.
	for _, k := range []any{[]byte{0, 1, 2, 255}, "", -5, 1 << 40, "é"} {
		ck, err := as.NewKey("test", "s", k)
		if err != nil {
			t.Fatal(err)
		}
		var uk *UserKey
		switch v := k.(type) {
		case []byte:
			uk = BytesKey(v)
		case string:
			uk = StringKey(v)
		case int:
			uk = IntKey(int64(v))
		}
		if d := ComputeDigest("s", uk); !bytes.Equal(d[:], ck.Digest()) {
			t.Errorf("digest of %v differs from client: %x vs %x", k, d, ck.Digest())
		}
	}
}

func TestConnectAndTendWithoutWarnings(t *testing.T) {
	mark := testLog.mark()
	s := startServer(t, Config{})
	c := connect(t, s)
	if n := len(c.GetNodes()); n != 1 {
		t.Fatalf("want 1 node, got %d", n)
	}
	time.Sleep(2500 * time.Millisecond) // two tend rounds
	if !c.IsConnected() {
		t.Fatal("client lost the node")
	}
	if st := s.Node(0).Stats(); st.Info < 4 {
		t.Fatalf("expected tend info requests, got %d", st.Info)
	}
	noWarnings(t, mark)
}

// particle cases: a value written through the client and the exact bytes
// the server must store.
func TestParticleTypesRoundTrip(t *testing.T) {
	s := startServer(t, Config{})
	c := connect(t, s, oneConn)
	listBytes := []byte{0x93, 0x01, 0xa2, 0x03, 0x61, 0xc3}                                            // [1, "a", true]
	orderedMap := []byte{0x83, 0xc7, 0x00, 0x01, 0xc0, 0xa2, 0x03, 0x61, 0x01, 0xa2, 0x03, 0x62, 0x02} // k-ordered {a:1,b:2}
	geo := append([]byte{0, 0, 0}, `{"type":"Point","coordinates":[1.5,2.5]}`...)
	hll := bytes.Repeat([]byte{0x05}, 40)
	bins := []*as.Bin{
		as.NewBin("i", as.NewIntegerValue(-42)),
		as.NewBin("f", as.NewFloatValue(math.Inf(-1))),
		as.NewBin("s", as.NewStringValue("héllo\x00\n")),
		as.NewBin("b", as.NewBytesValue([]byte{0, 1, 2, 0xff})),
		as.NewBin("t", as.BoolValue(true)),
		as.NewBin("l", as.NewRawBlobValue(int(ParticleList), listBytes)),
		as.NewBin("m", as.NewRawBlobValue(int(ParticleMap), orderedMap)),
		as.NewBin("g", as.NewRawBlobValue(int(ParticleGeoJSON), geo)),
		as.NewBin("h", as.NewRawBlobValue(int(ParticleHLL), hll)),
		as.NewBin("java", as.NewRawBlobValue(int(ParticleJava), []byte{0xac, 0xed, 0, 5})),
		as.NewBin("cs", as.NewRawBlobValue(int(ParticleCSharp), []byte{1})),
		as.NewBin("py", as.NewRawBlobValue(int(ParticlePython), []byte{0x80, 2})),
		as.NewBin("rb", as.NewRawBlobValue(int(ParticleRuby), []byte{4, 8})),
		as.NewBin("php", as.NewRawBlobValue(int(ParticlePHP), []byte("s:1:\"x\";"))),
		as.NewBin("erl", as.NewRawBlobValue(int(ParticleErlang), []byte{131, 97, 1})),
	}
	want := []Bin{
		IntBin("i", -42), FloatBin("f", math.Inf(-1)), StringBin("s", "héllo\x00\n"),
		BytesBin("b", []byte{0, 1, 2, 0xff}), BoolBin("t", true),
		RawBin("l", ParticleList, listBytes), RawBin("m", ParticleMap, orderedMap),
		RawBin("g", ParticleGeoJSON, geo), RawBin("h", ParticleHLL, hll),
		RawBin("java", ParticleJava, []byte{0xac, 0xed, 0, 5}), RawBin("cs", ParticleCSharp, []byte{1}),
		RawBin("py", ParticlePython, []byte{0x80, 2}), RawBin("rb", ParticleRuby, []byte{4, 8}),
		RawBin("php", ParticlePHP, []byte("s:1:\"x\";")), RawBin("erl", ParticleErlang, []byte{131, 97, 1}),
	}
	k := mustKey(t, "test", "kitchen", "all-types")
	wp := as.NewWritePolicy(0, 0)
	wp.SendKey = true
	if err := c.PutBins(wp, k, bins...); err != nil {
		t.Fatal(err)
	}
	got, ok := s.GetByKey("test", "kitchen", StringKey("all-types"))
	if !ok {
		t.Fatal("record not stored")
	}
	if !reflect.DeepEqual(got.Bins, want) {
		t.Fatalf("stored bins differ:\n got %v\nwant %v", got.Bins, want)
	}
	if got.Key == nil || got.Key.Type != ParticleString || string(got.Key.Data) != "all-types" {
		t.Fatalf("stored key = %+v", got.Key)
	}
	if got.Generation != 1 || got.VoidTime != 0 || got.Set != "kitchen" {
		t.Fatalf("metadata: %+v", got)
	}
	if lut := time.Unix(0, got.LastUpdate); time.Since(lut) > 5*time.Second || lut.After(time.Now()) {
		t.Fatalf("last update %v not now", lut)
	}
	// Read back through the client (decoded values).
	rec, err := c.Get(nil, k)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Bins["i"] != -42 || rec.Bins["s"] != "héllo\x00\n" || rec.Bins["t"] != true ||
		!math.IsInf(rec.Bins["f"].(float64), -1) || !bytes.Equal(rec.Bins["b"].([]byte), []byte{0, 1, 2, 0xff}) {
		t.Fatalf("decoded bins: %v", rec.Bins)
	}
	if l, ok := rec.Bins["l"].([]any); !ok || len(l) != 3 || l[1] != "a" {
		t.Fatalf("list decoded as %#v", rec.Bins["l"])
	}
	if m, ok := rec.Bins["m"].([]as.MapPair); !ok || len(m) != 2 || m[0].Key != "a" {
		t.Fatalf("ordered map decoded as %#v", rec.Bins["m"])
	}
	// Raw CDT scans return the exact list/map bytes.
	sp := as.NewScanPolicy()
	sp.RawCDT = true
	rs, err := c.ScanPartitions(sp, as.NewPartitionFilterByKey(k), "test", "kitchen")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for r := range rs.Results() {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		n++
		if rb, ok := r.Record.Bins["m"].(*as.RawBlobValue); !ok || !bytes.Equal(rb.Data, orderedMap) {
			t.Fatalf("raw map = %#v", r.Record.Bins["m"])
		}
		if rb, ok := r.Record.Bins["l"].(*as.RawBlobValue); !ok || !bytes.Equal(rb.Data, listBytes) {
			t.Fatalf("raw list = %#v", r.Record.Bins["l"])
		}
		if r.Record.Key.Value() == nil || r.Record.Key.Value().GetObject() != "all-types" {
			t.Fatalf("scan key = %v", r.Record.Key.Value())
		}
	}
	if n != 0 {
		// the after-digest filter starts after the key itself
		t.Fatalf("scan after the record's own digest returned %d records", n)
	}
	rs, err = c.ScanPartitions(sp, as.NewPartitionFilterById(k.PartitionId()), "test", "kitchen")
	if err != nil {
		t.Fatal(err)
	}
	for r := range rs.Results() {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		n++
	}
	if n != 1 {
		t.Fatalf("partition scan returned %d records", n)
	}
	// Seeded records come back byte-exact through the client too.
	if err := s.Put("test", Record{Set: "seed", Key: IntKey(7), Bins: want, Generation: 9, VoidTime: 0}); err != nil {
		t.Fatal(err)
	}
	rec, err = c.Get(nil, mustKey(t, "test", "seed", 7))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Generation != 9 || len(rec.Bins) != len(want) {
		t.Fatalf("seeded record via client: gen %d, %d bins", rec.Generation, len(rec.Bins))
	}
}

func TestBinOrderAndUpdates(t *testing.T) {
	s := startServer(t, Config{})
	c := connect(t, s, oneConn)
	k := mustKey(t, "test", "", 1)
	if err := c.PutBins(nil, k, as.NewBin("z", 1), as.NewBin("a", 2), as.NewBin("m", 3)); err != nil {
		t.Fatal(err)
	}
	if err := c.PutBins(nil, k, as.NewBin("a", "x"), as.NewBin("b", 4), as.NewBin("z", nil)); err != nil {
		t.Fatal(err)
	}
	r, _ := s.Get("test", ComputeDigest("", IntKey(1)))
	var names []string
	for _, b := range r.Bins {
		names = append(names, b.Name)
	}
	if !reflect.DeepEqual(names, []string{"a", "m", "b"}) || r.Generation != 2 {
		t.Fatalf("bins %v gen %d", names, r.Generation)
	}
	if r.Key != nil {
		t.Fatal("key stored without SendKey")
	}
	// add / append / prepend
	if err := c.AddBins(nil, k, as.NewBin("m", 10)); err != nil {
		t.Fatal(err)
	}
	if err := c.AppendBins(nil, k, as.NewBin("a", "yz")); err != nil {
		t.Fatal(err)
	}
	if err := c.PrependBins(nil, k, as.NewBin("a", "<")); err != nil {
		t.Fatal(err)
	}
	wantCode(t, c.AddBins(nil, k, as.NewBin("a", 1)), int(types.BIN_TYPE_ERROR), "add to string")
	rec, err := c.Operate(nil, k, as.AddOp(as.NewBin("m", 1)), as.GetBinOp("m"), as.GetBinOp("a"))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Bins["m"] != 14 || rec.Bins["a"] != "<xyz" {
		t.Fatalf("operate: %v", rec.Bins)
	}
	// bin name too long
	wantCode(t, c.PutBins(nil, k, as.NewBin("0123456789abcdef", 1)), int(types.BIN_NAME_TOO_LONG), "long bin name")
}

func TestWritePolicies(t *testing.T) {
	s := startServer(t, Config{})
	c := connect(t, s, oneConn)
	k := mustKey(t, "test", "p", "k")
	pol := func(f func(*as.WritePolicy)) *as.WritePolicy {
		wp := as.NewWritePolicy(0, 0)
		f(wp)
		return wp
	}
	bin := as.NewBin("a", 1)
	wantCode(t, c.PutBins(pol(func(p *as.WritePolicy) { p.RecordExistsAction = as.UPDATE_ONLY }), k, bin), int(types.KEY_NOT_FOUND_ERROR), "update-only on missing")
	wantCode(t, c.PutBins(pol(func(p *as.WritePolicy) { p.RecordExistsAction = as.REPLACE_ONLY }), k, bin), int(types.KEY_NOT_FOUND_ERROR), "replace-only on missing")
	wantCode(t, c.PutBins(pol(func(p *as.WritePolicy) { p.RecordExistsAction = as.CREATE_ONLY }), k, bin, as.NewBin("b", 2)), 0, "create-only on missing")
	wantCode(t, c.PutBins(pol(func(p *as.WritePolicy) { p.RecordExistsAction = as.CREATE_ONLY }), k, bin), int(types.KEY_EXISTS_ERROR), "create-only on existing")
	wantCode(t, c.PutBins(pol(func(p *as.WritePolicy) { p.RecordExistsAction = as.UPDATE_ONLY }), k, as.NewBin("c", 3)), 0, "update-only on existing")
	r, _ := s.GetByKey("test", "p", StringKey("k"))
	if len(r.Bins) != 3 {
		t.Fatalf("update-only merged bins: %v", r.Bins)
	}
	wantCode(t, c.PutBins(pol(func(p *as.WritePolicy) { p.RecordExistsAction = as.REPLACE }), k, as.NewBin("d", 4)), 0, "replace")
	r, _ = s.GetByKey("test", "p", StringKey("k"))
	if len(r.Bins) != 1 || r.Bins[0].Name != "d" || r.Generation != 3 {
		t.Fatalf("replace: %+v", r)
	}
	wantCode(t, c.PutBins(pol(func(p *as.WritePolicy) { p.RecordExistsAction = as.REPLACE_ONLY }), k, as.NewBin("e", 5)), 0, "replace-only on existing")
	wantCode(t, c.PutBins(pol(func(p *as.WritePolicy) { p.RecordExistsAction = as.REPLACE }), k, as.NewBin("e", nil)), int(types.PARAMETER_ERROR), "replace with bin delete")
	// generation policies (record is at generation 4)
	wantCode(t, c.PutBins(pol(func(p *as.WritePolicy) { p.GenerationPolicy = as.EXPECT_GEN_EQUAL; p.Generation = 3 }), k, bin), int(types.GENERATION_ERROR), "gen equal mismatch")
	wantCode(t, c.PutBins(pol(func(p *as.WritePolicy) { p.GenerationPolicy = as.EXPECT_GEN_EQUAL; p.Generation = 4 }), k, bin), 0, "gen equal")
	wantCode(t, c.PutBins(pol(func(p *as.WritePolicy) { p.GenerationPolicy = as.EXPECT_GEN_GT; p.Generation = 5 }), k, bin), int(types.GENERATION_ERROR), "gen gt equal")
	wantCode(t, c.PutBins(pol(func(p *as.WritePolicy) { p.GenerationPolicy = as.EXPECT_GEN_GT; p.Generation = 6 }), k, bin), 0, "gen gt")
	k2 := mustKey(t, "test", "p", "new")
	wantCode(t, c.PutBins(pol(func(p *as.WritePolicy) { p.GenerationPolicy = as.EXPECT_GEN_GT; p.Generation = 1 }), k2, bin), 0, "gen gt on new record")
	// 16-bit generation wrap
	if err := s.Put("test", Record{Set: "p", Key: StringKey("wrap"), Bins: []Bin{IntBin("a", 1)}, Generation: 65535}); err != nil {
		t.Fatal(err)
	}
	kw := mustKey(t, "test", "p", "wrap")
	if err := c.PutBins(nil, kw, bin); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.GetByKey("test", "p", StringKey("wrap")); r.Generation != 1 {
		t.Fatalf("generation after 65535 = %d", r.Generation)
	}
	// set mismatch on an existing digest
	if err := s.Put("test", Record{Digest: d20(k), Set: "other", Bins: []Bin{IntBin("a", 1)}}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, c.PutBins(nil, k, bin), int(types.PARAMETER_ERROR), "set mismatch")
	// the connection is still usable after every error reply
	if _, err := c.Get(nil, k2); err != nil {
		t.Fatal(err)
	}
}

func TestKeysAndTTL(t *testing.T) {
	clock := newFakeClock()
	s := startServer(t, Config{Clock: clock.now, Namespaces: []NamespaceConfig{{Name: "test"}, {Name: "bar", DefaultTTL: 100}, {Name: "nsup0", RejectTTL: true}}})
	c := connect(t, s, oneConn)
	nowVoid := uint32(clock.now().Unix() - CitrusleafEpoch)
	put := func(ns string, key any, ttl uint32, sendKey bool) error {
		wp := as.NewWritePolicy(0, ttl)
		wp.SendKey = sendKey
		return c.PutBins(wp, mustKey(t, ns, "s", key), as.NewBin("a", 1))
	}
	get := func(ns string, key *UserKey) Record {
		r, ok := s.GetByKey(ns, "s", key)
		if !ok {
			t.Fatalf("record %v missing", key)
		}
		return r
	}
	if err := put("test", 1, 100, true); err != nil {
		t.Fatal(err)
	}
	if r := get("test", IntKey(1)); r.VoidTime != nowVoid+100 || r.Key == nil || !bytes.Equal(r.Key.Data, IntKey(1).Data) {
		t.Fatalf("ttl 100: %+v (now %d)", r, nowVoid)
	}
	// don't update (-2) keeps the void time, key is kept without SendKey
	if err := put("test", 1, as.TTLDontUpdate, false); err != nil {
		t.Fatal(err)
	}
	if r := get("test", IntKey(1)); r.VoidTime != nowVoid+100 || r.Key == nil {
		t.Fatalf("ttl -2: %+v", r)
	}
	// never expire (-1)
	if err := put("test", 1, as.TTLDontExpire, false); err != nil {
		t.Fatal(err)
	}
	if r := get("test", IntKey(1)); r.VoidTime != 0 {
		t.Fatalf("ttl -1: %+v", r)
	}
	// namespace default (0)
	if err := put("bar", "x", as.TTLServerDefault, false); err != nil {
		t.Fatal(err)
	}
	if r := get("bar", StringKey("x")); r.VoidTime != nowVoid+100 {
		t.Fatalf("default ttl: %d", r.VoidTime)
	}
	if err := put("test", "x", as.TTLServerDefault, false); err != nil {
		t.Fatal(err)
	}
	if r := get("test", StringKey("x")); r.VoidTime != 0 {
		t.Fatalf("default ttl 0: %d", r.VoidTime)
	}
	// TTL out of range
	wantCode(t, put("test", "big", 10*365*24*3600+1, false), int(types.PARAMETER_ERROR), "ttl too large")
	// nsup-period 0 emulation
	wantCode(t, put("nsup0", "y", 10, false), int(types.FAIL_FORBIDDEN), "ttl with nsup 0")
	wantCode(t, put("nsup0", "y", as.TTLDontExpire, false), 0, "never-expire with nsup 0")
	// key mismatch: same digest, different stored key is impossible through
	// the client, so seed a record whose stored key differs from its digest.
	d := ComputeDigest("s", StringKey("km"))
	if err := s.Put("test", Record{Digest: d, Set: "s", Key: StringKey("other"), Bins: []Bin{IntBin("a", 1)}}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, put("test", "km", 0, true), int(types.KEY_MISMATCH), "key mismatch")
	// expiry is honoured
	r, err := c.GetHeader(nil, mustKey(t, "test", "s", 1))
	if err != nil || r.Expiration != math.MaxUint32 {
		t.Fatalf("header: %v %v", r, err)
	}
	if err := put("test", "short", 5, false); err != nil {
		t.Fatal(err)
	}
	rh, err := c.GetHeader(nil, mustKey(t, "test", "s", "short"))
	// The client turns the void time into a TTL with its own (real) clock,
	// which runs on while the server's fake clock stands still.
	if err != nil || rh.Expiration < 4 || rh.Expiration > 5 {
		t.Fatalf("header ttl: %v %v", rh, err)
	}
	clock.add(6 * time.Second)
	_, err = c.Get(nil, mustKey(t, "test", "s", "short"))
	wantCode(t, err, int(types.KEY_NOT_FOUND_ERROR), "expired record")
	if _, ok := s.GetByKey("test", "s", StringKey("short")); ok {
		t.Fatal("expired record still visible through the API")
	}
}

func TestGetExistsDeleteTouch(t *testing.T) {
	s := startServer(t, Config{})
	c := connect(t, s, oneConn)
	k := mustKey(t, "test", "d", "k")
	if ok, err := c.Exists(nil, k); err != nil || ok {
		t.Fatalf("exists on missing: %v %v", ok, err)
	}
	_, err := c.Get(nil, k)
	wantCode(t, err, int(types.KEY_NOT_FOUND_ERROR), "get missing")
	wantCode(t, c.Touch(nil, k), int(types.KEY_NOT_FOUND_ERROR), "touch missing")
	if existed, err := c.Delete(nil, k); err != nil || existed {
		t.Fatalf("delete missing: %v %v", existed, err)
	}
	if err := c.PutBins(nil, k, as.NewBin("a", 1), as.NewBin("b", "x")); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.Exists(nil, k); err != nil || !ok {
		t.Fatalf("exists: %v %v", ok, err)
	}
	r, err := c.Get(nil, k, "b", "nope")
	if err != nil || len(r.Bins) != 1 || r.Bins["b"] != "x" {
		t.Fatalf("get bins: %v %v", r, err)
	}
	h, err := c.GetHeader(nil, k)
	if err != nil || h.Generation != 1 || len(h.Bins) != 0 {
		t.Fatalf("header: %v %v", h, err)
	}
	if err := c.Touch(as.NewWritePolicy(0, 50), k); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.GetByKey("test", "d", StringKey("k")); st.Generation != 2 || st.VoidTime == 0 {
		t.Fatalf("touch: %+v", st)
	}
	// filtered out
	rp := as.NewPolicy()
	rp.FilterExpression = as.ExpEq(as.ExpIntBin("a"), as.ExpIntVal(2))
	_, err = c.Get(rp, k)
	wantCode(t, err, int(types.FILTERED_OUT), "filtered get")
	wp := as.NewWritePolicy(0, 0)
	wp.FilterExpression = as.ExpEq(as.ExpIntBin("a"), as.ExpIntVal(2))
	_, err = c.Delete(wp, k)
	wantCode(t, err, int(types.FILTERED_OUT), "filtered delete")
	// unsupported expression op is a parameter error
	rp.FilterExpression = as.ExpGreater(as.ExpListSize(as.ExpListBin("l")), as.ExpIntVal(0))
	_, err = c.Get(rp, k)
	wantCode(t, err, int(types.PARAMETER_ERROR), "unsupported expression")
	if existed, err := c.Delete(nil, k); err != nil || !existed {
		t.Fatalf("delete: %v %v", existed, err)
	}
	if _, ok := s.GetByKey("test", "d", StringKey("k")); ok {
		t.Fatal("record survived delete")
	}
	// operate delete
	if err := c.PutBins(nil, k, as.NewBin("a", 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Operate(nil, k, as.GetBinOp("a"), as.DeleteOp()); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.GetByKey("test", "d", StringKey("k")); ok {
		t.Fatal("record survived delete op")
	}
	// unknown namespace is rejected by the client before sending
	_, err = c.Get(nil, mustKey(t, "nope", "", 1))
	wantCode(t, err, int(types.INVALID_NAMESPACE), "unknown namespace")
}

func TestCompression(t *testing.T) {
	s := startServer(t, Config{})
	c := connect(t, s, oneConn)
	wp := as.NewWritePolicy(0, 0)
	wp.UseCompression = true
	k := mustKey(t, "test", "z", "big")
	big := bytes.Repeat([]byte("compress me "), 1000)
	if err := c.PutBins(wp, k, as.NewBin("b", big), as.NewBin("i", 5)); err != nil {
		t.Fatal(err)
	}
	rp := as.NewPolicy()
	rp.UseCompression = true
	r, err := c.Get(rp, k)
	if err != nil || !bytes.Equal(r.Bins["b"].([]byte), big) {
		t.Fatalf("compressed get: %v", err)
	}
	sp := as.NewScanPolicy()
	sp.UseCompression = true
	for i := 0; i < 50; i++ {
		if err := s.Put("test", Record{Set: "z", Key: IntKey(int64(i)), Bins: []Bin{BytesBin("b", big)}}); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := c.ScanAll(sp, "test", "z")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for res := range rs.Results() {
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		if !bytes.Equal(res.Record.Bins["b"].([]byte), big) {
			t.Fatal("compressed scan corrupted a bin")
		}
		n++
	}
	if n != 51 {
		t.Fatalf("compressed scan returned %d", n)
	}
	if _, err := c.Get(nil, k); err != nil {
		t.Fatal(err)
	}
}

// fakeClock is a settable clock safe for concurrent use.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}

func (f *fakeClock) now() time.Time      { return time.Unix(0, f.ns.Load()) }
func (f *fakeClock) add(d time.Duration) { f.ns.Add(int64(d)) }

// d20 returns a client key's digest as an array.
func d20(k *as.Key) [20]byte {
	var d [20]byte
	copy(d[:], k.Digest())
	return d
}
