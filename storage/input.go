package storage

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"asbtools/msg"
)

// InputFile is one backup file chosen for a restore.
type InputFile struct {
	// Path is the directory argument, a slash and the entry name, exactly
	// as the legacy tool builds it.
	Path string
	// Size is the entry's size in bytes (its stat size; a directory
	// contributes its own st_size like in the legacy tool).
	Size int64
}

// inputError is a failure to list a restore directory: a *msg.Error with
// the legacy tool's ERR line (without the caller's trailing "Error while
// getting backup files ..." line), caused by err.
func inputError(err error, line string) *msg.Error {
	return &msg.Error{Lines: []msg.Line{msg.Err("%s", line)}, Err: err}
}

// IsBackupFileName reports whether a directory entry is picked up by a
// restore: its name ends in ".asb" (case-sensitive) and is longer than the
// suffix.
func IsBackupFileName(name string) bool {
	return len(name) > 4 && strings.HasSuffix(name, ".asb")
}

// ListInputDirectory returns the backup files of dir in directory order
// (not sorted, not recursive), like the legacy asrestore -d: every entry
// whose name ends in ".asb", whatever its type. The total is the sum of
// their sizes (the progress base).
func ListInputDirectory(dir string) (files []InputFile, total int64, err error) {
	f, err := os.Open(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, 0, inputError(err, "Directory "+dir+" does not exist")
		}
		return nil, 0, inputError(err, fmt.Sprintf("Error while opening directory %s (%s)", dir, errText(err)))
	}
	// A read-only directory handle: once listed, a failing close changes
	// nothing.
	defer func() { _ = f.Close() }()
	for {
		names, rerr := f.Readdirnames(256)
		for _, name := range names {
			if !IsBackupFileName(name) {
				continue
			}
			path := dir + "/" + name
			st, serr := os.Stat(path)
			if serr != nil {
				return nil, 0, inputError(serr, fmt.Sprintf("Failed to get stats of file %s (%s)", path, errText(serr)))
			}
			files = append(files, InputFile{Path: path, Size: st.Size()})
			total += st.Size()
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				break
			}
			return nil, 0, inputError(rerr, fmt.Sprintf("Error while opening directory %s (%s)", dir, errText(rerr)))
		}
		if len(names) == 0 {
			break
		}
	}
	return files, total, nil
}

// errText returns the system error text of err without the Go path prefix.
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// IsStdinInput reports whether an --input-file value names standard input
// ("-" or the "-:<size>" form).
func IsStdinInput(path string) bool {
	return path == "-" || strings.HasPrefix(path, "-:")
}

// InputDirectoryList expands --directory-list (split on ',', items not
// trimmed) with the optional --parent-directory prefix: a '/' is inserted
// unless the parent already ends with one.
func InputDirectoryList(list, parent string, hasParent bool) []string {
	dirs := strings.Split(list, ",")
	if hasParent {
		for i, d := range dirs {
			if strings.HasSuffix(parent, "/") {
				dirs[i] = parent + d
			} else {
				dirs[i] = parent + "/" + d
			}
		}
	}
	return dirs
}
