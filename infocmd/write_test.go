package infocmd

import (
	"errors"
	"testing"

	"asbtools/asb"
)

func TestSIndexCreateCommand(t *testing.T) {
	v80 := Version{8, 0, 0, 0}
	v81 := Version{8, 1, 2, 0}
	num := &asb.Index{Namespace: "test", Set: "kitchen", Name: "kit_i_num", Type: asb.IndexDefault,
		Paths: []asb.IndexPath{{Bin: "i", Type: asb.IndexNumeric}}}
	ctx := &asb.Index{Namespace: "test", Name: "kit_ctx", Type: asb.IndexMapKeys, Context: "kaNpAQ==",
		Paths: []asb.IndexPath{{Bin: "m", Type: asb.IndexString}}}
	exp := &asb.Index{Namespace: "test", Set: "s", Name: "e", Type: asb.IndexDefault, Expression: "kwJREA==",
		Paths: []asb.IndexPath{{Bin: "", Type: asb.IndexNumeric}}}
	cases := []struct {
		ix   *asb.Index
		ns   string
		v    Version
		want string
	}{
		{num, "test", v80, "sindex-create:ns=test;set=kitchen;indexname=kit_i_num;indextype=default;indexdata=i,numeric"},
		{num, "other", v81, "sindex-create:namespace=other;set=kitchen;indexname=kit_i_num;indextype=default;bin=i;type=numeric"},
		{ctx, "test", v80, "sindex-create:ns=test;indexname=kit_ctx;context=kaNpAQ==;indextype=mapkeys;indexdata=m,string"},
		{ctx, "test", v81, "sindex-create:namespace=test;indexname=kit_ctx;context=kaNpAQ==;indextype=mapkeys;bin=m;type=string"},
		{exp, "test", v81, "sindex-create:namespace=test;set=s;indexname=e;indextype=default;exp=kwJREA==;type=numeric"},
	}
	for _, c := range cases {
		got, err := SIndexCreateCommand(c.ix, c.ns, c.v)
		if err != nil || got != c.want {
			t.Errorf("got %q, %v\nwant %q", got, err, c.want)
		}
	}
	if _, err := SIndexCreateCommand(exp, "test", v80); err == nil {
		t.Error("expression index on 8.0 accepted")
	}
	bad := &asb.Index{Name: "x", Type: 'Q', Paths: []asb.IndexPath{{Bin: "b", Type: asb.IndexNumeric}}}
	if _, err := SIndexCreateCommand(bad, "test", v81); err == nil {
		t.Error("bad type accepted")
	}
}

func TestNewSIndexSyntax(t *testing.T) {
	for v, want := range map[Version]bool{{8, 1, 0, 0}: true, {8, 1, 2, 0}: true, {9, 0, 0, 0}: true, {8, 0, 0, 3}: false, {7, 2, 0, 1}: false} {
		if v.NewSIndexSyntax() != want {
			t.Errorf("%v: NewSIndexSyntax() = %v", v, !want)
		}
	}
}

func TestInfoReplies(t *testing.T) {
	if CheckInfoReply("OK\n") != nil || CheckInfoReply("ok") != nil {
		t.Error("OK not accepted")
	}
	var ie *InfoError
	if err := CheckInfoReply("ERROR:200:'indexname' already exists with different definition"); !errors.As(err, &ie) || ie.Code != 200 || ie.Message != "'indexname' already exists with different definition" {
		t.Errorf("err = %#v", err)
	}
	if err := CheckInfoReply("FAIL:4"); !errors.As(err, &ie) || ie.Code != 4 {
		t.Errorf("err = %#v", err)
	}
	if err := CheckInfoReply("garbage"); !errors.As(err, &ie) || ie.Code != 1 {
		t.Errorf("err = %#v", err)
	}
	if p, ok := SIndexLoadPercent("entries=36;used_bytes=1;load_pct=100;load_time=17"); !ok || p != 100 {
		t.Errorf("load pct %d %v", p, ok)
	}
	if _, ok := SIndexLoadPercent("entries=3"); ok {
		t.Error("load pct found")
	}
}

func TestUDFCommands(t *testing.T) {
	if got := UDFPutCommand("a.lua", []byte("ab")); got != "udf-put:filename=a.lua;content=YWI=;content-len=4;udf-type=LUA;" {
		t.Errorf("got %q", got)
	}
	if CheckUDFPutReply("") != nil {
		t.Error("empty reply")
	}
	if err := CheckUDFPutReply("error=compile_error;file=a.lua;line=1;message=YmFk"); err == nil || err.Error() != "code 100: compile_error: bad" {
		t.Errorf("err = %v", err)
	}
	if !UDFPresent("filename=a.lua,hash=1,type=LUA;filename=b.lua,hash=2,type=LUA;", "b.lua") || UDFPresent("filename=a.lua,hash=1,type=LUA;", "b.lua") {
		t.Error("UDFPresent")
	}
}
