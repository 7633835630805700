package asdsim

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	as "github.com/aerospike/aerospike-client-go/v7"
	"github.com/aerospike/aerospike-client-go/v7/types"
)

// loadGolden reads test/golden/server-8.1/info-kitchen.txt: command, tab,
// Go-quoted response.
func loadGolden(t testing.TB) map[string]string {
	t.Helper()
	f, err := os.Open("../test/golden/server-8.1/info-kitchen.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 4<<20)
	for sc.Scan() {
		cmd, q, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("golden line without tab: %q", sc.Text())
		}
		v, err := strconv.Unquote(q)
		if err != nil {
			t.Fatalf("golden %s: %v", cmd, err)
		}
		out[cmd] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// keysOf returns the keys of a "k=v<sep>k=v" string in order.
func keysOf(s, sep string) []string {
	var out []string
	for _, kv := range strings.Split(s, sep) {
		k, _, _ := strings.Cut(kv, "=")
		out = append(out, k)
	}
	return out
}

// isSubsequence reports whether every element of sub appears in full in
// the same relative order.
func isSubsequence(sub, full []string) (bool, string) {
	i := 0
	for _, x := range sub {
		for i < len(full) && full[i] != x {
			i++
		}
		if i == len(full) {
			return false, x
		}
		i++
	}
	return true, ""
}

func TestInfoMatchesServer81(t *testing.T) {
	g := loadGolden(t)
	s := startServer(t, Config{})
	c := connect(t, s)
	for _, cmd := range []string{"build", "version", "edition", "features", "cluster-name", "namespaces",
		"bins/test", "cluster-stable:size=1;ignore-migrations=no", "peers-tls-std", "services"} {
		if got := info(t, c, cmd); got != g[cmd] {
			t.Errorf("%s: got %q want %q", cmd, got, g[cmd])
		}
	}
	if got := info(t, c, "peers-clear-std"); got != fmt.Sprintf("1,%d,[]", s.Port()) {
		t.Errorf("peers-clear-std: %q", got)
	}
	if got := info(t, c, "cluster-stable"); !regexp.MustCompile(`^[0-9A-F]{1,12}$`).MatchString(got) {
		t.Errorf("cluster-stable: %q", got)
	}
	for _, cmd := range []string{"namespace/test", "statistics", "get-config:context=namespace;id=test"} {
		ok, missing := isSubsequence(keysOf(info(t, c, cmd), ";"), keysOf(g[cmd], ";"))
		if !ok {
			t.Errorf("%s: key %q not in the real server's order", cmd, missing)
		}
	}
	ns := info(t, c, "namespace/test")
	for _, k := range []string{"objects=0", "effective_replication_factor=1", "ns_cluster_size=1", "default-ttl=0", "nsup-period=10", "max-record-size=1048576"} {
		if !strings.Contains(";"+ns+";", ";"+k+";") {
			t.Errorf("namespace/test lacks %s", k)
		}
	}
	if got := info(t, c, "get-config:context=service"); !strings.Contains(got, "batch-index-threads=4;") {
		t.Errorf("service config: %q", got)
	}
	// secondary indexes: recreate the real server's list with the 8.1
	// syntax and compare byte for byte.
	for _, e := range strings.Split(g["sindex-list:ns=test;b64=true"], ";") {
		f := map[string]string{}
		for _, kv := range strings.Split(e, ":") {
			k, v, _ := strings.Cut(kv, "=")
			f[k] = v
		}
		cmd := "sindex-create:namespace=test;indexname=" + f["indexname"]
		if f["set"] != "null" {
			cmd += ";set=" + f["set"]
		}
		cmd += ";indextype=" + f["indextype"]
		if f["context"] != "null" {
			cmd += ";context=" + f["context"]
		}
		cmd += ";type=" + f["type"]
		if f["exp"] != "null" {
			cmd += ";exp=" + f["exp"]
		} else {
			cmd += ";bin=" + f["bin"]
		}
		if got := info(t, c, cmd); got != "ok" {
			t.Fatalf("%s: %q", cmd, got)
		}
	}
	if got := info(t, c, "sindex-list:ns=test;b64=true"); got != g["sindex-list:ns=test;b64=true"] {
		t.Errorf("sindex-list:\n got %q\nwant %q", got, g["sindex-list:ns=test;b64=true"])
	}
	if got := info(t, c, "sindex/test/kit_i_num"); strings.Join(keysOf(got, ";"), ",") != strings.Join(keysOf(g["sindex/test/kit_i_num"], ";"), ",") || !strings.Contains(got, "load_pct=100") {
		t.Errorf("sindex stat: %q", got)
	}
	// UDFs
	content := strings.TrimSuffix(strings.TrimPrefix(g["udf-get:filename=kitchen_min.lua"], "type=LUA;content="), ";")
	put := fmt.Sprintf("udf-put:filename=kitchen_min.lua;content=%s;content-len=%d;udf-type=LUA;", content, len(content))
	if got := info(t, c, put); got != "ok" {
		t.Fatalf("udf-put: %q", got)
	}
	if got := info(t, c, "udf-get:filename=kitchen_min.lua"); got != g["udf-get:filename=kitchen_min.lua"] {
		t.Errorf("udf-get: %q", got)
	}
	if got := info(t, c, "udf-list"); !regexp.MustCompile(`^filename=kitchen_min\.lua,hash=[0-9a-f]{40},type=LUA;$`).MatchString(got) {
		t.Errorf("udf-list: %q", got)
	}
	// sets: same property names in the same order
	for set, n := range map[string]int{"kitchen": 132, "with space": 33, `back\slash`: 30} {
		seed(t, s, "test", set, n)
	}
	norm := regexp.MustCompile(`data_used_bytes=\d+`)
	if got := norm.ReplaceAllString(info(t, c, "sets/test/kitchen"), "data_used_bytes=N"); got != norm.ReplaceAllString(g["sets/test/kitchen"], "data_used_bytes=N") {
		t.Errorf("sets/test/kitchen:\n got %q\nwant %q", got, g["sets/test/kitchen"])
	}
	// the real list orders sets by creation; compare as a set of entries
	gotSets := strings.Split(norm.ReplaceAllString(info(t, c, "sets"), "data_used_bytes=N"), ";")
	wantSets := strings.Split(norm.ReplaceAllString(g["sets"], "data_used_bytes=N"), ";")
	if len(gotSets) != len(wantSets) {
		t.Fatalf("sets: %q", gotSets)
	}
	for _, w := range wantSets {
		found := false
		for _, gs := range gotSets {
			found = found || gs == w
		}
		if !found {
			t.Errorf("sets entry missing: %q in %q", w, gotSets)
		}
	}
	if got := info(t, c, "sets/test/nope"); got != "" {
		t.Errorf("unknown set: %q", got)
	}
	// partition-info header and row shape
	pi := info(t, c, "partition-info")
	gh, _, _ := strings.Cut(g["partition-info"], ";")
	h, rows, _ := strings.Cut(pi, ";")
	if h != gh || len(strings.Split(rows, ";")) != 2*Partitions {
		t.Errorf("partition-info header %q, %d rows", h, len(strings.Split(rows, ";")))
	}
	if got := info(t, c, "user-agent-set:value="+base64.StdEncoding.EncodeToString([]byte("0,go-7.10.2,x"))); got != "ok" {
		t.Errorf("user-agent-set: %q", got)
	}
}

func TestInfoRequestShapes(t *testing.T) {
	s := startServer(t, Config{})
	c := connect(t, s)
	n := c.GetNodes()[0]
	// several commands in one request, echoed exactly, in order
	res, err := n.RequestInfo(as.NewInfoPolicy(), "node", "namespace/nope", "sets/nope", "sindex-list:ns=nope", "replicas")
	if err != nil {
		t.Fatal(err)
	}
	if res["node"] != s.Node(0).Name() || res["namespace/nope"] != "type=unknown" || res["sets/nope"] != "ns_type=unknown" ||
		res["sindex-list:ns=nope"] != "ERROR:20:namespace not found on node" {
		t.Fatalf("multi info: %v", res)
	}
	rep := res["replicas"]
	want := "test:0,1," + strings.Repeat("////", 170) + "//8=;bar:0,1," + strings.Repeat("////", 170) + "//8="
	if rep != want {
		t.Fatalf("replicas: %q", rep)
	}
	// an older server omits unknown commands
	old := startServer(t, Config{Build: "6.4.0.7"})
	oc := connect(t, old)
	res, err = oc.GetNodes()[0].RequestInfo(as.NewInfoPolicy(), "bins/test", "build")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := res["bins/test"]; ok || res["build"] != "6.4.0.7" {
		t.Fatalf("6.4 unknown command: %v", res)
	}
	if f := info(t, oc, "features"); !strings.Contains(f, "pquery") || strings.Contains(f, "cdt-index") {
		t.Fatalf("6.4 features: %q", f)
	}
}

func TestSIndexAndUDFThroughClient(t *testing.T) {
	for _, build := range []string{"8.1.2.0", "7.2.0.1", "6.4.0.7"} {
		t.Run(build, func(t *testing.T) {
			s := startServer(t, Config{Build: build})
			c := connect(t, s)
			start := time.Now()
			task, err := c.CreateIndex(nil, "test", "demo", "idx_a", "a", as.NUMERIC)
			if err != nil {
				t.Fatal(err)
			}
			if err := <-task.OnComplete(); err != nil {
				t.Fatal(err)
			}
			ctxTask, err := c.CreateComplexIndex(nil, "test", "", "idx_ctx", "m", as.STRING, as.ICT_MAPKEYS, as.CtxMapKey(as.StringValue("a")))
			if err != nil {
				t.Fatal(err)
			}
			if err := <-ctxTask.OnComplete(); err != nil {
				t.Fatal(err)
			}
			// same name, same definition: ok; different definition: INDEX_FOUND
			_, err = c.CreateIndex(nil, "test", "demo", "idx_a", "a", as.NUMERIC)
			if build == "6.4.0.7" {
				// identical re-create is OK on 6.1+ too
				if err != nil {
					t.Fatalf("re-create: %v", err)
				}
			} else if err != nil {
				t.Fatalf("re-create: %v", err)
			}
			_, err = c.CreateIndex(nil, "test", "demo", "idx_a", "b", as.STRING)
			wantCode(t, err, int(types.INDEX_FOUND), "different definition")
			got := s.SIndexes()
			if len(got) != 2 || got[0] != (SIndex{Namespace: "test", Name: "idx_a", Set: "demo", Bin: "a", Type: "numeric", IndexType: "default"}) ||
				got[1].Context != "kiKiA2E=" || got[1].IndexType != "mapkeys" || got[1].Set != "" {
				t.Fatalf("sindexes: %+v", got)
			}
			list := info(t, c, "sindex-list:ns=test;b64=true")
			switch build {
			case "8.1.2.0":
				if !strings.Contains(list, "ns=test:indexname=idx_a:set=demo:bin=a:type=numeric:indextype=default:context=null:exp=null:state=RW") {
					t.Fatalf("8.1 list: %q", list)
				}
			default:
				if !strings.Contains(list, "ns=test:indexname=idx_ctx:set=null:bin=m:type=string:indextype=mapkeys:context=kiKiA2E=:state=RW") {
					t.Fatalf("%s list: %q", build, list)
				}
			}
			if err := c.DropIndex(nil, "test", "demo", "idx_a"); err != nil {
				t.Fatal(err)
			}
			if err := c.DropIndex(nil, "test", "demo", "idx_missing"); err != nil {
				t.Fatalf("drop missing index: %v", err)
			}
			if info(t, c, "sindex-exists:ns=test;indexname=idx_a") != "false" || info(t, c, "sindex-exists:ns=test;indexname=idx_ctx") != "true" {
				t.Fatal("sindex-exists after drop")
			}
			// UDFs
			body := []byte("function one(rec)\n  return 1\nend\n")
			rt, err := c.RegisterUDF(nil, body, "one.lua", as.LUA)
			if err != nil {
				t.Fatal(err)
			}
			if err := <-rt.OnComplete(); err != nil {
				t.Fatal(err)
			}
			udfs, err := c.ListUDF(nil)
			if err != nil || len(udfs) != 1 || udfs[0].Filename != "one.lua" {
				t.Fatalf("list udf: %v %v", udfs, err)
			}
			if u := s.UDFs(); len(u) != 1 || string(u[0].Content) != string(body) {
				t.Fatalf("stored udf %+v", u)
			}
			rmt, err := c.RemoveUDF(nil, "one.lua")
			if err != nil {
				t.Fatal(err)
			}
			if err := <-rmt.OnComplete(); err != nil {
				t.Fatal(err)
			}
			if len(s.UDFs()) != 0 {
				t.Fatal("udf not removed")
			}
			if el := time.Since(start); el > 3*time.Second {
				t.Fatalf("index/UDF tasks took %v", el)
			}
		})
	}
}

func TestSIndexSyntaxReplies(t *testing.T) {
	cases := []struct {
		build string
		cmd   string
		want  string
	}{
		{"8.1.2.0", "sindex-create:namespace=test;indexname=n1;type=numeric;bin=a", "ok"},
		{"8.1.2.0", "sindex-create:ns=test;indexname=n2;indexdata=a,NUMERIC", "ok"},
		{"8.1.2.0", "sindex-create:ns=test;indexname=n1;indexdata=b,string", "ERROR:200:'indexname' already exists with different definition"},
		{"8.1.2.0", "sindex-create:ns=test;indexname=n3", "ERROR:4:both 'indexdata' and 'type' are missing"},
		{"8.1.2.0", "sindex-create:ns=test;indexname=n3;type=numeric;bin=a;indexdata=a,numeric", "ERROR:4:both 'indexdata' and 'type' are specified"},
		{"8.1.2.0", "sindex-create:ns=test;indexname=n3;type=numeric", "ERROR:4:both 'bin' and 'exp' are missing"},
		{"8.1.2.0", "sindex-create:ns=test;indexname=n3;type=numeric;bin=a;exp=kxSTUQKhaQE=", "ERROR:4:both 'bin' and 'exp' are specified"},
		{"8.1.2.0", "sindex-create:ns=test;indexname=n3;type=bad;bin=a", "ERROR:4:bad 'type' - must be one of 'numeric', 'string', 'blob', 'geo2dsphere'"},
		{"8.1.2.0", "sindex-create:ns=test;indexname=n3;indextype=x;type=numeric;bin=a", "ERROR:4:bad 'indextype' - must be one of 'default', 'list', 'mapkeys', 'mapvalues'"},
		{"8.1.2.0", "sindex-create:indexname=n3;type=numeric;bin=a", "ERROR:20:missing 'namespace'"},
		{"8.1.2.0", "sindex-create:ns=test;type=numeric;bin=a", "ERROR:4:missing 'indexname'"},
		{"8.1.2.0", "sindex-delete:ns=test;indexname=missing", "ok"},
		{"8.1.2.0", "sindex-exists:ns=nope;indexname=x", "ERROR:20:namespace not found on node"},
		{"8.1.2.0", "sindex/test/missing", "ERROR:201:no index"},
		{"7.2.0.1", "sindex-create:ns=test;indexname=n1;indexdata=a,numeric", "ok"},
		{"7.2.0.1", "sindex-create:ns=test;indexname=n1;indexdata=a,numeric", "ok"},
		{"7.2.0.1", "sindex-create:ns=test;indexname=n1;indexdata=b,numeric", "ERROR:200:'indexname' already exists with different definition"},
		{"7.2.0.1", "sindex-create:namespace=test;indexname=n4;type=numeric;bin=a", "ERROR:4:missing 'indexdata'"},
		{"7.2.0.1", "sindex-create:ns=test;indexname=n5;indexdata=b,blob", "ok"},
		{"7.2.0.1", "sindex-delete:ns=test;indexname=missing", "ok"},
		{"6.4.0.7", "sindex-create:ns=test;indexname=n1;indexdata=a,numeric", "OK"},
		{"6.4.0.7", "sindex-create:ns=test;indexname=n1;indexdata=a,numeric", "OK"},
		{"6.4.0.7", "sindex-create:ns=test;indexname=n1;indexdata=b,numeric", "FAIL:200:'indexname' already exists with different definition"},
		{"6.4.0.7", "sindex-create:ns=test;indexname=n6;indexdata=b,blob", "FAIL:4:bad 'indexdata' bin type - must be one of 'numeric', 'string', 'geo2dsphere'"},
		{"6.4.0.7", "sindex-create:namespace=test;indexname=n4;indexdata=a,numeric", "FAIL:4:missing 'ns'"},
		{"6.4.0.7", "sindex-delete:ns=test;indexname=missing", "OK"},
		{"6.4.0.7", "sindex-delete:ns=test;indexname=n1", "OK"},
	}
	servers := map[string]*as.Client{}
	for _, tc := range cases {
		c := servers[tc.build]
		if c == nil {
			c = connect(t, startServer(t, Config{Build: tc.build}))
			servers[tc.build] = c
		}
		if got := info(t, c, tc.cmd); got != tc.want {
			t.Errorf("%s %s:\n got %q\nwant %q", tc.build, tc.cmd, got, tc.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	s := startServer(t, Config{})
	c := connect(t, s)
	seed(t, s, "test", "a", 20)
	seed(t, s, "test", "b", 20)
	seed(t, s, "bar", "a", 20)
	if err := c.Truncate(nil, "test", "a", nil); err != nil {
		t.Fatal(err)
	}
	if s.Count("test", "a") != 0 || s.Count("test", "b") != 20 || s.Count("bar", "a") != 20 {
		t.Fatalf("truncate set: %d %d %d", s.Count("test", "a"), s.Count("test", "b"), s.Count("bar", "a"))
	}
	// lut cut-off: records updated after it survive
	cut := time.Now()
	time.Sleep(5 * time.Millisecond)
	if err := c.PutBins(nil, mustKey(t, "test", "b", "late"), as.NewBin("a", 1)); err != nil {
		t.Fatal(err)
	}
	if err := c.Truncate(nil, "test", "", &cut); err != nil {
		t.Fatal(err)
	}
	if n := s.Count("test", ""); n != 1 {
		t.Fatalf("after namespace truncate with lut: %d", n)
	}
	if got := info(t, c, "sets/test/a"); !strings.Contains(got, "objects=0:") || strings.Contains(got, "truncate_lut=0:") {
		t.Fatalf("sets after truncate: %q", got)
	}
	future := time.Now().Add(time.Hour)
	wantCode(t, c.Truncate(nil, "test", "", &future), int(types.PARAMETER_ERROR), "future lut")
	if got := info(t, c, "truncate-namespace:namespace=test;set=x"); got != "ERROR:4:unexpected set name" {
		t.Fatalf("truncate-namespace with set: %q", got)
	}
	if got := info(t, c, "truncate:set=x"); got != "ERROR:20:missing 'namespace'" {
		t.Fatalf("truncate without ns: %q", got)
	}
}
