package state

import (
	"fmt"
	"strings"
)

// CheckOutputFile applies the -o checks of a resumed run (A.5 step 6): exactly
// one saved file, whose path equals the -o argument byte for byte.
func CheckOutputFile(s *State, outputFile string) error {
	if len(s.Files) != 1 {
		return fmt.Errorf("Expected 1 backup file save state for resuming backup-to-file, but found %d in the backup state file", len(s.Files))
	}
	if s.Files[0].Path != outputFile {
		return fmt.Errorf("Expected output file name of \"%s\", but found \"%s\" in the backup state file", outputFile, s.Files[0].Path)
	}
	return nil
}

// CheckFlags compares the stream mode of the resumed run (current, built
// from -z/-y, e.g. stream.Options.LegacyFlags) with a saved entry (A.5
// step 7), with the legacy message.
func CheckFlags(e *FileEntry, current uint8) error {
	saved := e.Flags & 0x47
	if current&0x47 != saved {
		return fmt.Errorf("io_proxy flags (%02x) do not match the serialized flags (%02x), make sure the io_proxy is initialized in the same matter as it was when serialized.", current&0x47, saved)
	}
	return nil
}

// CheckDirectory applies the -d checks of a resumed run (A.5 step 8). dir is
// the -d argument, names the entries of the directory (any order). The number
// of names ending in ".asb" whose dir + "/" + name equals a saved path must
// equal the number of saved files, then the number of all names ending in
// ".asb" must equal FileCount (legacy order of the checks).
func CheckDirectory(s *State, dir string, names []string) error {
	saved := make(map[string]bool, len(s.Files))
	for i := range s.Files {
		saved[s.Files[i].Path] = true
	}
	var nASB, nSaved uint64
	for _, n := range names {
		if len(n) <= 4 || !strings.HasSuffix(n, ".asb") {
			continue
		}
		nASB++
		if saved[dir+"/"+n] {
			nSaved++
		}
	}
	if nSaved != uint64(len(s.Files)) {
		return fmt.Errorf("Expected %d incomplete backup files per the backup state, but found %d", len(s.Files), nSaved)
	}
	if nASB != s.FileCount {
		return fmt.Errorf("Expected %d backup files, but found %d", s.FileCount, nASB)
	}
	return nil
}
