package state

import (
	"errors"
	"os"
	"strings"

	"asbtools/msg"
)

// IgnoredDstWarning is the INF line logged when --state-file-dst is given in
// estimate mode.
const IgnoredDstWarning = "Warning: in this state, backup save-state is not possible, --state-file-dst option is ignored"

// PathInput holds the options that decide where the state file goes.
type PathInput struct {
	// StateFileDst is --state-file-dst ("" if not given).
	StateFileDst string
	// Directory is -d ("" if not given).
	Directory string
	// OutputFile is -o ("" if not given; "-" is stdout).
	OutputFile string
	// Prefix is --output-file-prefix ("" if not given).
	Prefix string
	// Namespace is -n.
	Namespace string
	// Estimate is -e (no state possible).
	Estimate bool
}

func isS3(p string) bool { return strings.HasPrefix(p, "s3://") }

func (in PathInput) prefix() string {
	if in.Prefix != "" {
		return in.Prefix
	}
	ns := in.Namespace
	if len(ns) > 32 { // legacy prints at most sizeof(as_namespace) bytes
		ns = ns[:32]
	}
	return ns
}

// StatePath computes the state-file destination (A.1) without touching the
// file system: isDir reports whether a local path is an existing, readable
// directory. It returns "" in estimate mode. mustCheck is true when the path
// is a local --state-file-dst that is not a directory, which CheckStateFileDst
// must verify up front.
func StatePath(in PathInput, isDir func(string) bool) (path string, mustCheck bool, err error) {
	if in.Estimate {
		return "", false, nil
	}
	var target string
	switch {
	case in.OutputFile != "":
		target = in.OutputFile
	case in.Directory != "":
		target = in.Directory
	default:
		return "", false, errors.New("Cannot generate backup state file name if not backing up to directory/output file")
	}
	pfx := in.prefix()
	switch {
	case in.StateFileDst != "":
		dst := in.StateFileDst
		if isS3(dst) {
			return dst, false, nil
		}
		if isDir(dst) {
			return dst + "/" + pfx + ".asb.state", false, nil
		}
		return dst, true, nil
	case isS3(target):
		return pfx + ".asb.state", false, nil
	case in.Directory != "":
		return in.Directory + "/" + pfx + ".asb.state", false, nil
	case in.OutputFile == "-":
		return pfx + ".asb.state", false, nil
	default:
		return in.OutputFile + ".state", false, nil
	}
}

// CheckStateFileDst verifies up front that a local --state-file-dst that is
// not a directory can be written: a missing file is created (exclusively) and
// removed again, an existing one must open for writing. The error text is
// `Failed to open state file "<path>", reason: <strerror>`.
func CheckStateFileDst(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		// An empty probe, written to by nobody. As legacy, a failure to
		// remove it is not an error: the state overwrites it later.
		_ = f.Close()
		_ = os.Remove(path)
		return nil
	}
	if !errors.Is(err, os.ErrExist) {
		return msg.WithCause(err, "Failed to open state file \"%s\", reason: %s", path, Strerror(err))
	}
	f, err = os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return msg.WithCause(err, "Failed to open state file \"%s\", reason: %s", path, Strerror(err))
	}
	_ = f.Close() // opened only to check the permission; nothing was written
	return nil
}

// Resolved is the outcome of ResolveStatePath.
type Resolved struct {
	// Path is the state-file destination ("" when no state is possible).
	Path string
	// IgnoredDst is set when --state-file-dst was given in estimate mode; log
	// IgnoredDstWarning.
	IgnoredDst bool
	// Directory is the -d value to use from now on: legacy strips one
	// trailing '/' from an S3 directory when the state file is on S3.
	Directory string
}

// ResolveStatePath applies StatePath against the real file system, runs
// CheckStateFileDst when needed, and refuses an S3 state path equal to the S3
// directory (`--state-file-dst cannot be the same S3 path as --directory`).
func ResolveStatePath(in PathInput) (Resolved, error) {
	res := Resolved{Directory: in.Directory}
	if in.Estimate {
		res.IgnoredDst = in.StateFileDst != ""
		return res, nil
	}
	p, check, err := StatePath(in, localDir)
	if err != nil {
		return res, err
	}
	if check {
		if err := CheckStateFileDst(p); err != nil {
			return res, err
		}
	}
	if in.Directory != "" && isS3(p) {
		p = strings.TrimSuffix(p, "/")
		res.Directory = strings.TrimSuffix(in.Directory, "/")
		if p == res.Directory {
			return res, errors.New("--state-file-dst cannot be the same S3 path as --directory")
		}
	}
	res.Path = p
	return res, nil
}

// localDir reports whether p opens as a directory (legacy: opendir succeeds).
func localDir(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer func() { _ = f.Close() }() // opened only to stat it
	st, err := f.Stat()
	return err == nil && st.IsDir()
}
