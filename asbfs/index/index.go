// Package index builds the record-offset index asbfs serves a backup from.
//
// Open finds the backup files (a single .asb file, a backup directory, or a
// directory of backup directories) and reads every file once, in parallel
// across files and within them: a large file is cut into chunks at record
// boundaries, each chunk is parsed by its own worker, and the chunks are
// stitched back in order (a cut that turns out not to be a record boundary,
// e.g. a "+ n" line inside a string value, is detected and that stretch is
// parsed again sequentially). For each record the index keeps only what is
// needed to name it, list it and read it back without rescanning: its
// digest, file number, byte offset, the sizes of its raw and JSON views,
// and its file name when the name comes from a user key. An entry takes 40
// bytes plus the name bytes (none for records named by
// digest) plus about 6 bytes of name table and 5 of digest table (each
// filled to at most 80%), so the index of records with short keys stays
// under 80 bytes per record. Per-set summaries (type Summary) are
// counted from the parsed records while indexing.
// Entries are stored in blocks of 1024, so that building the index never
// copies or over-allocates the entry array.
//
// The size of a record's JSON view is measured while indexing by running
// the renderer in counting mode (render.RecordSize): no text is produced,
// and the size cannot differ from what reading the file returns.
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
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"asbtools/asb"
	"asbtools/asbfs/render"
	"asbtools/storage"
	"asbtools/stream"
)

// Options configure Open.
type Options struct {
	// Cipher and Key (the derived AES key) decrypt encrypted backups.
	Cipher stream.Cipher
	Key    []byte
	// Compress selects how files are decompressed (default: detect zstd).
	Compress Compression
	// Workers bounds the files and chunks indexed at once (0: GOMAXPROCS).
	Workers int
	// ChunkSize is the smallest chunk a file is cut into for parallel
	// parsing (0: 4 MiB; negative: never cut files).
	ChunkSize int64
	// TempDir holds the spill files of compressed backups ("" = os.TempDir).
	TempDir string
	// Store reads s3:// paths (nil: S3 is refused).
	Store storage.Store
	// Logf, when set, receives progress and problem reports.
	Logf func(format string, args ...any)

	reparsed *int // tests: counts the cuts that were not record boundaries
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
	// listed holds, for an S3 directory, each path's size as the listing
	// gave it (opened without a HEAD request); nil otherwise.
	listed map[string]int64
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
	// Stats is the namespace summary (JSON), computed while indexing.
	Stats []byte

	digests digestIndex
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

	err error // the parse error, formatted into Msg once its line is known
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

// fileJob is one backup file being indexed.
type fileJob struct {
	b    *Backup
	no   uint16
	path string
	// listedSize is the size the S3 listing gave (-1: not listed, the
	// object's size is asked for).
	listedSize int64
	file       *File
	start      int64 // end of the header
	line       int   // line of start
	err        error // the file cannot be read at all
	probs      []Problem
	chunks     []*chunk
	// reparsed counts the cuts that were not record boundaries.
	reparsed int
}

// Open indexes the backup(s) at path. Errors are returned only when nothing
// can be served (no backup files, a key that decrypts no file); problems in
// single files are recorded in Backup.Problems.
func Open(path string, opts Options) (*Tree, error) {
	// The index is almost all pointer-free blocks, which the garbage
	// collector does not scan, so collecting often while building it is
	// cheap, and it keeps the garbage of parsing (and of the temporary
	// lists of the hash tables) from piling up on top of a large index.
	if old := debug.SetGCPercent(10); old < 10 {
		debug.SetGCPercent(old)
	} else {
		defer debug.SetGCPercent(old)
	}
	multi, backups, err := locate(path, &opts)
	if err != nil {
		return nil, err
	}
	t := &Tree{Multi: multi, Backups: backups}
	var jobs []*fileJob
	for _, b := range backups {
		if len(b.paths) > 1<<16-1 {
			return nil, fmt.Errorf("backup %s: %d files, at most %d are supported", b.Path, len(b.paths), 1<<16-1)
		}
		b.Files = make([]*File, len(b.paths))
		for i, p := range b.paths {
			size, ok := b.listed[p]
			if !ok {
				size = -1
			}
			jobs = append(jobs, &fileJob{b: b, no: uint16(i), path: p, listedSize: size})
		}
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}

	// Open every file (decompressing compressed ones) and read its header.
	parallel(workers, len(jobs), func(i int) { jobs[i].open(&opts) })

	// Cut the files into chunks and parse them all.
	var total int64
	for _, j := range jobs {
		if j.err == nil {
			total += j.file.Size - j.start
		}
	}
	// About four chunks per worker, none smaller than 4 MiB.
	chunkSize := opts.ChunkSize
	if chunkSize == 0 {
		chunkSize = max(4<<20, total/int64(4*workers))
	}
	var chunks []*chunk
	for _, j := range jobs {
		if j.err == nil {
			j.plan(chunkSize)
			chunks = append(chunks, j.chunks...)
		}
	}
	parallel(workers, len(chunks), func(i int) { chunks[i].parse() })

	// Stitch each file's chunks back in order.
	for _, j := range jobs {
		if j.err == nil {
			j.stitch()
		}
	}
	if opts.reparsed != nil {
		for _, j := range jobs {
			*opts.reparsed += j.reparsed
		}
	}

	usable := 0
	var firstErr error
	for _, b := range backups {
		var mine []*fileJob
		for _, j := range jobs {
			if j.b == b {
				mine = append(mine, j)
			}
		}
		for _, j := range mine {
			b.Files[j.no] = j.file
			b.Problems = append(b.Problems, j.probs...)
			for _, c := range j.chunks {
				b.Problems = append(b.Problems, c.problems...)
			}
			if j.err == nil {
				usable++
			} else if firstErr == nil {
				firstErr = j.err
			}
		}
		b.merge(mine)
		if opts.Logf != nil {
			for _, p := range b.Problems {
				opts.Logf("%s", p)
			}
		}
	}
	if usable == 0 && firstErr != nil {
		// Nothing usable was opened: the error to report is the first
		// one, not that of releasing the read-only files.
		_ = t.Close()
		return nil, firstErr
	}
	return t, nil
}

// parallel runs fn(0..n-1) on at most workers goroutines.
func parallel(workers, n int, fn func(i int)) {
	ch := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ch {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		ch <- i
	}
	close(ch)
	wg.Wait()
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

// IndexBytes returns the memory held by the record index (entries, names,
// blocks and hash tables), for measurements.
func (t *Tree) IndexBytes() int64 {
	var n int64
	for _, b := range t.Backups {
		for _, ns := range b.Namespaces {
			n += ns.digests.bytes()
			for _, s := range ns.Sets {
				n += s.indexBytes()
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

type groupKey struct{ ns, set string }

// group collects the records of one (namespace, set) of one chunk.
type group struct {
	blocks []*block
	stats  *statsAcc
}

// add appends an entry and returns it with its block.
func (g *group) add() (*entry, *block) {
	var bl *block
	if n := len(g.blocks); n > 0 && len(g.blocks[n-1].ents) < blockLen {
		bl = g.blocks[n-1]
	} else {
		if n > 0 {
			g.blocks[n-1].trim()
		}
		bl = &block{ents: make([]entry, 0, blockLen)}
		if n > 0 {
			bl.names = make([]byte, 0, len(g.blocks[n-1].names)+len(g.blocks[n-1].names)/8)
		}
		g.blocks = append(g.blocks, bl)
	}
	bl.ents = bl.ents[:len(bl.ents)+1]
	return &bl.ents[len(bl.ents)-1], bl
}

// block holds up to blockLen consecutive entries of a set and the names
// they refer to.
type block struct {
	start int // index in the set of ents[0]
	// jsonStart and rawStart are the offsets of ents[0] in the set's
	// stream of JSON lines and in its raw text.
	jsonStart, rawStart int64
	ents                []entry
	names               []byte
}

const blockLen = 1024

// trim drops the spare capacity of the names.
func (bl *block) trim() {
	if cap(bl.names)-len(bl.names) > len(bl.names)/8+64 {
		bl.names = append([]byte(nil), bl.names...)
	}
}

// entry is the index of one record (entrySize bytes). The record's byte
// offset in its file has 40 bits: the low 32 in offLo, the high 8 in the
// top byte of nameHi (whose low 24 bits are the offset of the record's name
// in its block's names, at most 1024 names of at most 255 bytes each, plus
// collision names). Line numbers are not kept: they are counted again from
// the file when an error message needs one.
type entry struct {
	digest   [20]byte
	nameLen  uint8 // 0: named by digest
	keyType  uint8 // asb.KeyType, | expiresFlag when the void time is not 0
	file     uint16
	offLo    uint32
	jsonSize uint32
	rawSize  uint32
	nameHi   uint32
}

const entrySize = 40

// maxFileSize bounds the files an index can address (40-bit offsets).
const maxFileSize = 1 << 40

func (e *entry) off() int64 { return int64(e.offLo) | int64(e.nameHi>>24)<<32 }

func (e *entry) nameOff() uint32 { return e.nameHi & (1<<24 - 1) }

func (e *entry) setOff(off int64) {
	e.offLo, e.nameHi = uint32(off), e.nameHi&(1<<24-1)|uint32(off>>32)<<24
}

func (e *entry) setNameOff(n int) { e.nameHi = e.nameHi&^(1<<24-1) | uint32(n) }

// expiresFlag marks, in entry.keyType, a record with a void time (key types
// are ASCII letters, so the top bit is free).
const expiresFlag = 0x80

func (e *entry) kt() asb.KeyType { return asb.KeyType(e.keyType &^ expiresFlag) }

// open opens the file and reads its header.
func (j *fileJob) open(opts *Options) {
	f, err := openFile(j.path, j.listedSize, opts, &j.probs)
	if err != nil {
		j.probs = append(j.probs, Problem{File: j.path, End: -1, Msg: unwrapMsg(err, j.path)})
		j.err = err
		j.file = &File{Path: j.path}
		return
	}
	j.file = f
	rd := asb.NewReader(io.NewSectionReader(f.ra, 0, f.Size), asb.ReaderOptions{FileName: j.path, BufferSize: 16 << 10})
	h, err := rd.Header()
	if err != nil {
		msg := "cannot read the header: " + unwrapMsg(err, j.path)
		if opts.Cipher == stream.None && !f.Compressed {
			msg += " (encrypted backup? give -y and a key)"
		} else if opts.Cipher != stream.None {
			msg += " (wrong encryption key or cipher?)"
		}
		j.probs = append(j.probs, Problem{File: j.path, End: -1, Line: 1, Msg: msg})
		j.err = fmt.Errorf("%s: %s", j.path, msg)
		return
	}
	f.version = h.Version
	j.start, j.line = rd.Offset(), rd.Line()
}

// plan cuts the file's body into chunks of at least size bytes, each
// starting at what looks like the first line of a record.
func (j *fileJob) plan(size int64) {
	f := j.file
	body := f.Size - j.start
	n := int64(1)
	if size > 0 && body > size {
		n = body / size
	}
	j.chunks = []*chunk{{j: j, start: j.start, line: j.line}}
	for k := int64(1); k < n; k++ {
		off, _, ok, err := nextRecordStart(f, j.start+body*k/n)
		if err != nil {
			// The chunk that reaches this offset reads it again and
			// reports the error where it happens.
			break
		}
		last := j.chunks[len(j.chunks)-1]
		if !ok || off <= last.start {
			continue
		}
		last.limit = off
		j.chunks = append(j.chunks, &chunk{j: j, start: off})
	}
	j.chunks[len(j.chunks)-1].limit = f.Size
}

// stitch checks that every chunk starts where the previous one ended,
// parses again the stretches where it does not, and numbers the lines of
// the chunks that started with an unknown line number.
func (j *fileJob) stitch() {
	pos, line := j.start, j.line
	for k, c := range j.chunks {
		if c.start != pos {
			// The cut was not a record boundary (or the previous chunk ran
			// past it): parse from where the previous chunk ended.
			c = &chunk{j: j, start: pos, line: line, limit: max(pos, c.limit)}
			c.parse()
			j.reparsed++
			j.chunks[k] = c
		}
		if c.line == 0 {
			c.renumber(line)
		}
		// Problems are formatted here, once their lines are final.
		for i := range c.problems {
			if p := &c.problems[i]; p.err != nil {
				p.Msg = unwrapMsg(p.err, p.File)
			}
		}
		pos, line = c.end, c.endLine
	}
}

// chunk is a stretch of a file parsed by one worker.
type chunk struct {
	j     *fileJob
	start int64
	limit int64 // stop at the first entry that starts at or after limit
	line  int   // line of start; 0: unknown, lines are counted from 1

	end      int64 // where parsing stopped: an entry boundary or the file size
	endLine  int
	groups   map[groupKey]*group
	indexes  []*asb.Index
	udfs     []*asb.UDF
	problems []Problem
}

var readerOpts = asb.ReaderOptions{BufferSize: 256 << 10}

// parse indexes the entries of the chunk.
func (c *chunk) parse() {
	f, path, fileNo := c.j.file, c.j.path, c.j.no
	c.groups = map[groupKey]*group{}
	ro := readerOpts
	ro.FileName = path
	start, line := c.start, max(c.line, 1)
	rd := asb.NewBodyReader(io.NewSectionReader(f.ra, start, f.Size-start), f.version, start, line, ro)
	var g *group
	var gk groupKey
	now := epochSeconds(f.ModTime)
	defer func() { c.end, c.endLine = start, line }()
	for start < c.limit {
		e, err := rd.Next()
		if err == io.EOF {
			start, line = rd.Offset(), rd.Line()
			return
		}
		if err != nil {
			next, nline, ok, rerr := resync(f, start, line, err)
			p := Problem{File: path, Start: start, End: next, Line: line, err: err}
			if !ok {
				p.End = -1
			}
			c.problems = append(c.problems, p)
			if rerr != nil {
				c.problems = append(c.problems, Problem{File: path, Start: start, End: -1, Msg: unwrapMsg(rerr, path)})
			}
			if !ok {
				start = f.Size
				return
			}
			rd = asb.NewBodyReader(io.NewSectionReader(f.ra, next, f.Size-next), f.version, next, nline, ro)
			start, line = next, nline
			continue
		}
		end := rd.Offset()
		switch e.Kind {
		case asb.EntryRecord:
			r := e.Record
			if g == nil || gk.ns != string(r.Namespace) || gk.set != string(r.Set) {
				gk = groupKey{string(r.Namespace), string(r.Set)}
				g = c.groups[gk]
				if g == nil {
					g = &group{stats: newStatsAcc()}
					c.groups[gk] = g
				}
			}
			g.stats.add(r, fileNo, now)
			en, bl := g.add()
			kt := uint8(r.Key.Type)
			if r.VoidTime != 0 {
				kt |= expiresFlag
			}
			*en = entry{digest: r.Digest, keyType: kt, file: fileNo,
				jsonSize: uint32(render.RecordSize(r)), rawSize: uint32(end - e.Offset)}
			en.setOff(e.Offset)
			if r.Key.Type != asb.KeyNone {
				off := len(bl.names)
				var long bool
				bl.names, long, _ = render.AppendKeyName(bl.names, &r.Key)
				if long {
					bl.names = render.AppendDigestSuffix(bl.names, &r.Digest)
				}
				en.setNameOff(off)
				en.nameLen = uint8(len(bl.names) - off)
			}
		case asb.EntryIndex:
			ix := *e.Index
			ix.Paths = append([]asb.IndexPath(nil), ix.Paths...)
			c.indexes = append(c.indexes, &ix)
		case asb.EntryUDF:
			u := *e.UDF
			u.Content = append([]byte(nil), u.Content...)
			c.udfs = append(c.udfs, &u)
		}
		start, line = end, rd.Line()
	}
}

// renumber shifts the line numbers of a chunk parsed with lines counted
// from 1 so that its first line is line first.
func (c *chunk) renumber(first int) {
	d := first - 1
	c.line = first
	if c.endLine > 0 {
		c.endLine += d
	}
	for i := range c.problems {
		p := &c.problems[i]
		if p.Line > 0 {
			p.Line += d
		}
		var se *asb.SyntaxError
		if errors.As(p.err, &se) {
			cp := *se
			cp.Line += d
			p.err = &cp
		}
	}
}

// unwrapMsg returns err's text without a leading "path: ".
func unwrapMsg(err error, path string) string {
	return strings.TrimPrefix(err.Error(), path+": ")
}

// resync finds the next line after a syntax error at the entry starting at
// start that begins a record, so that indexing can go on after a corrupt
// span. It returns that offset and its line number; an error reading the
// file ends the search (ok false) and is returned.
func resync(f *File, start int64, line int, perr error) (int64, int, bool, error) {
	var se *asb.SyntaxError
	if !errors.As(perr, &se) || errors.Is(perr, asb.ErrUnexpectedEOF) {
		return 0, 0, false, nil
	}
	// Skip the first line of the failed entry so that resync makes progress.
	off, nl, ok, err := nextRecordStart(f, start+1)
	if line > 0 {
		nl += line
	}
	return off, nl, ok, err
}

// nextRecordStart returns the offset of the first line at or after from
// (from itself counts only when it follows a newline) that starts a record
// ("+ k " or "+ n ", but not a "+ n " line that follows a "+ k " line), and
// the number of newlines between from and that offset. ok is false when
// there is no such line; err reports a failure to read the file (which is
// not the same as finding no record).
func nextRecordStart(f *File, from int64) (off int64, nl int, ok bool, err error) {
	atLineStart := from == 0
	if from > 0 {
		var prev [1]byte
		n, err := readAtMost(f, prev[:], from-1)
		if err != nil {
			return 0, 0, false, err
		}
		atLineStart = n == 1 && prev[0] == '\n'
	}
	pos := from
	buf := make([]byte, 16<<10)
	for pos < f.Size {
		n, err := readAtMost(f, buf, pos)
		if err != nil {
			return 0, 0, false, err
		}
		if n == 0 {
			return 0, 0, false, fmt.Errorf("%s: %w at offset %d of %d", f.Path, io.ErrUnexpectedEOF, pos, f.Size)
		}
		chunk := buf[:n]
		for i := 0; i < len(chunk); i++ {
			if atLineStart && chunk[i] == '+' {
				var hdr [4]byte
				m, err := readAtMost(f, hdr[:], pos+int64(i))
				if err != nil {
					return 0, 0, false, err
				}
				if m == 4 && hdr[1] == ' ' && hdr[3] == ' ' && (hdr[2] == 'k' || hdr[2] == 'n') {
					// A "+ n" line right after a "+ k" line belongs to the
					// record of that key line.
					isKey, err := prevIsKey(f, pos+int64(i))
					if err != nil {
						return 0, 0, false, err
					}
					if hdr[2] == 'k' || !isKey {
						return pos + int64(i), nl, true, nil
					}
				}
			}
			atLineStart = chunk[i] == '\n'
			if atLineStart {
				nl++
			}
		}
		pos += int64(n)
	}
	return 0, 0, false, nil
}

// readAtMost reads up to len(p) bytes at off; reaching the end of the file
// is not an error.
func readAtMost(f *File, p []byte, off int64) (int, error) {
	n, err := f.ra.ReadAt(p, off)
	if err == io.EOF {
		err = nil
	}
	return n, err
}

// prevIsKey reports whether the line before off starts with "+ k ".
func prevIsKey(f *File, off int64) (bool, error) {
	lo := max(0, off-4096)
	buf := make([]byte, off-lo)
	n, err := readAtMost(f, buf, lo)
	if err != nil {
		return false, err
	}
	buf = buf[:n]
	if len(buf) == 0 || buf[len(buf)-1] != '\n' {
		return false, nil
	}
	buf = buf[:len(buf)-1]
	i := strings.LastIndexByte(string(buf), '\n')
	return strings.HasPrefix(string(buf[i+1:]), "+ k "), nil
}

// merge builds the backup's namespaces and sets from its files' chunks.
func (b *Backup) merge(jobs []*fileJob) {
	type setAcc struct {
		ns, set string
		blocks  []*block
		stats   *statsAcc
	}
	accs := map[groupKey]*setAcc{}
	nsIdx := map[string]map[string]*asb.Index{}
	udfs := map[string]*Blob{}
	for _, j := range jobs {
		mt := b.ModTime
		if j.file != nil {
			mt = j.file.ModTime
		}
		for _, c := range j.chunks {
			for k, g := range c.groups {
				a := accs[k]
				if a == nil {
					a = &setAcc{ns: k.ns, set: k.set, stats: newStatsAcc()}
					accs[k] = a
				}
				a.stats.merge(g.stats)
				if n := len(g.blocks); n > 0 {
					g.blocks[n-1].trim()
				}
				a.blocks = append(a.blocks, g.blocks...)
			}
			for _, ix := range c.indexes {
				m := nsIdx[ix.Namespace]
				if m == nil {
					m = map[string]*asb.Index{}
					nsIdx[ix.Namespace] = m
				}
				m[ix.Name] = ix
			}
			for _, u := range c.udfs {
				name := render.EscapeString(u.Name)
				udfs[name] = &Blob{Name: name, Content: u.Content, ModTime: mt}
			}
			c.groups = nil
		}
	}
	nss := map[string]*Namespace{}
	nsStats := map[string]*statsAcc{}
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
		s := &Set{Name: a.set, b: b, blocks: a.blocks}
		if a.set == "" {
			s.DirName = render.NoSetDir
		} else {
			s.DirName = render.EscapeString(a.set)
		}
		s.number()
		s.build()
		b.Records += s.n
		setName := a.set
		var name *string
		if a.set != "" {
			name = &setName
		}
		s.Stats = a.stats.summary(b, a.ns, []*Set{s}, name).json()
		ns := getNS(a.ns)
		ns.Sets = append(ns.Sets, s)
		if nsStats[a.ns] == nil {
			nsStats[a.ns] = newStatsAcc()
		}
		nsStats[a.ns].merge(a.stats)
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
		acc := nsStats[ns.Name]
		if acc == nil {
			acc = newStatsAcc()
		}
		ns.Stats = acc.summary(b, ns.Name, ns.Sets, nil).json()
		ns.buildDigests()
		b.Namespaces = append(b.Namespaces, ns)
	}
	sort.Slice(b.Namespaces, func(i, j int) bool { return b.Namespaces[i].DirName < b.Namespaces[j].DirName })
	for _, u := range udfs {
		b.UDFs = append(b.UDFs, u)
	}
	sort.Slice(b.UDFs, func(i, j int) bool { return b.UDFs[i].Name < b.UDFs[j].Name })
}

var hashSeed = maphash.MakeSeed()
