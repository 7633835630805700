package backup

import "testing"

func TestRackInfoParsing(t *testing.T) {
	for _, c := range []struct {
		resp, ns string
		rack     int
		ok       bool
	}{
		{"test:0;bar:2", "bar", 2, true},
		{"test:0;bar:2\n", "test", 0, true},
		{"a:b:7;a:3", "a:b", 7, true},
		{"test:0", "bar", 0, false},
		{"test:x", "test", 0, false},
		{"", "test", 0, false},
	} {
		r, ok := nsRack(c.resp, c.ns)
		if r != c.rack || ok != c.ok {
			t.Errorf("nsRack(%q, %q) = %d, %v; want %d, %v", c.resp, c.ns, r, ok, c.rack, c.ok)
		}
	}
	for _, c := range []struct {
		resp, status, msg string
	}{
		{"ERROR:25:enterprise only", "AEROSPIKE_ERR_ENTERPRISE_ONLY", "enterprise only"},
		{"ERROR::not found\n", "AEROSPIKE_ERR_SERVER", "not found"},
		{"ERROR:4:bad:request", "AEROSPIKE_ERR_REQUEST_INVALID", "bad:request"},
		{"ERROR", "AEROSPIKE_ERR_SERVER", ""},
	} {
		code, msg := parseInfoError(c.resp)
		if statusName(code) != c.status || msg != c.msg {
			t.Errorf("parseInfoError(%q) = %s %q; want %s %q", c.resp, statusName(code), msg, c.status, c.msg)
		}
	}
}
