package infocmd

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"asbtools/asb"
)

// goldenInfo returns the response of a real 8.1 node to cmd.
func goldenInfo(t *testing.T, cmd string) string {
	t.Helper()
	data, err := os.ReadFile("../test/golden/server-8.1/info-kitchen.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		c, v, ok := strings.Cut(l, "\t")
		if ok && c == cmd {
			s, err := strconv.Unquote(v)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	t.Fatalf("%s not in golden info", cmd)
	return ""
}

func TestParseBuild(t *testing.T) {
	for in, want := range map[string]Version{
		"8.1.2.0":         {8, 1, 2, 0},
		"7.2.0.1-start-1": {7, 2, 0, 1},
		"6.0":             {6, 0, 0, 0},
		"4.9.0.3\n":       {4, 9, 0, 3},
	} {
		got, err := ParseBuild(in)
		if err != nil || got != want {
			t.Errorf("ParseBuild(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x.y", "8", "ERROR:4:unrecognized command"} {
		if _, err := ParseBuild(bad); err == nil {
			t.Errorf("ParseBuild(%q) accepted", bad)
		}
	}
	if !(Version{8, 1, 0, 0}).AtLeast(6, 1) || (Version{5, 1, 0, 0}).AtLeast(5, 2) || !(Version{5, 2, 0, 0}).AtLeast(5, 2) {
		t.Error("AtLeast is wrong")
	}
}

func TestNamespaceCounts(t *testing.T) {
	c, err := ParseNamespaceCounts(goldenInfo(t, "namespace/test"))
	if err != nil || c.Objects != 249 || c.ReplicationFactor != 1 {
		t.Fatalf("got %+v, %v", c, err)
	}
	_, err = ParseNamespaceCounts("type=unknown")
	if err == nil || err.Error() != "Failed to find objects field in namespace info result" {
		t.Errorf("unknown namespace: %v", err)
	}
	_, err = ParseNamespaceCounts("objects=3")
	if err == nil || !strings.Contains(err.Error(), "effective_replication_factor") {
		t.Errorf("missing replication factor: %v", err)
	}
	if _, err := ParseNamespaceCounts("objects=x;effective_replication_factor=1"); err == nil || err.Error() != "Invalid object count x" {
		t.Errorf("bad count: %v", err)
	}
}

func TestSetObjects(t *testing.T) {
	n, err := ParseSetObjects(goldenInfo(t, "sets/test/kitchen"))
	if err != nil || n != 132 {
		t.Fatalf("got %d, %v", n, err)
	}
	if n, err := ParseSetObjects(""); n != 0 || err != nil {
		t.Errorf("unknown set: %d %v", n, err)
	}
	// The per-set form has no ns=/set= prefix, so a set name with ':' in
	// it cannot break the parse.
	if n, err := ParseSetObjects("n_objects=7:set-enable-xdr=use-default;"); n != 7 || err != nil {
		t.Errorf("old server: %d %v", n, err)
	}
	if SetCmd("test", "a:b") != "sets/test/a:b" {
		t.Error("SetCmd")
	}
}

func TestSIndexList81(t *testing.T) {
	list, err := ParseSIndexList(goldenInfo(t, "sindex-list:ns=test;b64=true"))
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 10 {
		t.Fatalf("%d indexes", len(list))
	}
	byName := map[string]SIndex{}
	for _, ix := range list {
		byName[ix.Name] = ix
	}
	check := func(name, set, bin string, it asb.IndexType, dt asb.IndexDataType, ctx, exp string) {
		t.Helper()
		ix, ok := byName[name]
		if !ok {
			t.Fatalf("%s missing", name)
		}
		if ix.Namespace != "test" || ix.Set != set || ix.Paths[0].Bin != bin || ix.Type != it || ix.Paths[0].Type != dt ||
			ix.Context != ctx || ix.Expression != exp {
			t.Errorf("%s = %+v", name, ix)
		}
	}
	check("kit_i_num", "kitchen", "i", asb.IndexDefault, asb.IndexNumeric, "", "")
	check("kit_s_str", "", "s", asb.IndexDefault, asb.IndexString, "", "")
	check("kit_g_geo", "kitchen", "g", asb.IndexDefault, asb.IndexGeo, "", "")
	check("kit_l_list", "kitchen", "l", asb.IndexList, asb.IndexNumeric, "", "")
	check("kit_m_keys", "kitchen", "m", asb.IndexMapKeys, asb.IndexString, "", "")
	check("kit_m_vals", "kitchen", "m", asb.IndexMapValues, asb.IndexNumeric, "", "")
	check("kit_ctx", "kitchen", "m", asb.IndexDefault, asb.IndexNumeric, "kiKiA2E=", "")
	check("kit_b_blob", "kitchen", "b", asb.IndexDefault, asb.IndexBlob, "", "")
	check("kit_space", "with space", "sp ace", asb.IndexDefault, asb.IndexNumeric, "", "")
	check("kit_exp", "kitchen", "", asb.IndexDefault, asb.IndexNumeric, "", "kxSTUQKhaQE=")
}

func TestSIndexListOlderFormats(t *testing.T) {
	// 6.1–8.0: no exp=; 5.x/6.0: upper-case types, NULL set, path=.
	list, err := ParseSIndexList("ns=test:indexname=a:set=null:bin=x:type=numeric:indextype=default:context=null:state=RW;" +
		"ns=test:set=NULL:indexname=b:bin=y:type=STRING:indextype=NONE:path=y:state=RW;" +
		"ns=test:set=s:indexname=c:bin=z:type=GEO2DSPHERE:indextype=LIST:path=z:state=RW;" +
		"ns=test:indexname=d:set=a:b:bin=w:type=blob:indextype=mapkeys:context=kiKiA2E=:state=RW;" +
		"ns=test:indexname=si:set=x:indextype=set;")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 5 {
		t.Fatalf("%d entries", len(list))
	}
	if list[0].Set != "" || list[0].Paths[0].Type != asb.IndexNumeric || list[0].HasContext {
		t.Errorf("a = %+v", list[0])
	}
	if list[1].Set != "" || list[1].Paths[0].Bin != "y" || list[1].Paths[0].Type != asb.IndexString || list[1].Type != asb.IndexDefault {
		t.Errorf("b = %+v", list[1])
	}
	if list[2].Set != "s" || list[2].Type != asb.IndexList || list[2].Paths[0].Type != asb.IndexGeo {
		t.Errorf("c = %+v", list[2])
	}
	if list[3].Set != "a:b" || list[3].Type != asb.IndexMapKeys || list[3].Context != "kiKiA2E=" {
		t.Errorf("d (set with ':') = %+v", list[3])
	}
	if !list[4].SetIndex {
		t.Errorf("set index not recognised: %+v", list[4])
	}
	for _, bad := range []string{"ns=test:set=s:bin=x:type=numeric", "ns=test:indexname=x:bin=b:type=weird:indextype=default",
		"ns=test:indexname=x:bin=b:type=numeric:indextype=weird"} {
		if _, err := ParseSIndexList(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	if l, err := ParseSIndexList(""); err != nil || l != nil {
		t.Errorf("empty: %v %v", l, err)
	}
	if _, err := ParseSIndexList("ERROR:20:namespace not found on node"); err == nil {
		t.Error("error response accepted")
	}
}

func TestUDFs(t *testing.T) {
	list, err := ParseUDFList(goldenInfo(t, "udf-list"))
	if err != nil || len(list) != 3 || list[0].Name != "kitchen_ops.lua" || list[2].Type != "LUA" {
		t.Fatalf("%+v %v", list, err)
	}
	c, err := ParseUDFGet(goldenInfo(t, "udf-get:filename=kitchen_min.lua"))
	if err != nil || string(c) != "function one(rec) return 1 end" {
		t.Fatalf("%q %v", c, err)
	}
	if _, err := ParseUDFGet("error=not_found"); err == nil {
		t.Error("not_found accepted")
	}
	if UDFGetCmd("x.lua") != "udf-get:filename=x.lua;" || SIndexListCmd("n", true) != "sindex-list:ns=n;b64=true" {
		t.Error("command builders")
	}
}
