package state

import (
	"bytes"
	"encoding/base64"
	"fmt"
)

// Filter is a partition filter of a backup run: partitions
// [Begin, Begin+Count), or, when Digest is set, a digest filter (one
// partition, scanning after Digest).
type Filter struct {
	Begin, Count int
	// Digest is the after-digest of a digest filter (nil for a range).
	Digest *[20]byte
}

// PartitionResume tells how to scan one partition of a resumed run.
type PartitionResume struct {
	// ID is the partition id.
	ID int
	// After, when set, is the digest to resume after; nil means scan the
	// partition from its beginning.
	After *[20]byte
	// Skip is set (only with allowUncovered, i.e. --node-list) for
	// partitions not saved in the state. After then holds the digest legacy
	// resumes from (partition id in the first two bytes, little-endian), which
	// leaves nothing to scan.
	Skip bool
}

// Narrow applies a loaded state to the partition filters of the resumed run
// (A.5 step 4) and returns, per filter, the per-partition resume points. s is
// not modified. allowUncovered is legacy's --node-list behaviour (partitions
// missing from the state are skipped instead of failing).
//
// Errors (legacy texts): `Partition %u was not saved in the backup state
// file`, `Digest value <b64> is below the after-digest <b64> of partition %u`,
// `Error while narrowing partition filters from backup state file: partition
// %u was not covered by any partition range`. A partition listed by two
// filters fails as "not saved" the second time, as in legacy.
func Narrow(s *State, filters []Filter, allowUncovered bool) ([][]PartitionResume, error) {
	var used [NumPartitions]bool
	out := make([][]PartitionResume, len(filters))
	for fi, f := range filters {
		if f.Begin < 0 || f.Count < 0 || f.Begin+f.Count > NumPartitions {
			return nil, fmt.Errorf("invalid partition filter: begin %d, count %d", f.Begin, f.Count)
		}
		parts := make([]PartitionResume, 0, f.Count)
		for p := f.Begin; p < f.Begin+f.Count; p++ {
			ps := s.Partitions[p]
			st := ps.Status
			if used[p] {
				st = None
			}
			r := PartitionResume{ID: p}
			switch st {
			case NotStarted, CompleteEmpty:
				if f.Digest != nil {
					d := *f.Digest
					r.After = &d
				}
			case Incomplete, Complete:
				if f.Digest != nil && bytes.Compare(f.Digest[:], ps.Digest[:]) < 0 {
					return nil, fmt.Errorf("Digest value %s is below the after-digest %s of partition %d",
						base64.StdEncoding.EncodeToString(f.Digest[:]), base64.StdEncoding.EncodeToString(ps.Digest[:]), p)
				}
				d := ps.Digest
				r.After = &d
			default: // None, and invalid statuses (rejected by Validate)
				if !allowUncovered {
					return nil, fmt.Errorf("Partition %d was not saved in the backup state file", p)
				}
				var d [20]byte
				d[0], d[1] = byte(p), byte(p>>8)
				r.After, r.Skip = &d, true
			}
			used[p] = true
			parts = append(parts, r)
		}
		out[fi] = parts
	}
	for p := range s.Partitions {
		if s.Partitions[p].Status != None && !used[p] {
			return nil, fmt.Errorf("Error while narrowing partition filters from backup state file: partition %d was not covered by any partition range", p)
		}
	}
	return out, nil
}

// CheckMaxRecords applies --max-records to a resumed run: it returns the
// remaining limit or the legacy error when fewer records are allowed than
// were already backed up. 0 means unlimited, both as input and as result; as
// in legacy, a limit equal to the records already backed up therefore leaves
// the resumed run unlimited.
func CheckMaxRecords(s *State, maxRecords uint64) (uint64, error) {
	if maxRecords == 0 {
		return 0, nil
	}
	if maxRecords < s.RecTotal {
		return 0, fmt.Errorf("Continuing backup with %d records already backed up, but --max-records set to %d", s.RecTotal, maxRecords)
	}
	return maxRecords - s.RecTotal, nil
}
