package asbload

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"asbtools/asdsim"
)

// TestLoadKitchen loads the legacy kitchen backup and checks that every
// record of the case's expected.jsonl is in the server with its digest, set,
// void time and bin names, and that the indexes and UDFs were created.
func TestLoadKitchen(t *testing.T) {
	dir := filepath.Join("..", "..", "test", "golden", "legacy-4.5.8", "01-kitchen-file")
	srv, err := asdsim.Start(asdsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	f, err := os.Open(filepath.Join(dir, "backup.asb"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := Load(srv, "test", f, "backup.asb")
	if err != nil {
		t.Fatal(err)
	}
	if c.Records != 249 || c.Indexes != 10 || c.UDFs != 3 {
		t.Fatalf("loaded %+v, want 249 records, 10 indexes, 3 UDFs", c)
	}
	if n := len(srv.SIndexes()); n != 10 {
		t.Errorf("server has %d indexes, want 10", n)
	}
	if n := len(srv.UDFs()); n != 3 {
		t.Errorf("server has %d UDFs, want 3", n)
	}

	type expRec struct {
		Digest   string                     `json:"digest"`
		Set      *string                    `json:"set"`
		VoidTime uint32                     `json:"void_time"`
		Bins     map[string]json.RawMessage `json:"bins"`
	}
	ef, err := os.Open(filepath.Join(dir, "expected.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	sc := bufio.NewScanner(ef)
	sc.Buffer(nil, 1<<24)
	seen := 0
	for sc.Scan() {
		var e expRec
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Digest == "" {
			continue
		}
		seen++
		d, err := base64.StdEncoding.DecodeString(e.Digest)
		if err != nil || len(d) != 20 {
			t.Fatalf("bad digest %q", e.Digest)
		}
		var dg [20]byte
		copy(dg[:], d)
		rec, ok := srv.Get("test", dg)
		if !ok {
			t.Errorf("record %s missing", e.Digest)
			continue
		}
		wantSet := ""
		if e.Set != nil {
			wantSet = *e.Set
		}
		if rec.Set != wantSet || rec.VoidTime != e.VoidTime {
			t.Errorf("record %s: set %q void %d, want %q %d", e.Digest, rec.Set, rec.VoidTime, wantSet, e.VoidTime)
		}
		if len(rec.Bins) != len(e.Bins) {
			t.Errorf("record %s: %d bins, want %d", e.Digest, len(rec.Bins), len(e.Bins))
		}
		for _, b := range rec.Bins {
			if _, ok := e.Bins[b.Name]; !ok {
				t.Errorf("record %s: unexpected bin %q", e.Digest, b.Name)
			}
		}
	}
	if seen != 249 || srv.Count("test", "") != 249 {
		t.Fatalf("expected.jsonl has %d records, server %d; want 249", seen, srv.Count("test", ""))
	}
}
