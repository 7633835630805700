package index

import (
	"encoding/json"
	"path/filepath"
	"time"

	"asbtools/asb"
	"asbtools/asbfs/render"
)

// Void-time buckets of the summaries: how long records had to live when
// the backup was taken (the time of the backup file they are in).
var ttlBuckets = []struct {
	name string
	max  int64 // seconds; the last bucket has no bound
}{
	{"1h", 3600}, {"1d", 86400}, {"7d", 7 * 86400}, {"30d", 30 * 86400}, {"365d", 365 * 86400}, {"more", -1},
}

// statsAcc accumulates what the summaries say about the records of one
// (namespace, set) while they are parsed.
type statsAcc struct {
	records  int64
	bins     map[string]map[asb.BinType]int64
	never    int64 // void time 0
	expired  int64 // void time at or before the backup time
	ttl      [6]int64
	minVoid  uint32
	maxVoid  uint32
	perFile  map[uint16]int64
	lastBins []asb.Bin // bin layout of the last record, to skip map lookups
	lastCnt  []map[asb.BinType]int64
}

func newStatsAcc() *statsAcc {
	return &statsAcc{bins: map[string]map[asb.BinType]int64{}, perFile: map[uint16]int64{}}
}

// add counts record r of file file, taken at backup time now (seconds
// since the Aerospike epoch).
func (a *statsAcc) add(r *asb.Record, file uint16, now int64) {
	a.records++
	a.perFile[file]++
	for k := range r.Bins {
		b := &r.Bins[k]
		var m map[asb.BinType]int64
		if k < len(a.lastBins) && string(a.lastBins[k].Name) == string(b.Name) {
			m = a.lastCnt[k]
		} else {
			m = a.bins[string(b.Name)]
			if m == nil {
				m = map[asb.BinType]int64{}
				a.bins[string(b.Name)] = m
			}
			if k < len(a.lastBins) {
				a.lastBins[k].Name = append(a.lastBins[k].Name[:0], b.Name...)
				a.lastCnt[k] = m
			} else {
				a.lastBins = append(a.lastBins, asb.Bin{Name: append([]byte(nil), b.Name...)})
				a.lastCnt = append(a.lastCnt, m)
			}
		}
		m[b.Type]++
	}
	v := r.VoidTime
	if v == 0 {
		a.never++
		return
	}
	if a.minVoid == 0 || v < a.minVoid {
		a.minVoid = v
	}
	a.maxVoid = max(a.maxVoid, v)
	left := int64(v) - now
	if left <= 0 {
		a.expired++
		return
	}
	for k, b := range ttlBuckets {
		if b.max < 0 || left <= b.max {
			a.ttl[k]++
			return
		}
	}
}

// merge adds o's counts to a.
func (a *statsAcc) merge(o *statsAcc) {
	a.records += o.records
	for name, m := range o.bins {
		am := a.bins[name]
		if am == nil {
			a.bins[name] = m
			continue
		}
		for t, n := range m {
			am[t] += n
		}
	}
	a.never += o.never
	a.expired += o.expired
	for k := range a.ttl {
		a.ttl[k] += o.ttl[k]
	}
	if o.minVoid != 0 && (a.minVoid == 0 || o.minVoid < a.minVoid) {
		a.minVoid = o.minVoid
	}
	a.maxVoid = max(a.maxVoid, o.maxVoid)
	for f, n := range o.perFile {
		a.perFile[f] += n
	}
}

// Summary is the content of a stats file.
type Summary struct {
	Namespace string  `json:"namespace"`
	Set       *string `json:"set,omitempty"`
	// Sets counts the sets of a namespace (namespace summaries only).
	Sets *int `json:"sets,omitempty"`
	// Records counts the records shown; KeyedRecords those with a stored
	// key. JSONBytes and RawBytes are the sizes of all their JSON and .asb
	// views.
	Records      int64 `json:"records"`
	KeyedRecords int64 `json:"keyed_records"`
	JSONBytes    int64 `json:"json_bytes"`
	RawBytes     int64 `json:"raw_bytes"`
	// DuplicatesDropped counts the records read more than once (same
	// digest) of which only the last copy is shown; the bin and void-time
	// counts include every copy.
	DuplicatesDropped int64 `json:"duplicates_dropped"`
	// Bins counts, per bin name, the records holding it, per value type.
	Bins map[string]map[string]int64 `json:"bins"`
	// VoidTimes counts the records by the time they had left when the
	// backup was taken: never expiring, already expired, then up to 1 hour,
	// 1 day, 7 days, 30 days, 365 days, and more.
	VoidTimes   map[string]int64 `json:"void_times"`
	VoidTimeMin uint32           `json:"void_time_min"`
	VoidTimeMax uint32           `json:"void_time_max"`
	// Files lists the backup files holding these records.
	Files []FileSummary `json:"files"`
}

// FileSummary describes one backup file in a summary.
type FileSummary struct {
	Name string `json:"name"`
	// Size is the file's size on disk; TextSize the size of its .asb text
	// (after decryption and decompression).
	Size     int64 `json:"size"`
	TextSize int64 `json:"text_size"`
	Records  int64 `json:"records"`
}

// summary renders the accumulated counts with the index's exact figures.
func (a *statsAcc) summary(b *Backup, ns string, sets []*Set, set *string) *Summary {
	s := &Summary{Namespace: ns, Set: set, Bins: map[string]map[string]int64{}, VoidTimes: map[string]int64{},
		VoidTimeMin: a.minVoid, VoidTimeMax: a.maxVoid, Files: []FileSummary{}}
	if set == nil {
		n := len(sets)
		s.Sets = &n
	}
	for _, st := range sets {
		s.Records += int64(st.n)
		s.JSONBytes += st.jsonTotal
		s.RawBytes += st.rawTotal
		for _, bl := range st.blocks {
			for k := range bl.ents {
				if bl.ents[k].kt() != asb.KeyNone {
					s.KeyedRecords++
				}
			}
		}
	}
	s.DuplicatesDropped = a.records - s.Records
	for name, m := range a.bins {
		out := map[string]int64{}
		for t, n := range m {
			out[render.TypeName(t)] += n
		}
		s.Bins[name] = out
	}
	s.VoidTimes["never"], s.VoidTimes["expired"] = a.never, a.expired
	for k, bk := range ttlBuckets {
		s.VoidTimes[bk.name] = a.ttl[k]
	}
	for no, f := range b.Files {
		if n := a.perFile[uint16(no)]; n > 0 && f != nil {
			s.Files = append(s.Files, FileSummary{Name: filepath.Base(f.Path), Size: f.DiskSize, TextSize: f.Size, Records: n})
		}
	}
	return s
}

func (s *Summary) json() []byte {
	out, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		panic(err) // maps of strings and numbers always marshal
	}
	return append(out, '\n')
}

// epochSeconds returns t in seconds since the Aerospike epoch.
func epochSeconds(t time.Time) int64 { return int64(t.Sub(render.Epoch) / time.Second) }
