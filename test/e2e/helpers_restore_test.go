package e2e

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"asbtools/asb"
	"asbtools/asdsim"
	"asbtools/stream"
)

// startServer starts an asdsim server on a free port.
func startServer(t testing.TB, cfg asdsim.Config) *asdsim.Server {
	t.Helper()
	srv, err := asdsim.Start(cfg)
	if err != nil {
		t.Fatalf("starting test server: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// port3000Lock serializes the use of 127.0.0.1:3000 between test processes
// (the CLI transcripts need that address) with an exclusive file lock.
func port3000Lock(t testing.TB) {
	t.Helper()
	path := filepath.Join(os.TempDir(), "asbtools-e2e-port3000.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatalf("opening port lock: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Fatalf("locking port lock: %v", err)
	}
	t.Cleanup(func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	})
}

// copyTree copies directory src to dst.
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

var (
	tsRE   = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{1,2}:\d{2}:\d{2} (?:GMT|UTC) \[(INF|ERR|VER)\] \[[\s\d]+\] `)
	rateRE = regexp.MustCompile(`\(\d+ rec/s, \d+ KiB/s, \d+ B/rec`)
	etaRE  = regexp.MustCompile(`~[0-9dhms>]+ remaining`)
)

// normalizeLog normalizes log lines like the golden transcripts: timestamps,
// thread ids, rates and ETA.
func normalizeLog(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if l == "" && len(out) == 0 {
			continue
		}
		l = tsRE.ReplaceAllString(l, "<TS> [$1] [TID] ")
		l = rateRE.ReplaceAllString(l, "(<N> rec/s, <N> KiB/s, <N> B/rec")
		l = etaRE.ReplaceAllString(l, "~<ETA> remaining")
		out = append(out, l)
	}
	return out
}

// backupRecords reads every record, index and UDF of a plain backup file.
func backupRecords(t testing.TB, path string, opts *stream.Options) ([]*asb.Record, []asb.Index, []asb.UDF) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var src io.Reader = bufio.NewReader(f)
	if opts != nil {
		sr, err := stream.NewReader(f, *opts)
		if err != nil {
			t.Fatal(err)
		}
		defer sr.Close()
		src = sr
	}
	return readEntries(t, path, src)
}

// readEntries reads every record, index and UDF of backup text.
func readEntries(t testing.TB, path string, src io.Reader) ([]*asb.Record, []asb.Index, []asb.UDF) {
	t.Helper()
	r := asb.NewReader(src, asb.ReaderOptions{FileName: path})
	var recs []*asb.Record
	var idx []asb.Index
	var udfs []asb.UDF
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading %s: %v", path, err)
		}
		switch e.Kind {
		case asb.EntryRecord:
			recs = append(recs, e.Record.Clone())
		case asb.EntryIndex:
			ix := *e.Index
			ix.Paths = append([]asb.IndexPath(nil), ix.Paths...)
			idx = append(idx, ix)
		case asb.EntryUDF:
			u := *e.UDF
			u.Content = append([]byte(nil), u.Content...)
			udfs = append(udfs, u)
		}
	}
	return recs, idx, udfs
}

// sameBins compares server bins with the expected ones (order ignored for
// lookup, exact type and bytes required; GeoJSON compared on the text).
func sameBins(got, want []asdsim.Bin) (bool, string) {
	if len(got) != len(want) {
		return false, "bin count"
	}
	m := map[string]asdsim.Bin{}
	for _, b := range got {
		m[b.Name] = b
	}
	for _, w := range want {
		g, ok := m[w.Name]
		if !ok {
			return false, "missing bin " + w.Name
		}
		gd, wd := g.Data, w.Data
		if w.Type == asdsim.ParticleType(asb.ParticleGeoJSON) && len(gd) >= 3 && len(wd) >= 3 {
			gd, wd = geoText(gd), geoText(wd)
		}
		if g.Type != w.Type || !bytes.Equal(gd, wd) {
			return false, "bin " + w.Name + " differs"
		}
	}
	return true, ""
}

func geoText(d []byte) []byte {
	n := 3 + 8*(int(d[1])<<8|int(d[2]))
	if n > len(d) {
		return d
	}
	return d[n:]
}
