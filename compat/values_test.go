package compat

import (
	"math"
	"reflect"
	"testing"
	"time"

	"asbtools/msg"
)

func TestParseCInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"42", 42, true}, {" \t42", 42, true}, {"+7", 7, true}, {"-5", -5, true},
		{"", 0, false}, {"42 ", 0, false}, {"4x", 0, false}, {"-", 0, false}, {"0x10", 0, false},
		{"99999999999999999999", math.MaxInt64, true}, {"-99999999999999999999", math.MinInt64, true},
		{"9223372036854775808", math.MaxInt64, true}, {"-9223372036854775808", math.MinInt64, true},
	}
	for _, tc := range tests {
		got, ok := ParseCInt(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseCInt(%q) = %d,%v want %d,%v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestDecodeBase64(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"MDEyMzQ1Njc4OWFiY2RlZg==", "0123456789abcdef", true},
		{"YWJj", "abc", true}, {"YWI=", "ab", true}, {"YR==", "a", true}, // non-zero trailing bits
		{"", "", false}, {"YWJ", "", false}, {"YW=j", "", false}, {"Y=Jj", "", false},
		{"not base64!", "", false}, {"YW\nj", "", false}, {"YW-_", "", false},
	}
	for _, tc := range tests {
		got, ok := DecodeBase64(tc.in)
		if ok != tc.ok || (ok && string(got) != tc.want) {
			t.Errorf("DecodeBase64(%q) = %q,%v", tc.in, got, ok)
		}
	}
}

func TestParseDateTime(t *testing.T) {
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in    string
		want  string
		lines []string
	}{
		{"2020-01-01", "2020-01-01 00:00:00 UTC", nil},
		{"2020-13-45", "2021-02-14 00:00:00 UTC", nil},
		{"2020-01-01_10:11:12", "2020-01-01 10:11:12 UTC", nil},
		{"2020-01-01_25:61:61", "2020-01-02 02:02:01 UTC", nil},
		{"10:11:12", "2026-07-01 10:11:12 UTC", nil},
		{"2020- 1- 1", "2020-01-01 00:00:00 UTC", nil},
		{"2020/01/01", "", []string{"Date format error in 2020/01/01", "Invalid date and time string 2020/01/01"}},
		{"1899-01-01", "", []string{"Date format error in 1899-01-01", "Invalid date and time string 1899-01-01"}},
		{"10-11-12", "", []string{"Time format error in 10-11-12", "Invalid date and time string 10-11-12"}},
		{"2020-01-01 10:11:12", "", []string{"Date/time format error in 2020-01-01 10:11:12", "Invalid date and time string 2020-01-01 10:11:12"}},
		{"bad", "", []string{"Invalid date and time string bad"}},
		{"1969-12-31_23:59:59", "", []string{"Error while calculating epoch time", "Invalid date and time string 1969-12-31_23:59:59"}},
	}
	for _, tc := range tests {
		got, e := ParseDateTime(tc.in, now, time.UTC)
		if tc.lines != nil {
			if e == nil || e.Error() != joinLines(tc.lines) {
				t.Errorf("%q: error %v, want %q", tc.in, e, tc.lines)
			}
			continue
		}
		if e != nil || FormatDateTime(got, time.UTC) != tc.want {
			t.Errorf("%q: got %v %v, want %s", tc.in, FormatDateTime(got, time.UTC), e, tc.want)
		}
	}
	if s := FormatDateTime(time.Time{}, time.UTC); s != "1970-01-01 00:00:00 UTC" {
		t.Errorf("zero time prints %q", s)
	}
}

// The legacy tool applies the DST flag in effect now to the given date.
func TestParseDateTimeDSTQuirk(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone database")
	}
	summer := time.Date(2026, 7, 1, 12, 0, 0, 0, ny)
	got, e := ParseDateTime("2026-01-15", summer, ny)
	if e != nil {
		t.Fatal(e)
	}
	// Midnight EST is 05:00 UTC; with the summer (EDT) flag it is 04:00 UTC.
	if want := time.Date(2026, 1, 15, 4, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("got %v, want %v", got.UTC(), want)
	}
	got, _ = ParseDateTime("2026-07-15", summer, ny)
	if want := time.Date(2026, 7, 15, 4, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("same period: got %v, want %v", got.UTC(), want)
	}
	winter := time.Date(2026, 1, 1, 12, 0, 0, 0, ny)
	got, _ = ParseDateTime("2026-07-15", winter, ny)
	if want := time.Date(2026, 7, 15, 5, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("winter flag: got %v, want %v", got.UTC(), want)
	}
}

func joinLines(l []string) string { return (&msg.Error{Lines: linesToMessages(l)}).Error() }

func linesToMessages(l []string) []msg.Line { return errLines(l...).Lines }

func TestParseSetList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  string
	}{
		{"a", []string{"a"}, ""},
		{"a,b", []string{"a", "b"}, ""},
		{`'a,b',c,"d"`, []string{"a,b", "c", "d"}, ""},
		{" a", []string{" a"}, ""},
		{"", []string{""}, ""},
		{"a,", []string{"a", ""}, ""},
		{"'a'b", nil, "Require ',' to delineate set names"},
		{"'a", nil, "Missing terminating ' in set name"},
		{`"a`, nil, `Missing terminating " in set name`},
		{string(make([]byte, 64)), nil, "Set name must be no longer than 63 characters"},
		{"'" + string(make([]byte, 64)) + "'", nil, "Set name must be no longer than 63 characters"},
	}
	for _, tc := range tests {
		got, e := ParseSetList(nil, tc.in)
		if tc.err != "" {
			if e == nil || e.Error() != tc.err {
				t.Errorf("%q: error %v, want %q", tc.in, e, tc.err)
			}
			continue
		}
		if e != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %q %v", tc.in, got, e)
		}
	}
	// Appends to earlier sets.
	got, _ := ParseSetList([]string{"s1"}, "s2")
	if !reflect.DeepEqual(got, []string{"s1", "s2"}) {
		t.Errorf("append: %q", got)
	}
}

func TestParseHostList(t *testing.T) {
	tests := []struct {
		in   string
		tls  string
		want []Host
		ok   bool
	}{
		{"host1", "", []Host{{"host1", "", 3000}}, true},
		{"host1:3001,host2", "", []Host{{"host1", "", 3001}, {"host2", "", 3000}}, true},
		{"192.168.1.10:cert1:3000", "", []Host{{"192.168.1.10", "cert1", 3000}}, true},
		{"h:cert1", "", []Host{{"h", "cert1", 3000}}, true},
		{"[2001:db8::1]:3000", "", []Host{{"2001:db8::1", "", 3000}}, true},
		{"[::1]:tls1:4333", "", []Host{{"::1", "tls1", 4333}}, true},
		{"[::1]", "", []Host{{"::1", "", 3000}}, true},
		{"[::1", "", []Host{{"::1", "", 3000}}, true},
		{"h:70000", "", []Host{{"h", "", 70000 & 0xffff}}, true},
		{"h1,h2", "def", []Host{{"h1", "def", 3000}, {"h2", "def", 3000}}, true},
		{"h1:own:1", "def", []Host{{"h1", "own", 1}}, true},
		{"", "", nil, true},
		{"h:30x", "", nil, false},
		{"h:tls:x", "", nil, false},
		{"h:tls:3000x", "", nil, false},
	}
	for _, tc := range tests {
		got, ok := ParseHostList(tc.in, 3000, tc.tls)
		if ok != tc.ok || (ok && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("%q: got %v %v, want %v %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	if e := HostListError("asbackup", "x"); e.Error() != "Invalid conf->host(s) string x" {
		t.Error(e)
	}
	if e := HostListError("asrestore", "x"); e.Error() != "Invalid host(s) string x" {
		t.Error(e)
	}
}

func TestParseNodeList(t *testing.T) {
	specs, e := ParseNodeList(" 127.0.0.1:3000 ; [::1]:tls:3001,10.0.0.1:t2:4000")
	if e != nil {
		t.Fatal(e)
	}
	if len(specs) != 3 || specs[0].String() != "127.0.0.1" || specs[0].Port != 3000 ||
		specs[1].String() != "[::1]" || specs[1].TLSName != "tls" || specs[1].Port != 3001 ||
		specs[2].TLSName != "t2" || specs[2].Port != 4000 {
		t.Fatalf("got %+v", specs)
	}
	bad := map[string]string{
		"":               "Empty node list",
		"[::1:3000":      `Invalid node list [::1:3000 (missing "]"`,
		"[::1]3000":      `Invalid node list [::1]3000 (missing ":")`,
		"127.0.0.1":      `Invalid node list 127.0.0.1 (missing ":")`,
		":3000":          "Invalid node list :3000 (invalid IP address)",
		"localhost:3000": "Invalid node list localhost:3000 (invalid IP address localhost)",
		"[1.2.3.4]:3000": "Invalid node list [1.2.3.4]:3000 (invalid IP address 1.2.3.4)",
		"1.2.3.4:0":      "Invalid node list 1.2.3.4:0 (invalid port value 0)",
		"1.2.3.4:t:x":    "Invalid node list 1.2.3.4:t:x (invalid port value x)",
	}
	for in, want := range bad {
		_, e := ParseNodeList(in)
		if e == nil || e.Error() != want+"\nError while parsing node list" {
			t.Errorf("%q: %v", in, e)
		}
	}
}

func TestParsePartitionList(t *testing.T) {
	got, e := ParsePartitionList("2222, 0-1000,EjRWeJq83vEjRRI0VniavBI0Vng=")
	if e != nil {
		t.Fatal(e)
	}
	want := []PartitionFilter{{0, 1000, nil}, {1042, 1, got[1].Digest}, {2222, 1, nil}}
	if !reflect.DeepEqual(got, want) || len(got[1].Digest) != 20 {
		t.Fatalf("got %+v", got)
	}
	if got, _ := ParsePartitionList("1000-1000"); !reflect.DeepEqual(got[0], PartitionFilter{Begin: 1000, Count: 1000}) {
		t.Errorf("count form: %+v", got)
	}
	usage := "\nformat: <filter1>[,<filter2>][,...]\nfilter: <begin partition>[-<partition count>]|<digest>\nbegin partition: 0-4095\npartition count: 1-4096 Default: 1\ndigest: base64 encoded string\n"
	bad := map[string]string{
		"":                                  "Empty partition list\nError while parsing partition-list ''",
		"4096":                              "Invalid partition filter '4096'" + usage + "Error while parsing partition-list '4096'",
		"0-4097":                            "Invalid partition filter '0-4097'" + usage + "Error while parsing partition-list '0-4097'",
		"0-10,5":                            "Range overlap in partition list '0-10,5'\nError while parsing partition-list '0-10,5'",
		"1042,EjRWeJq83vEjRRI0VniavBI0Vng=": "Range overlap in partition list '1042,EjRWeJq83vEjRRI0VniavBI0Vng='\nError while parsing partition-list '1042,EjRWeJq83vEjRRI0VniavBI0Vng='",
	}
	for in, want := range bad {
		_, e := ParsePartitionList(in)
		if e == nil || e.Error() != want {
			t.Errorf("%q: %v", in, e)
		}
	}
	f, e := ParseAfterDigest("EjRWeJq83vEjRRI0VniavBI0Vng=")
	if e != nil || len(f) != 2 || f[0].Begin != 1042 || !reflect.DeepEqual(f[1], PartitionFilter{Begin: 1043, Count: 3053}) {
		t.Errorf("after digest: %+v %v", f, e)
	}
	if _, e := ParseAfterDigest("abc"); e == nil || e.Error() != "Error while parsing after-digest 'abc'" {
		t.Errorf("bad after digest: %v", e)
	}
}

func TestSmallLists(t *testing.T) {
	if ids, e := ParseRackList(" 1, 1000000"); e != nil || !reflect.DeepEqual(ids, []int{1, 1000000}) {
		t.Errorf("racks: %v %v", ids, e)
	}
	if _, e := ParseRackList("1,abc"); e == nil || e.Error() != "Invalid rack id abc" {
		t.Errorf("bad rack: %v", e)
	}
	if _, e := ParseRackList("1000001"); e == nil {
		t.Error("rack range")
	}
	if bins, e := ParseBinList(" a , b"); e != nil || !reflect.DeepEqual(bins, []string{"a", "b"}) {
		t.Errorf("bins: %v", bins)
	}
	if _, e := ParseBinList(""); e == nil || e.Error() != "Empty bin list" {
		t.Errorf("empty bins: %v", e)
	}
	if bw, tps, e := ParseNiceList("100, 5000"); e != nil || bw != 100<<20 || tps != 5000 {
		t.Errorf("nice: %d %d %v", bw, tps, e)
	}
	niceErrs := map[string]string{
		"":              "Empty nice list\nError while parsing nice list",
		"1,":            "Item with invalid length in nice list 1,\nError while parsing nice list",
		"1,12345678901": "Item with invalid length in nice list 1,12345678901\nError while parsing nice list",
		"1":             "Invalid nice option",
		"0,10":          "Invalid bandwidth value 0",
		"1,0":           "Invalid TPS value 0",
	}
	for in, want := range niceErrs {
		if _, _, e := ParseNiceList(in); e == nil || e.Error() != want {
			t.Errorf("nice %q: %v", in, e)
		}
	}
	if src, dst, e := ParseNamespaceList(" a , b "); e != nil || src != "a" || dst != "b" {
		t.Errorf("ns: %q %q %v", src, dst, e)
	}
	if _, _, e := ParseNamespaceList("a,b,c"); e == nil || e.Error() != "Invalid namespace option" {
		t.Errorf("ns3: %v", e)
	}
	if _, e := ParseRestoreBinList("0123456789abcdef"); e == nil || e.Error() != "Item with invalid length in bin list 0123456789abcdef\nError while parsing bin list" {
		t.Errorf("bin len: %v", e)
	}
	if n, std, e := ParseStdinSize("-:1024"); e != nil || !std || n != 1024 {
		t.Errorf("stdin size: %d %v %v", n, std, e)
	}
	if _, _, e := ParseStdinSize("-:x"); e == nil || e.Error() != "Invalid stdin input size x" {
		t.Errorf("stdin size error: %v", e)
	}
	if got := DirectoryListPaths("a,b/", Opt{"/p", true}); !reflect.DeepEqual(got, []string{"/p/a", "/p/b/"}) {
		t.Errorf("dirs: %q", got)
	}
	if got := DirectoryListPaths(" a", Opt{"/p/", true}); !reflect.DeepEqual(got, []string{"/p/ a"}) {
		t.Errorf("dirs untrimmed: %q", got)
	}
	if m, ok := ParseAuthMode("external_insecure"); !ok || m != AuthExternalInsecure {
		t.Error("auth")
	}
	if e := AuthModeError("asrestore", "x"); e.Lines[0].Text != "Invalid authentication mode x. Allowed values are INTERNAL / EXTERNAL / EXTERNAL_INSECURE / PKI\n" {
		t.Error(e)
	}
}

func TestVersionText(t *testing.T) {
	defer func(v string) { Version = v }(Version)
	if got := VersionText("asrestore"); got != "Aerospike Restore\nVersion 4.5.8\n" {
		t.Errorf("%q", got)
	}
	Version = "4.5.8-3-gabcdef012"
	if got := VersionText("asbackup"); got != "Aerospike Backup\nVersion 4.5.8\nBuild gabcdef012\n" {
		t.Errorf("%q", got)
	}
	Version = "4.5.8-rc1"
	if got := VersionText("asbackup"); got != "Aerospike Backup\nVersion 4.5.8\n" {
		t.Errorf("%q", got)
	}
}
