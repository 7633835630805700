// Package index builds the record-offset index asbfs serves a backup from.
//
// Open finds the backup files (a single .asb file, a backup directory, or a
// directory of backup directories), reads every file once, in parallel, and
// keeps for each record only what is needed to name it, list it and read it
// back without rescanning: its digest, file number, byte offset, line
// number, the sizes of its JSON and raw views, and its file name when the
// name comes from a user key. An entry takes 48 bytes plus the name bytes
// (none for records named by digest) plus 4–8 bytes of hash table, so the
// index of records with short keys stays well under 100 bytes per record.
//
// Plain files are read in place with ReadAt. Encrypted, uncompressed files
// are decrypted on the fly (AES-CTR is seekable). Compressed files cannot be
// entered in the middle, so each is decompressed once, while indexing, into
// an unlinked temporary spill file (encrypted with a random in-memory key
// when the backup is encrypted); the page cache, not the process, holds its
// data, so memory stays bounded whatever the backup size, at the cost of
// disk space equal to the text size.
//
// A file that does not parse is not fatal: the readable parts are indexed,
// each unreadable span is recorded as a Problem, and reading resumes at the
// next line that starts a record.
package index

import (
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"asbtools/asb"
	"asbtools/asbfs/render"
	"asbtools/stream"
)

// Options configure Open.
type Options struct {
	// Cipher and Key (the derived AES key) decrypt encrypted backups.
	Cipher stream.Cipher
	Key    []byte
	// Compress selects how files are decompressed (default: detect zstd).
	Compress Compression
	// Workers bounds the files indexed at once (0: GOMAXPROCS).
	Workers int
	// TempDir holds the spill files of compressed backups ("" = os.TempDir).
	TempDir string
	// Logf, when set, receives progress and problem reports.
	Logf func(format string, args ...any)
}

// Tree is the indexed content of everything given to Open.
type Tree struct {
	// Multi is true when the path held several backups, shown as one
	// top-level directory each.
	Multi bool
	// Backups holds one backup, or one per subdirectory when Multi.
	Backups []*Backup
}

// Backup is one backup: its files, namespaces, UDFs and problems.
type Backup struct {
	// Name is the top-level directory name when Tree.Multi.
	Name string
	// Path is the backup file or directory.
	Path string
	// ModTime is the modification time of Path, used for directories.
	ModTime time.Time
	// Files are the backup's files, in name order.
	Files []*File
	// Namespaces are sorted by directory name.
	Namespaces []*Namespace
	// UDFs are sorted by file name.
	UDFs []*Blob
	// Problems lists the unreadable spans found while indexing.
	Problems []Problem
	// Records counts the indexed records.
	Records int

	paths []string
}

// Blob is a small file held in memory (UDF module, index definition).
type Blob struct {
	Name    string
	Content []byte
	ModTime time.Time
}

// Namespace holds the sets and index definitions of one namespace.
type Namespace struct {
	// Name is the namespace as written in the backup; DirName its escaped
	// directory name.
	Name, DirName string
	// Sets are sorted by directory name; records without a set are in the
	// set named render.NoSetDir.
	Sets []*Set
	// Indexes are the secondary index definitions (JSON), sorted by name.
	Indexes []*Blob
}

// Problem is an unreadable span of a backup file.
type Problem struct {
	File string
	// Start and End are plaintext byte offsets; End is -1 when the rest of
	// the file is lost.
	Start, End int64
	// Line is the line of Start (0 when unknown).
	Line int
	Msg  string
}

// String formats the problem as one line.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ": line %d", p.Line)
	}
	if p.End >= 0 {
		fmt.Fprintf(&b, ": bytes %d-%d skipped", p.Start, p.End)
	} else if p.Start > 0 {
		fmt.Fprintf(&b, ": bytes from %d lost", p.Start)
	}
	b.WriteString(": ")
	b.WriteString(p.Msg)
	return b.String()
}

// Open indexes the backup(s) at path. Errors are returned only when nothing
// can be served (no backup files, a key that decrypts no file); problems in
// single files are recorded in Backup.Problems.
func Open(path string, opts Options) (*Tree, error) {
	multi, backups, err := locate(path)
	if err != nil {
		return nil, err
	}
	t := &Tree{Multi: multi, Backups: backups}
	type job struct {
		b   *Backup
		i   int
		res *fileResult
	}
	var jobs []*job
	for _, b := range backups {
		if len(b.paths) > 1<<16-1 {
			return nil, fmt.Errorf("backup %s: %d files, at most %d are supported", b.Path, len(b.paths), 1<<16-1)
		}
		b.Files = make([]*File, len(b.paths))
		for i := range b.paths {
			jobs = append(jobs, &job{b: b, i: i})
		}
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ch := make(chan *job)
	var wg sync.WaitGroup
	for w := 0; w < min(workers, len(jobs)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				j.res = indexFile(j.b.paths[j.i], uint16(j.i), &opts)
			}
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()

	usable := 0
	var firstErr error
	for _, b := range backups {
		var results []*fileResult
		for _, j := range jobs {
			if j.b == b {
				results = append(results, j.res)
			}
		}
		for i, r := range results {
			b.Files[i] = r.file
			b.Problems = append(b.Problems, r.problems...)
			if r.err == nil {
				usable++
			} else if firstErr == nil {
				firstErr = r.err
			}
		}
		b.merge(results)
		if opts.Logf != nil {
			for _, p := range b.Problems {
				opts.Logf("%s", p)
			}
		}
	}
	if usable == 0 && firstErr != nil {
		t.Close()
		return nil, firstErr
	}
	return t, nil
}

// Close releases the open files and spill files.
func (t *Tree) Close() error {
	var first error
	for _, b := range t.Backups {
		for _, f := range b.Files {
			if f != nil {
				if err := f.close(); err != nil && first == nil {
					first = err
				}
			}
		}
	}
	return first
}

// IndexBytes returns the memory held by the record index (entries, names
// and hash tables), for measurements.
func (t *Tree) IndexBytes() int64 {
	var n int64
	for _, b := range t.Backups {
		for _, ns := range b.Namespaces {
			for _, s := range ns.Sets {
				n += int64(cap(s.ents))*entrySize + int64(cap(s.names)) + int64(cap(s.table))*4
			}
		}
	}
	return n
}

// Records returns the number of records of all backups.
func (t *Tree) Records() int {
	n := 0
	for _, b := range t.Backups {
		n += b.Records
	}
	return n
}

// fileResult is what indexing one file produced.
type fileResult struct {
	file     *File
	groups   map[groupKey]*group
	indexes  []*asb.Index
	udfs     []*asb.UDF
	problems []Problem
	err      error // the file could not be read at all
}

type groupKey struct{ ns, set string }

// group collects the records of one (namespace, set) of one file.
type group struct {
	ents  []entry
	names []byte
}

// entry is the index of one record (entrySize bytes).
type entry struct {
	digest   [20]byte
	nameLen  uint8 // 0: named by digest
	keyType  uint8 // asb.KeyType
	file     uint16
	off      int64
	jsonSize uint32
	rawSize  uint32
	line     uint32
	nameOff  uint32
}

const entrySize = 48

// indexFile reads one file and indexes its entries.
func indexFile(path string, fileNo uint16, opts *Options) *fileResult {
	res := &fileResult{groups: map[groupKey]*group{}}
	f, err := openFile(path, opts, &res.problems)
	if err != nil {
		res.problems = append(res.problems, Problem{File: path, End: -1, Msg: unwrapMsg(err, path)})
		res.err = err
		res.file = &File{Path: path}
		return res
	}
	res.file = f
	rd := asb.NewReader(io.NewSectionReader(f.ra, 0, f.Size), asb.ReaderOptions{FileName: path, BufferSize: 256 << 10})
	h, err := rd.Header()
	if err != nil {
		msg := "cannot read the header: " + unwrapMsg(err, path)
		if opts.Cipher == stream.None && !f.Compressed {
			msg += " (encrypted backup? give -y and a key)"
		} else if opts.Cipher != stream.None {
			msg += " (wrong encryption key or cipher?)"
		}
		res.problems = append(res.problems, Problem{File: path, End: -1, Line: 1, Msg: msg})
		res.err = fmt.Errorf("%s: %s", path, msg)
		return res
	}
	f.version = h.Version
	var scratch []byte
	var g *group
	var gk groupKey
	start, line := rd.Offset(), rd.Line()
	for {
		e, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			next, nline, ok := resync(f, start, line, err)
			p := Problem{File: path, Start: start, End: next, Line: line, Msg: unwrapMsg(err, path)}
			if !ok {
				p.End = -1
			}
			res.problems = append(res.problems, p)
			if !ok {
				break
			}
			rd = asb.NewBodyReader(io.NewSectionReader(f.ra, next, f.Size-next), f.version, next, nline, asb.ReaderOptions{FileName: path, BufferSize: 256 << 10})
			start, line = next, nline
			continue
		}
		end := rd.Offset()
		switch e.Kind {
		case asb.EntryRecord:
			r := e.Record
			if g == nil || gk.ns != string(r.Namespace) || gk.set != string(r.Set) {
				gk = groupKey{string(r.Namespace), string(r.Set)}
				g = res.groups[gk]
				if g == nil {
					g = &group{}
					res.groups[gk] = g
				}
			}
			scratch = render.AppendRecord(scratch[:0], r)
			en := entry{digest: r.Digest, keyType: uint8(r.Key.Type), file: fileNo, off: e.Offset,
				jsonSize: uint32(len(scratch)), rawSize: uint32(end - e.Offset), line: uint32(e.Line)}
			if r.Key.Type != asb.KeyNone {
				off := len(g.names)
				var long bool
				g.names, long, _ = render.AppendKeyName(g.names, &r.Key)
				if long {
					g.names = render.AppendDigestSuffix(g.names, &r.Digest)
				}
				en.nameOff, en.nameLen = uint32(off), uint8(len(g.names)-off)
			}
			g.ents = append(g.ents, en)
		case asb.EntryIndex:
			ix := *e.Index
			ix.Paths = append([]asb.IndexPath(nil), ix.Paths...)
			res.indexes = append(res.indexes, &ix)
		case asb.EntryUDF:
			u := *e.UDF
			u.Content = append([]byte(nil), u.Content...)
			res.udfs = append(res.udfs, &u)
		}
		start, line = end, rd.Line()
	}
	return res
}

// unwrapMsg returns err's text without a leading "path: ".
func unwrapMsg(err error, path string) string {
	return strings.TrimPrefix(err.Error(), path+": ")
}

// resync finds the next line after a syntax error at the entry starting at
// start that begins a record ("+ k " or "+ n "), so that indexing can go on
// after a corrupt span. It returns that offset and its line number.
func resync(f *File, start int64, line int, perr error) (int64, int, bool) {
	var se *asb.SyntaxError
	if !errors.As(perr, &se) || errors.Is(perr, asb.ErrUnexpectedEOF) {
		return 0, 0, false
	}
	pos, ln := start, line
	buf := make([]byte, 64<<10)
	// Skip the first line of the failed entry so that resync makes progress.
	atLineStart := false
	for pos < f.Size {
		n, err := f.ra.ReadAt(buf, pos)
		if n == 0 {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return 0, 0, false
		}
		chunk := buf[:n]
		for i := 0; i < len(chunk); i++ {
			if atLineStart && pos+int64(i) > start && chunk[i] == '+' {
				// Need 4 bytes: "+ k " or "+ n ".
				var hdr [4]byte
				if m, _ := f.ra.ReadAt(hdr[:], pos+int64(i)); m == 4 && hdr[1] == ' ' && hdr[3] == ' ' && (hdr[2] == 'k' || hdr[2] == 'n') {
					// A "+ n" line right after a "+ k" line belongs to the
					// record of that (already passed) key line.
					if hdr[2] == 'n' && prevIsKey(f, pos+int64(i)) {
						atLineStart = false
						continue
					}
					return pos + int64(i), ln, true
				}
			}
			atLineStart = chunk[i] == '\n'
			if atLineStart {
				ln++
			}
		}
		pos += int64(n)
	}
	return 0, 0, false
}

// prevIsKey reports whether the line before off starts with "+ k ".
func prevIsKey(f *File, off int64) bool {
	lo := max(0, off-4096)
	buf := make([]byte, off-lo)
	n, _ := f.ra.ReadAt(buf, lo)
	buf = buf[:n]
	if len(buf) == 0 || buf[len(buf)-1] != '\n' {
		return false
	}
	buf = buf[:len(buf)-1]
	i := strings.LastIndexByte(string(buf), '\n')
	return strings.HasPrefix(string(buf[i+1:]), "+ k ")
}

// merge builds the backup's namespaces and sets from the per-file results.
func (b *Backup) merge(results []*fileResult) {
	type setAcc struct {
		ns, set string
		parts   []*group
	}
	accs := map[groupKey]*setAcc{}
	nsIdx := map[string]map[string]*asb.Index{}
	udfs := map[string]*Blob{}
	for i, r := range results {
		for k, g := range r.groups {
			a := accs[k]
			if a == nil {
				a = &setAcc{ns: k.ns, set: k.set}
				accs[k] = a
			}
			a.parts = append(a.parts, g)
		}
		for _, ix := range r.indexes {
			m := nsIdx[ix.Namespace]
			if m == nil {
				m = map[string]*asb.Index{}
				nsIdx[ix.Namespace] = m
			}
			m[ix.Name] = ix
		}
		mt := b.ModTime
		if f := b.Files[i]; f != nil {
			mt = f.ModTime
		}
		for _, u := range r.udfs {
			name := render.EscapeString(u.Name)
			udfs[name] = &Blob{Name: name, Content: u.Content, ModTime: mt}
		}
		r.groups = nil
	}
	nss := map[string]*Namespace{}
	getNS := func(name string) *Namespace {
		ns := nss[name]
		if ns == nil {
			ns = &Namespace{Name: name, DirName: render.EscapeString(name)}
			nss[name] = ns
		}
		return ns
	}
	// Deterministic order: by namespace then set.
	keys := make([]groupKey, 0, len(accs))
	for k := range accs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].ns != keys[j].ns {
			return keys[i].ns < keys[j].ns
		}
		return keys[i].set < keys[j].set
	})
	for _, k := range keys {
		a := accs[k]
		s := &Set{Name: a.set, b: b}
		if a.set == "" {
			s.DirName = render.NoSetDir
		} else {
			s.DirName = render.EscapeString(a.set)
		}
		n, nb := 0, 0
		for _, g := range a.parts {
			n += len(g.ents)
			nb += len(g.names)
		}
		s.ents = make([]entry, 0, n)
		s.names = make([]byte, 0, nb)
		for _, g := range a.parts {
			base := uint32(len(s.names))
			s.names = append(s.names, g.names...)
			for _, e := range g.ents {
				if e.nameLen > 0 {
					e.nameOff += base
				}
				s.ents = append(s.ents, e)
			}
			g.ents, g.names = nil, nil
		}
		s.build()
		b.Records += len(s.ents)
		ns := getNS(a.ns)
		ns.Sets = append(ns.Sets, s)
	}
	for nsName, m := range nsIdx {
		ns := getNS(nsName)
		for _, ix := range m {
			ns.Indexes = append(ns.Indexes, &Blob{Name: render.EscapeString(ix.Name), Content: render.AppendIndex(nil, ix), ModTime: b.ModTime})
		}
		sort.Slice(ns.Indexes, func(i, j int) bool { return ns.Indexes[i].Name < ns.Indexes[j].Name })
	}
	for _, ns := range nss {
		sort.Slice(ns.Sets, func(i, j int) bool { return ns.Sets[i].DirName < ns.Sets[j].DirName })
		b.Namespaces = append(b.Namespaces, ns)
	}
	sort.Slice(b.Namespaces, func(i, j int) bool { return b.Namespaces[i].DirName < b.Namespaces[j].DirName })
	for _, u := range udfs {
		b.UDFs = append(b.UDFs, u)
	}
	sort.Slice(b.UDFs, func(i, j int) bool { return b.UDFs[i].Name < b.UDFs[j].Name })
}

var hashSeed = maphash.MakeSeed()
