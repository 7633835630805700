package asbfs_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"asbtools/asb"
	"asbtools/internal/sandbox"
)

var asbfsBin, asrestoreBin string

// TestMain builds asbfs and runs the tests in the sandbox (private mount and
// network namespaces in which the host's astools.conf files are hidden; see
// package sandbox). A user other than root who cannot open /dev/fuse mounts
// through the setuid fusermount3, which does not work in a user namespace:
// such a run stays out of the sandbox.
func TestMain(m *testing.M) {
	sandbox.MainWith(withASBFS{m}, sandbox.Options{NoUserNamespace: !canOpenFUSE()})
}

// canOpenFUSE reports whether this process may open /dev/fuse.
func canOpenFUSE() bool {
	f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// withASBFS builds asbfs and asrestore around the tests.
type withASBFS struct{ m *testing.M }

func (w withASBFS) Run() int {
	dir, err := os.MkdirTemp("", "asbfs-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	asbfsBin, asrestoreBin = filepath.Join(dir, "asbfs"), filepath.Join(dir, "asrestore")
	out, err := exec.Command("go", "build", "-o", dir, "asbtools/cmd/asbfs", "asbtools/cmd/asrestore").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building asbfs and asrestore: %v\n%s", err, out)
		return 1
	}
	defer stopS3()
	return w.m.Run()
}

const goldenDir = "../test/golden/legacy-4.5.8"

// needFUSE skips the test when FUSE mounts are impossible. As root asbfs
// mounts with mount(2) and the tests unmount with umount(2); otherwise both
// need fusermount3 (package fuse3).
func needFUSE(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("skipping: /dev/fuse is absent, FUSE mounts are impossible here")
	}
	if os.Geteuid() != 0 {
		if _, err := exec.LookPath("fusermount3"); err != nil {
			t.Fatalf("fusermount3 not installed: without root, FUSE mounts need it (apt-get install -y fuse3)")
		}
	}
}

// unmount unmounts mnt as fusermount3 -u does (-z with lazy): with
// umount(2) as root, with fusermount3 otherwise.
func unmount(mnt string, lazy bool) error {
	if os.Geteuid() == 0 {
		flags := 0
		if lazy {
			flags = syscall.MNT_DETACH
		}
		return syscall.Unmount(mnt, flags)
	}
	args := []string{"-u", mnt}
	if lazy {
		args = []string{"-u", "-z", mnt}
	}
	if out, err := exec.Command("fusermount3", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("fusermount3 %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// isMounted reports whether dir is a mount point (per /proc/self/mountinfo).
func isMounted(t *testing.T, dir string) bool {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && unescapeMountinfo(f[4]) == dir {
			return true
		}
	}
	return false
}

func unescapeMountinfo(s string) string {
	s = strings.ReplaceAll(s, `\040`, " ")
	return strings.ReplaceAll(s, `\134`, `\`)
}

// procsRunning lists the pids of processes running the test binary.
func procsRunning() []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink("/proc/" + e.Name() + "/exe")
		if err == nil && strings.TrimSuffix(exe, " (deleted)") == asbfsBin {
			if st, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil && bytes.Contains(st, []byte(") Z ")) {
				continue
			}
			pids = append(pids, pid)
		}
	}
	return pids
}

// mount runs asbfs in the foreground on a new mount point and registers
// its unmount (SIGTERM) with t.Cleanup. It returns the mount point.
func mount(t *testing.T, env []string, args ...string) string {
	t.Helper()
	mnt := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(asbfsBin, append(args, mnt)...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if isMounted(t, mnt) {
			cmd.Process.Signal(syscall.SIGTERM)
		}
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("asbfs exited with %v; stderr:\n%s", err, stderr.String())
			}
		case <-time.After(10 * time.Second):
			unmount(mnt, true)
			cmd.Process.Kill()
			t.Errorf("asbfs did not exit after SIGTERM")
		}
		if isMounted(t, mnt) {
			unmount(mnt, true)
			t.Errorf("%s still mounted after asbfs exited", mnt)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for !isMounted(t, mnt) {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("asbfs exited before mounting (%v):\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("asbfs did not mount within 30 s:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return mnt
}

// run runs an ordinary tool and returns its stdout.
func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out
}

type expRecord struct {
	Digest   string          `json:"digest"`
	Set      *string         `json:"set"`
	Key      json.RawMessage `json:"key"`
	VoidTime uint32          `json:"void_time"`
	Bins     json.RawMessage `json:"bins"`
}

type expected struct {
	records  map[string]*expRecord // by digest
	sindexes map[string]bool
	udfs     map[string]string // name -> sha256
}

func loadExpected(t *testing.T, dir string) *expected {
	return loadExpectedFile(t, dir, true)
}

func loadExpectedFile(t *testing.T, dir string, selected bool) *expected {
	path := filepath.Join(dir, "expected-selected.jsonl")
	if _, err := os.Stat(path); err != nil || !selected {
		path = filepath.Join(dir, "expected.jsonl")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	e := &expected{records: map[string]*expRecord{}, sindexes: map[string]bool{}, udfs: map[string]string{}}
	defer func() {
		// "dump -no-meta" selections list no indexes or UDFs; the backup
		// still has them all.
		if cmd, err := os.ReadFile(filepath.Join(dir, "expected-selected.cmd.txt")); err == nil && selected && strings.Contains(string(cmd), "-no-meta") {
			all := loadExpectedFile(t, dir, false)
			e.sindexes, e.udfs = all.sindexes, all.udfs
		}
	}()
	for _, l := range bytes.Split(data, []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(l, &probe); err != nil {
			t.Fatal(err)
		}
		switch {
		case probe["sindex"] != nil:
			var s string
			json.Unmarshal(probe["sindex"], &s)
			e.sindexes[s] = true
		case probe["udf"] != nil:
			var u struct{ UDF, SHA256 string }
			json.Unmarshal(l, &u)
			e.udfs[u.UDF] = u.SHA256
		default:
			var r expRecord
			if err := json.Unmarshal(l, &r); err != nil {
				t.Fatal(err)
			}
			e.records[r.Digest] = &r
		}
	}
	return e
}

// canon decodes JSON keeping numbers exact.
func canon(t *testing.T, raw []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("bad JSON %q: %v", raw, err)
	}
	return v
}

// xattrsUnder reads the extended attributes of every file and directory
// under root with listxattr(2) and getxattr(2), as getfattr -R -d -m -
// lists them: path -> attribute -> value, entries without attributes left
// out.
func xattrsUnder(t *testing.T, root string) map[string]map[string]string {
	t.Helper()
	res := map[string]map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		names, err := listXattr(p)
		if err != nil {
			return err
		}
		for _, name := range names {
			v, err := getXattr(p, name)
			if err != nil {
				return err
			}
			if res[p] == nil {
				res[p] = map[string]string{}
			}
			res[p][name] = string(v)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("reading extended attributes: %v", err)
	}
	return res
}

// listXattr returns the attribute names of path.
func listXattr(path string) ([]string, error) {
	n, err := syscall.Listxattr(path, nil)
	if err != nil || n == 0 {
		return nil, err
	}
	buf := make([]byte, n)
	if n, err = syscall.Listxattr(path, buf); err != nil {
		return nil, err
	}
	var names []string
	for _, b := range bytes.Split(buf[:n], []byte{0}) {
		if len(b) > 0 {
			names = append(names, string(b))
		}
	}
	return names, nil
}

// getXattr returns the value of attribute name of path.
func getXattr(path, name string) ([]byte, error) {
	n, err := syscall.Getxattr(path, name, nil)
	if err != nil || n == 0 {
		return nil, err
	}
	buf := make([]byte, n)
	n, err = syscall.Getxattr(path, name, buf)
	return buf[:n], err
}

// escapeName is the documented escaping of a name as a file name.
func escapeName(s []byte) string {
	if len(s) == 0 {
		return "%empty"
	}
	if string(s) == "." || string(s) == ".." {
		return "%2E" + string(s[1:])
	}
	var b strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRune(s)
		c := s[0]
		if (r == utf8.RuneError && n == 1) || c == '%' || c == '/' || c < 0x20 || c == 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
			s = s[1:]
			continue
		}
		b.Write(s[:n])
		s = s[n:]
	}
	return b.String()
}

// expectedName returns the documented base name of a record (before any
// collision suffix) and its key type suffix.
func expectedName(t *testing.T, r *expRecord) (string, string) {
	d, _ := base64.StdEncoding.DecodeString(r.Digest)
	if string(r.Key) == "null" || len(r.Key) == 0 {
		return hex.EncodeToString(d), "%nokey"
	}
	var k map[string]json.RawMessage
	if err := json.Unmarshal(r.Key, &k); err != nil {
		t.Fatal(err)
	}
	switch {
	case k["int"] != nil:
		return string(k["int"]), "%int"
	case k["str"] != nil:
		var s string
		json.Unmarshal(k["str"], &s)
		return escapeName([]byte(s)), "%str"
	case k["bytes"] != nil:
		var b []byte
		json.Unmarshal(k["bytes"], &b)
		return escapeName(b), "%bytes"
	}
	t.Fatalf("unknown key form %s", r.Key)
	return "", ""
}

type goldenCase struct {
	name string
	args []string // before BACKUP
	env  []string
	path string // backup path inside the case
}

func goldenCases(t *testing.T) []goldenCase {
	envKey, err := os.ReadFile(filepath.Join(goldenDir, "06-kitchen-zstd-aes256-env", "env-key.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return []goldenCase{
		{name: "01-kitchen-file", path: "backup.asb"},
		{name: "02-kitchen-compact", path: "backup.asb"},
		{name: "03-kitchen-dir-parallel", path: "backup"},
		{name: "04-kitchen-zstd", args: []string{"-z", "zstd"}, path: "backup.asb"},
		{name: "05-kitchen-aes128-keyfile", args: []string{"-y", "aes128", "--encryption-key-file", filepath.Join(goldenDir, "05-kitchen-aes128-keyfile", "key.pem")}, path: "backup.asb"},
		{name: "06-kitchen-zstd-aes256-env", args: []string{"-z", "zstd", "-y", "aes256", "--encryption-key-env", "ASBFS_TEST_KEY"},
			env: []string{"ASBFS_TEST_KEY=" + strings.TrimSpace(string(envKey))}, path: "backup.asb"},
		{name: "07-large-dir", path: "backup"},
		{name: "08-kitchen-no-bins", path: "backup.asb"},
		{name: "09-kitchen-set-bins", path: "backup.asb"},
		{name: "10-kitchen-no-records", path: "backup.asb"},
	}
}

// TestGoldenMounts mounts every golden backup with the asbfs command and
// checks, with ls, find, cat, stat, du, getxattr(2) and grep, that every
// record, index and UDF is there with the right content and nothing else.
func TestGoldenMounts(t *testing.T) {
	needFUSE(t)
	for _, c := range goldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(goldenDir, c.name)
			exp := loadExpected(t, dir)
			args := append(append([]string{"--no-config-file"}, c.args...), filepath.Join(dir, c.path))
			mnt := mount(t, c.env, args...)
			checkMount(t, mnt, exp)
		})
	}
}

func checkMount(t *testing.T, mnt string, exp *expected) {
	// Top level: the namespace, %udf, %raw, %errors and nothing else.
	top := strings.Fields(string(run(t, "ls", "-A", mnt)))
	want := []string{"%errors", "%raw", "%udf"}
	if len(exp.records) > 0 || len(exp.sindexes) > 0 {
		want = append(want, "test")
	}
	if !reflect.DeepEqual(top, want) {
		t.Fatalf("ls %s = %q, want %q", mnt, top, want)
	}
	if errs := run(t, "cat", filepath.Join(mnt, "%errors")); len(errs) != 0 {
		t.Errorf("%%errors is not empty:\n%s", errs)
	}

	// UDFs: real content.
	udfs := strings.Fields(string(run(t, "ls", filepath.Join(mnt, "%udf"))))
	if len(udfs) != len(exp.udfs) {
		t.Errorf("%%udf holds %q, want %d modules", udfs, len(exp.udfs))
	}
	for name, sum := range exp.udfs {
		got := sha256.Sum256(run(t, "cat", filepath.Join(mnt, "%udf", name)))
		if hex.EncodeToString(got[:]) != sum {
			t.Errorf("UDF %s: content differs (sha256 %x, want %s)", name, got, sum)
		}
	}
	// Secondary indexes.
	if len(exp.sindexes) > 0 {
		names := strings.Fields(string(run(t, "ls", filepath.Join(mnt, "test", "%sindex"))))
		var want []string
		for n := range exp.sindexes {
			want = append(want, n)
		}
		sort.Strings(want)
		if !reflect.DeepEqual(names, want) {
			t.Errorf("%%sindex = %q, want %q", names, want)
		}
		for _, n := range names {
			var def struct{ Name, Namespace string }
			if err := json.Unmarshal(run(t, "cat", filepath.Join(mnt, "test", "%sindex", n)), &def); err != nil || def.Name != n || def.Namespace != "test" {
				t.Errorf("index %s: bad definition %+v (%v)", n, def, err)
			}
		}
	}
	if len(exp.records) == 0 {
		out := run(t, "find", mnt, "-type", "f", "-not", "-path", "*/%sindex/*", "-not", "-path", "*/%udf/*", "-not", "-name", "%errors",
			"-not", "-path", "*/%stats/*", "-not", "-name", "%stats.json")
		if len(out) != 0 {
			t.Errorf("records found in a backup without records:\n%s", out)
		}
		return
	}

	// Every record file, found with find, with its xattrs.
	ns := filepath.Join(mnt, "test")
	out := run(t, "find", recordFiles(ns, "-print0")...)
	var files []string
	for _, f := range bytes.Split(bytes.TrimSuffix(out, []byte{0}), []byte{0}) {
		files = append(files, string(f))
	}
	if len(files) != len(exp.records) {
		t.Errorf("find: %d record files, want %d", len(files), len(exp.records))
	}
	attrs := xattrsUnder(t, ns)
	seen := map[string]string{}
	// Read all contents with cat, in batches, as one JSON stream.
	var contents []any
	for i := 0; i < len(files); i += 200 {
		batch := files[i:min(i+200, len(files))]
		dec := json.NewDecoder(bytes.NewReader(run(t, "cat", batch...)))
		dec.UseNumber()
		for range batch {
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("cat: record files are not JSON: %v", err)
			}
			contents = append(contents, v)
		}
	}
	sizes := map[string]int64{}
	for i := 0; i < len(files); i += 200 {
		batch := files[i:min(i+200, len(files))]
		for j, l := range strings.Split(strings.TrimSuffix(string(run(t, "stat", append([]string{"--printf", "%s %a %F %h\\0"}, batch...)...)), "\x00"), "\x00") {
			f := strings.Fields(l)
			if len(f) < 4 || f[1] != "444" || f[2] != "regular" {
				t.Fatalf("stat: %q, want a regular file of mode 444", l)
			}
			n, _ := strconv.ParseInt(f[0], 10, 64)
			sizes[batch[j]] = n
		}
	}
	var total int64
	for i, f := range files {
		a := attrs[f]
		if a == nil {
			t.Fatalf("no extended attributes for %q", f)
		}
		dg := a["user.aerospike.digest"]
		r := exp.records[dg]
		if r == nil {
			t.Errorf("%s: digest %s is not in the expected records", f, dg)
			continue
		}
		if prev, dup := seen[dg]; dup {
			t.Errorf("%s and %s both hold digest %s", prev, f, dg)
		}
		seen[dg] = f
		// Location: namespace and set directory, file name from the key.
		rel, _ := filepath.Rel(ns, f)
		setDir, name := filepath.Split(rel)
		wantSet := "%noset"
		if r.Set != nil {
			wantSet = escapeName([]byte(*r.Set))
			if a["user.aerospike.set"] != *r.Set {
				t.Errorf("%s: user.aerospike.set = %q, want %q", f, a["user.aerospike.set"], *r.Set)
			}
		}
		if strings.TrimSuffix(setDir, "/") != wantSet {
			t.Errorf("%s: in set directory %q, want %q", f, setDir, wantSet)
		}
		base, suffix := expectedName(t, r)
		if len(base) > 200 {
			dgb, _ := base64.StdEncoding.DecodeString(dg)
			cut, sfx, ok := strings.Cut(name, "%d")
			if ok && sfx == hex.EncodeToString(dgb) && strings.HasPrefix(base, cut) && len(cut) <= 200 && len(cut) > 190 {
				base = name
			}
		}
		if name != base && name != base+suffix {
			t.Errorf("record %s: file name %q, want %q (or with %s)", dg, name, base, suffix)
		}
		// Content.
		got, ok := contents[i].(map[string]any)
		if !ok {
			t.Fatalf("%s: not a JSON object", f)
		}
		var wantSetV any
		if r.Set != nil {
			wantSetV = *r.Set
		}
		if got["digest"] != r.Digest || got["namespace"] != "test" || !reflect.DeepEqual(got["set"], wantSetV) {
			t.Errorf("%s: digest/namespace/set = %v/%v/%v", f, got["digest"], got["namespace"], got["set"])
		}
		if !reflect.DeepEqual(got["key"], canon(t, r.Key)) {
			t.Errorf("%s: key %v, want %s", f, got["key"], r.Key)
		}
		if got["void_time"] != json.Number(strconv.FormatUint(uint64(r.VoidTime), 10)) ||
			a["user.aerospike.void_time"] != strconv.FormatUint(uint64(r.VoidTime), 10) {
			t.Errorf("%s: void_time %v (xattr %s), want %d", f, got["void_time"], a["user.aerospike.void_time"], r.VoidTime)
		}
		if (r.VoidTime == 0) != (got["expires"] == nil) || (r.VoidTime == 0) != (a["user.aerospike.ttl"] == "-1") {
			t.Errorf("%s: expires %v, ttl %q for void time %d", f, got["expires"], a["user.aerospike.ttl"], r.VoidTime)
		}
		if _, ok := a["user.aerospike.generation"]; !ok || got["generation"] == nil {
			t.Errorf("%s: no generation", f)
		}
		if !reflect.DeepEqual(sortMaps(got["bins"]), sortMaps(canon(t, r.Bins))) {
			gb, _ := json.Marshal(got["bins"])
			t.Errorf("%s: bins\n got %s\nwant %s", f, gb, r.Bins)
		}
		// Size as stat shows it is what cat returns.
		var buf bytes.Buffer
		json.NewEncoder(&buf).Encode(got) // only for a lower bound
		total += sizes[f]
		if sizes[f] < int64(buf.Len())/2 {
			t.Errorf("%s: stat size %d too small", f, sizes[f])
		}
	}
	for dg := range exp.records {
		if _, ok := seen[dg]; !ok {
			t.Errorf("record %s is missing", dg)
		}
	}
	// du -b counts exactly the bytes cat reads.
	var catBytes int64
	for i := 0; i < len(files); i += 200 {
		catBytes += int64(len(run(t, "cat", files[i:min(i+200, len(files))]...)))
	}
	if catBytes != total {
		t.Errorf("stat sizes sum to %d, cat read %d bytes", total, catBytes)
	}
	du := strings.Fields(string(run(t, "du", "-sb", "--exclude=%sindex", "--exclude=%jsonl", "--exclude=%stats", "--exclude=%stats.json", ns)))
	if n, _ := strconv.ParseInt(du[0], 10, 64); n != total {
		t.Errorf("du -sb %s = %d, want %d", ns, n, total)
	}

	// The raw view holds the same records, each as a complete .asb file:
	// the header, the record and nothing else.
	rawNS := filepath.Join(mnt, "%raw", "test")
	rawOut := run(t, "find", rawNS, "(", "-path", rawNS+"/%asb", "-o", "-path", rawNS+"/%digest", ")", "-prune", "-o", "-type", "f", "-print0")
	rawFiles := bytes.Split(bytes.TrimSuffix(rawOut, []byte{0}), []byte{0})
	if len(rawFiles) != len(files) {
		t.Errorf("%%raw: %d files, want %d", len(rawFiles), len(files))
	}
	for _, f := range files {
		rel, _ := filepath.Rel(ns, f)
		raw, err := os.ReadFile(filepath.Join(rawNS, rel))
		if err != nil {
			t.Fatal(err)
		}
		dg := attrs[f]["user.aerospike.digest"]
		hdr, recs := parseAsb(t, raw)
		if nsName, _ := hdr.Namespace(); nsName != "test" || len(recs) != 1 || base64.StdEncoding.EncodeToString(recs[0].Digest[:]) != dg {
			t.Errorf("%%raw/test/%s: not a one-record .asb file of record %s: %q", rel, dg, raw[:min(len(raw), 200)])
		}
	}

	// grep -r finds a record by a string value.
	for _, r := range exp.records {
		var bins map[string]map[string]any
		json.Unmarshal(r.Bins, &bins)
		for _, v := range bins {
			s, ok := v["str"].(string)
			if !ok || len(s) < 8 || strings.ContainsAny(s, "\\\"\n\t\r") || !isPrintableASCII(s) {
				continue
			}
			hits := strings.Split(strings.TrimSpace(string(run(t, "grep", "-rlF", "--exclude-dir=%raw", "-e", s, mnt))), "\n")
			found := false
			for _, h := range hits {
				if attrs[h]["user.aerospike.digest"] == r.Digest {
					found = true
				}
			}
			if !found {
				t.Errorf("grep -rlF %q did not find record %s (hits %q)", s, r.Digest, hits)
			}
			goto grepped
		}
	}
grepped:

	// Writes, creates, renames and deletes fail with EROFS.
	f0 := files[0]
	checkEROFS(t, "write", os.WriteFile(f0, []byte("x"), 0o644))
	checkEROFS(t, "create", os.WriteFile(filepath.Join(ns, "new"), []byte("x"), 0o644))
	checkEROFS(t, "rename", os.Rename(f0, f0+".renamed"))
	checkEROFS(t, "remove", os.Remove(f0))
	checkEROFS(t, "mkdir", os.Mkdir(filepath.Join(mnt, "newdir"), 0o755))
	checkEROFS(t, "chmod", os.Chmod(f0, 0o644))
	checkEROFS(t, "setxattr", syscall.Setxattr(f0, "user.x", []byte("1"), 0))
	if out, err := exec.Command("touch", filepath.Join(ns, "touched")).CombinedOutput(); err == nil || !bytes.Contains(out, []byte("Read-only file system")) {
		t.Errorf("touch in the mount: %v %s", err, out)
	}
}

// parseAsb reads a whole .asb file.
func parseAsb(t *testing.T, data []byte) (*asb.Header, []*asb.Record) {
	t.Helper()
	rd := asb.NewReader(bytes.NewReader(data), asb.ReaderOptions{})
	hdr, err := rd.Header()
	if err != nil {
		t.Fatalf("not an .asb file: %v: %q", err, data[:min(len(data), 200)])
	}
	var recs []*asb.Record
	for {
		e, err := rd.Next()
		if err == io.EOF {
			return hdr, recs
		}
		if err != nil {
			t.Fatalf("not an .asb file: %v", err)
		}
		if e.Kind != asb.EntryRecord {
			t.Fatalf("entry %v in a record file", e.Kind)
		}
		recs = append(recs, e.Record.Clone())
	}
}

// recordFiles returns the arguments of find that list the record files of
// namespace directory ns (not the other views of the namespace).
func recordFiles(ns, print string) []string {
	return []string{ns, "(", "-path", ns + "/%sindex", "-o", "-path", ns + "/%jsonl", "-o", "-path", ns + "/%stats", "-o",
		"-path", ns + "/%digest", ")", "-prune", "-o", "-type", "f", "-not", "-path", ns + "/%stats.json", print}
}

// sortMaps puts the pairs of unordered maps (no "flags") in the order of
// their keys' JSON text: their stored order carries no meaning, and the
// expected dumps list them that way.
func sortMaps(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = sortMaps(x)
		}
		if pairs, ok := out["map"].([]any); ok && v["flags"] == nil {
			sort.SliceStable(pairs, func(i, j int) bool {
				a, _ := json.Marshal(pairs[i].([]any)[0])
				b, _ := json.Marshal(pairs[j].([]any)[0])
				return string(a) < string(b)
			})
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = sortMaps(x)
		}
		return out
	}
	return v
}

func isPrintableASCII(s string) bool {
	for _, c := range []byte(s) {
		if c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

func checkEROFS(t *testing.T, op string, err error) {
	t.Helper()
	if !errors.Is(err, syscall.EROFS) {
		t.Errorf("%s in the mount: %v, want EROFS", op, err)
	}
}

// TestCorruptFile mounts a copy of a backup with a damaged record: the rest
// is served and the bad span is reported in %errors.
func TestCorruptFile(t *testing.T) {
	needFUSE(t)
	src, err := os.ReadFile(filepath.Join(goldenDir, "01-kitchen-file", "backup.asb"))
	if err != nil {
		t.Fatal(err)
	}
	// Damage the bin type of the first bin line after the middle.
	mid := len(src) / 2
	i := bytes.Index(src[mid:], []byte("\n- I ")) + mid + 3
	bad := append([]byte(nil), src...)
	bad[i] = 'Q'
	line := bytes.Count(bad[:i], []byte("\n")) + 1
	dir := t.TempDir()
	path := filepath.Join(dir, "damaged.asb")
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	mnt := mount(t, nil, "--no-config-file", path)
	errs := string(run(t, "cat", filepath.Join(mnt, "%errors")))
	if !strings.Contains(errs, path) || !strings.Contains(errs, "skipped") || !strings.Contains(errs, fmt.Sprintf("line %d", line)) {
		t.Errorf("%%errors = %q, want the file and line %d", errs, line)
	}
	exp := loadExpected(t, filepath.Join(goldenDir, "01-kitchen-file"))
	out := run(t, "find", recordFiles(filepath.Join(mnt, "test"), "-print")...)
	n := len(strings.Split(strings.TrimSpace(string(out)), "\n"))
	if n != len(exp.records)-1 {
		t.Errorf("%d records served, want all %d but the damaged one", n, len(exp.records)-1)
	}
}

// TestMultipleBackups mounts a directory holding two backups.
func TestMultipleBackups(t *testing.T) {
	needFUSE(t)
	parent := t.TempDir()
	for name, src := range map[string]string{"monday": "03-kitchen-dir-parallel/backup", "tuesday": "07-large-dir/backup"} {
		d := filepath.Join(parent, name)
		os.Mkdir(d, 0o755)
		ents, _ := os.ReadDir(filepath.Join(goldenDir, src))
		for _, e := range ents {
			if err := os.Symlink(filepath.Join(mustAbs(t, goldenDir), src, e.Name()), filepath.Join(d, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	mnt := mount(t, nil, "--no-config-file", parent)
	top := strings.Fields(string(run(t, "ls", mnt)))
	if !reflect.DeepEqual(top, []string{"monday", "tuesday"}) {
		t.Fatalf("ls = %q", top)
	}
	for name, c := range map[string]string{"monday": "03-kitchen-dir-parallel", "tuesday": "07-large-dir"} {
		exp := loadExpected(t, filepath.Join(goldenDir, c))
		t.Run(name, func(t *testing.T) { checkMount(t, filepath.Join(mnt, name), exp) })
	}
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestCLIErrors checks the messages for a missing mount point, a bad key and
// a missing key.
func TestCLIErrors(t *testing.T) {
	needFUSE(t)
	dir := t.TempDir()
	otherKey := filepath.Join(dir, "other.pem")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(otherKey, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	enc := filepath.Join(goldenDir, "05-kitchen-aes128-keyfile", "backup.asb")
	mnt := filepath.Join(dir, "mnt")
	os.Mkdir(mnt, 0o755)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{filepath.Join(goldenDir, "01-kitchen-file", "backup.asb"), filepath.Join(dir, "missing")}, "mount point " + filepath.Join(dir, "missing") + ": no such directory"},
		{[]string{"-y", "aes128", "--encryption-key-file", otherKey, enc, mnt}, "wrong encryption key"},
		{[]string{"-y", "aes128", "--encryption-key-file", filepath.Join(dir, "nokey.pem"), enc, mnt}, `Could not open private key file "` + filepath.Join(dir, "nokey.pem") + `"`},
		{[]string{"-y", "aes128", enc, mnt}, "Must specify both encryption mode and a private key file/environment variable"},
		{[]string{enc, mnt}, "encrypted backup?"},
		{[]string{filepath.Join(dir, "nothing"), mnt}, "no such file or directory"},
		{[]string{"-y", "aes512", "--encryption-key-env", "X", enc, mnt}, `Invalid encryption type "aes512"`},
	}
	for _, c := range cases {
		cmd := exec.Command(asbfsBin, append([]string{"--no-config-file"}, c.args...)...)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("asbfs %q: %v, want exit code 1; output %s", c.args, err, out)
		}
		if !strings.Contains(string(out), c.want) {
			t.Errorf("asbfs %q: output %q, want %q", c.args, out, c.want)
		}
		if isMounted(t, mnt) {
			unmount(mnt, false)
			t.Fatalf("asbfs %q left a mount", c.args)
		}
	}
}

// TestDaemon mounts in the background with -d and unmounts from outside
// (umount(2) as root, fusermount3 -u otherwise): the background process
// must exit.
func TestDaemon(t *testing.T) {
	needFUSE(t)
	mnt := filepath.Join(t.TempDir(), "mnt")
	os.Mkdir(mnt, 0o755)
	before := len(procsRunning())
	out, err := exec.Command(asbfsBin, "--no-config-file", "-d", filepath.Join(goldenDir, "01-kitchen-file", "backup.asb"), mnt).CombinedOutput()
	t.Cleanup(func() {
		if isMounted(t, mnt) {
			unmount(mnt, true)
		}
	})
	if err != nil {
		t.Fatalf("asbfs -d: %v\n%s", err, out)
	}
	if !isMounted(t, mnt) {
		t.Fatalf("asbfs -d returned before mounting")
	}
	if n := len(procsRunning()); n != before+1 {
		t.Errorf("%d asbfs processes running, want %d", n, before+1)
	}
	if len(run(t, "ls", filepath.Join(mnt, "test", "kitchen"))) == 0 {
		t.Errorf("empty set directory")
	}
	if err := unmount(mnt, false); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(procsRunning()) != before {
		if time.Now().After(deadline) {
			t.Fatalf("background asbfs still running after unmount")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var _ = io.EOF
