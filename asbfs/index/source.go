package index

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"asbtools/asb"
	"asbtools/asbfs/render"
	"asbtools/storage"
	"asbtools/stream"
)

// Compression tells how backup files are compressed.
type Compression int

// Compression modes.
const (
	// CompressAuto treats a file as zstd-compressed when its (decrypted)
	// content starts with the zstd frame magic number.
	CompressAuto Compression = iota
	// CompressNone reads every file as uncompressed text.
	CompressNone
	// CompressZstd reads every file as a zstd stream (-z zstd).
	CompressZstd
)

var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// File is one backup file, open for random access to its plaintext.
type File struct {
	// Path is the file's path as found.
	Path string
	// ModTime is the file's modification time.
	ModTime time.Time
	// Compressed reports whether the file is a zstd stream (its plaintext
	// is then served from a spill file).
	Compressed bool
	// Size is the plaintext size in bytes.
	Size int64
	// DiskSize is the size of the file as stored.
	DiskSize int64

	version asb.Version
	ra      io.ReaderAt
	closers []io.Closer
}

// Version returns the file's .asb format version.
func (f *File) Version() asb.Version { return f.version }

// LineAt returns the line number of byte off of the plaintext, counting
// the lines before it (for messages: it reads the file up to off).
func (f *File) LineAt(off int64) int {
	line := 1
	buf := make([]byte, 64<<10)
	for pos := int64(0); pos < off; {
		n, err := f.ra.ReadAt(buf[:min(int64(len(buf)), off-pos)], pos)
		line += bytes.Count(buf[:n], []byte{'\n'})
		pos += int64(n)
		if err != nil && n == 0 {
			break
		}
	}
	return line
}

// ReadAt reads plaintext (decrypted, decompressed text) of the file.
func (f *File) ReadAt(p []byte, off int64) (int, error) { return f.ra.ReadAt(p, off) }

func (f *File) close() error {
	var first error
	for _, c := range f.closers {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	f.closers = nil
	return first
}

// locate finds the backups under path: a single file, a directory holding
// .asb files, or a directory whose subdirectories hold .asb files (one
// backup each).
func locate(path string, opts *Options) (multi bool, backups []*Backup, err error) {
	if storage.IsS3Path(path) {
		err := locateS3(path, opts, &backups)
		return false, backups, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return false, nil, fmt.Errorf("backup %s: %w", path, errors.Unwrap(err))
	}
	if !st.IsDir() {
		return false, []*Backup{{Path: path, paths: []string{path}, ModTime: st.ModTime()}}, nil
	}
	files, err := asbFiles(path)
	if err != nil {
		return false, nil, err
	}
	if len(files) > 0 {
		return false, []*Backup{{Path: path, paths: files, ModTime: st.ModTime()}}, nil
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return false, nil, fmt.Errorf("backup directory %s: %w", path, errors.Unwrap(err))
	}
	for _, e := range ents {
		sub := filepath.Join(path, e.Name())
		sst, err := os.Stat(sub)
		if err != nil || !sst.IsDir() {
			continue
		}
		files, err := asbFiles(sub)
		if err != nil {
			return false, nil, err
		}
		if len(files) == 0 {
			continue
		}
		backups = append(backups, &Backup{Name: render.EscapeString(e.Name()), Path: sub, paths: files, ModTime: sst.ModTime()})
	}
	if len(backups) == 0 {
		return false, nil, fmt.Errorf("backup directory %s: no .asb files in it or in its subdirectories", path)
	}
	return true, backups, nil
}

// locateS3 finds the backup at an s3:// path: the .asb objects under the
// path taken as a directory (at any depth, as asrestore -d lists them),
// else the object itself.
func locateS3(path string, opts *Options, backups *[]*Backup) error {
	if opts.Store == nil {
		return fmt.Errorf("backup %s: S3 is not configured", path)
	}
	files, _, err := opts.Store.ListInput(path)
	if err != nil {
		return fmt.Errorf("backup %s: %w", path, err)
	}
	now := time.Now()
	if len(files) > 0 {
		paths := make([]string, len(files))
		listed := make(map[string]int64, len(files))
		for i, f := range files {
			paths[i] = f.Path
			listed[f.Path] = f.Size
		}
		sort.Strings(paths)
		*backups = []*Backup{{Path: path, paths: paths, listed: listed, ModTime: now}}
		return nil
	}
	o, err := opts.Store.Open(path)
	if err != nil {
		return fmt.Errorf("backup %s: %w", path, err)
	}
	// The object was only opened to see that it exists and learn its
	// size (the file is opened again with it, without asking twice).
	if err := o.Close(); err != nil {
		return fmt.Errorf("backup %s: %w", path, err)
	}
	*backups = []*Backup{{Path: path, paths: []string{path}, listed: map[string]int64{path: o.Size()}, ModTime: now}}
	return nil
}

// asbFiles lists the regular .asb files directly in dir, sorted by name.
func asbFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("backup directory %s: %w", dir, errors.Unwrap(err))
	}
	var out []string
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".asb") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}

// openFile opens path for random access to its plaintext. An S3 object
// with a listed size (listedSize >= 0, from the directory listing) is
// opened with that size, without a HEAD request. Encrypted,
// uncompressed files are decrypted on the fly (CTR is seekable). Compressed
// files are decompressed once into an unlinked temporary spill file (itself
// encrypted with a random key held only in memory when the backup was
// encrypted), so that memory stays bounded whatever the file size.
func openFile(path string, listedSize int64, opts *Options, problems *[]Problem) (*File, error) {
	var (
		ra    io.ReaderAt
		size  int64
		file  *File
		whole func() io.Reader // the file's bytes from the start
	)
	if storage.IsS3Path(path) && opts.Store != nil {
		// An S3 object: a large ReadAt is a ranged download of just the
		// bytes asked for, small ones (records) are served from cached
		// blocks (blockcache.go); a compressed object is read once, in
		// order.
		var o storage.Object
		var err error
		if listedSize >= 0 {
			o, err = opts.Store.OpenListed(storage.InputFile{Path: path, Size: listedSize})
		} else {
			o, err = opts.Store.Open(path)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		file = &File{Path: path, ModTime: time.Now(), DiskSize: o.Size(), closers: []io.Closer{o}}
		ra, size = newCachedObject(o, o.Size()), o.Size()
		whole = func() io.Reader { return o }
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, errors.Unwrap(err))
		}
		st, err := f.Stat()
		if err != nil {
			_ = f.Close() // read-only, never used: the stat error is the one to report
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		file = &File{Path: path, ModTime: st.ModTime(), DiskSize: st.Size(), closers: []io.Closer{f}}
		ra, size = f, st.Size()
		whole = func() io.Reader { return io.NewSectionReader(f, 0, st.Size()) }
	}
	srcSize := size
	if opts.Cipher != stream.None {
		d, err := stream.NewDecryptReaderAt(ra, size, opts.Cipher, opts.Key)
		if err != nil {
			_ = file.close() // read-only: the decryption error is the one to report
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		ra, size = d, d.Size()
	}
	compressed := opts.Compress == CompressZstd
	if opts.Compress == CompressAuto {
		var magic [4]byte
		n, err := ra.ReadAt(magic[:], 0)
		if err != nil && err != io.EOF {
			_ = file.close() // read-only: the read error is the one to report
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		compressed = n == 4 && bytes.Equal(magic[:], zstdMagic)
	}
	if compressed {
		file.Compressed = true
		sra, ssize, err := spill(whole(), srcSize, path, opts, problems, file)
		if err != nil {
			_ = file.close() // the spill error is the one to report
			return nil, err
		}
		ra, size = sra, ssize
	}
	if size >= maxFileSize {
		_ = file.close() // read-only: the size is the error to report
		return nil, fmt.Errorf("%s: %d bytes of text, more than asbfs can index in one file (1 TiB)", path, size)
	}
	file.ra, file.Size = ra, size
	return file, nil
}

// spill decompresses the file into an unlinked temporary file and returns a
// reader of the plaintext.
func spill(src io.Reader, _ int64, path string, opts *Options, problems *[]Problem, file *File) (io.ReaderAt, int64, error) {
	tmp, err := os.CreateTemp(opts.TempDir, "asbfs-spill-*")
	if err != nil {
		return nil, 0, fmt.Errorf("%s: cannot create spill file for decompression: %w", path, err)
	}
	file.closers = append(file.closers, tmp)
	// Unlinked at once, the spill file disappears with the process.
	if err := os.Remove(tmp.Name()); err != nil {
		return nil, 0, fmt.Errorf("%s: cannot unlink spill file: %w", path, err)
	}
	rd, err := stream.NewReader(src, stream.Options{Compress: true, Cipher: opts.Cipher, Key: opts.Key})
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	// Closing the decompressor releases its buffers; the data read is
	// checked by the copy below.
	defer func() { _ = rd.Close() }()
	var w io.Writer = tmp
	var sw *stream.Writer
	var key []byte
	if opts.Cipher != stream.None {
		key = make([]byte, 16)
		if _, err := rand.Read(key); err != nil {
			return nil, 0, err
		}
		sw, err = stream.NewWriter(tmp, stream.Options{Cipher: stream.AES128, Key: key})
		if err != nil {
			return nil, 0, err
		}
		w = sw
	}
	n, cerr := io.Copy(errWriter{w}, rd)
	if cerr != nil {
		var werr *writeError
		if errors.As(cerr, &werr) {
			return nil, 0, cerr
		}
		msg := cerr.Error()
		if errors.Is(cerr, stream.ErrTruncatedFrame) {
			msg = "compressed data ends inside a zstd frame (truncated file); the text before it is served"
		}
		*problems = append(*problems, Problem{File: path, Start: n, End: -1, Line: 0,
			Msg: fmt.Sprintf("cannot decompress after %d bytes of text: %s", n, msg)})
	}
	if sw != nil {
		if err := sw.Close(); err != nil {
			return nil, 0, fmt.Errorf("%s: spill file: %w", path, err)
		}
		st, err := tmp.Stat()
		if err != nil {
			return nil, 0, err
		}
		d, err := stream.NewDecryptReaderAt(tmp, st.Size(), stream.AES128, key)
		if err != nil {
			return nil, 0, err
		}
		return d, d.Size(), nil
	}
	return tmp, n, nil
}

type errWriter struct{ w io.Writer }

func (e errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil {
		err = &writeError{err}
	}
	return n, err
}

// writeError marks spill write failures (disk full) apart from decoding
// errors.
type writeError struct{ err error }

func (e *writeError) Error() string { return "spill file: " + e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }
