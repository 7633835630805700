// Package fsnode serves an indexed backup (package index) as a read-only
// FUSE file system, with go-fuse's raw protocol API.
//
// Layout of one backup (with several backups, each is a top-level directory
// named after its subdirectory):
//
//	<namespace>/<set>/<record>          record as typed JSON (package render)
//	<namespace>/%noset/<record>         records without a set
//	<namespace>/%sindex/<index>         secondary index definition (JSON)
//	<namespace>/%jsonl/<set>.jsonl      every record of a set, one per line
//	<namespace>/%digest/<digest>        any record by digest (not listed)
//	<namespace>/%stats.json             namespace summary
//	<namespace>/%stats/<set>.json       set summaries
//	%udf/<module>                       UDF module, its real content
//	%raw/<namespace>/<set>/<record>     the record as a one-record .asb file
//	%raw/<namespace>/%asb/<set>.asb     the set as one .asb file
//	%raw/<namespace>/%digest/<digest>   the record's .asb file, by digest
//	%errors                             unreadable spans, one per line
//
// Why the raw API: a record is described entirely by its position in the
// index, so its node ID (and inode number) is computed from that position
// and its attributes from the index entry. Nothing is allocated per record
// the kernel looks up, FORGET has nothing to release, and directory
// listings can carry every entry's attributes (READDIRPLUS) at no cost to
// this process. Only the small static part of the tree (namespaces, sets,
// blobs) has node objects.
//
// Record files carry extended attributes user.aerospike.{digest, namespace,
// set, key, key_type, generation, void_time, expires, ttl}; their names are
// listed from the index. Attributes of other namespaces (security.*,
// system.*, trusted.*) are not supported (EOPNOTSUPP), so tools like ls -l
// stop asking after the first file. Everything is immutable, so entries and
// attributes are cached by the kernel for an hour and file contents are
// kept in the page cache across opens.
package fsnode

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/hanwen/go-fuse/v2/fuse"

	"asbtools/asb"
	"asbtools/asbfs/index"
	"asbtools/asbfs/render"
)

// CacheTimeout is how long the kernel may cache entries and attributes.
const CacheTimeout = time.Hour

// recordBase is the first node ID of record files; IDs below it are the
// static nodes (ID = position in fsys.nodes + 1; the root is 1).
const recordBase = 1 << 40

// Reserved names of the views added by this package.
const (
	JSONLDir  = "%jsonl"
	DigestDir = "%digest"
	AsbDir    = "%asb"
	StatsFile = "%stats.json"
	StatsDir  = "%stats"
)

// Directories report a block size of dirBlksize, which the C library takes
// as the size of its getdents buffers (up to 1 MiB), and the kernel then
// asks for that much of a listing at once (up to maxRequest, its largest
// request): a huge set is listed in a few thousand requests instead of
// hundreds of thousands.
const (
	dirBlksize = 1 << 20
	maxRequest = 1 << 20
)

// Config configures Mount.
type Config struct {
	// AllowOther lets other users access the mount (-o allow_other).
	AllowOther bool
	// Options are extra mount options (-o), passed to the kernel.
	Options []string
	// Debug logs every FUSE request.
	Debug bool
	// Logf receives errors met while serving (unreadable records).
	Logf func(format string, args ...any)
	// PlusMax is the largest set whose listings carry the records'
	// attributes (READDIRPLUS); larger sets are listed by name only, so
	// that listing them does not make the kernel build an inode for every
	// record (0: DefaultPlusMax; negative: never).
	PlusMax int
}

// DefaultPlusMax is the default Config.PlusMax.
const DefaultPlusMax = 2_000_000

// Mount mounts t at dir and returns the running server; call Unmount (or
// Wait after an external fusermount -u) to end it.
func Mount(dir string, t *index.Tree, cfg Config) (*fuse.Server, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("mount point %s: %w", dir, unwrapPath(err))
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("mount point %s: not a directory", dir)
	}
	fsys := New(t, cfg)
	opts := &fuse.MountOptions{
		AllowOther: cfg.AllowOther,
		FsName:     "asbfs",
		// As root, mount(2) and umount(2) directly, so fusermount3 is not
		// needed; otherwise (or if that fails) go through it.
		DirectMount:  true,
		Name:         "asbfs",
		Options:      append([]string{"ro", "default_permissions"}, cfg.Options...),
		MaxReadAhead: 128 << 10,
		MaxWrite:     maxRequest,
		Debug:        cfg.Debug,
	}
	srv, err := fuse.NewServer(fsys, dir, opts)
	if err != nil {
		return nil, err
	}
	go srv.Serve()
	if err := srv.WaitMount(); err != nil {
		if uerr := srv.Unmount(); uerr != nil {
			return nil, fmt.Errorf("%w (unmounting: %v)", err, uerr)
		}
		return nil, err
	}
	return srv, nil
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

type kind uint8

const (
	kDir       kind = iota // static directory
	kBlob                  // small file held in memory
	kSetDir                // a set's records (view)
	kDigestDir             // a namespace's records by digest (views)
	kStream                // a set as one file (JSON lines or .asb)
)

// node is a static node: a directory, a blob, a set directory, a digest
// directory or a set stream.
type node struct {
	kind  kind
	mtime time.Time
	// kDir: children sorted by name.
	names []string
	ids   []uint64
	// kBlob: content.
	data []byte
	// kSetDir, kStream: the view of the set.
	view *view
	// kDigestDir: the namespace and the views of its sets (by position).
	ns    *index.Namespace
	views []*view
}

// view is one way of showing the records of a set: as JSON or as one-record
// .asb files (raw), with node IDs base..base+Len()-1.
type view struct {
	base uint64
	set  *index.Set
	ns   *index.Namespace
	raw  bool
	hdr  []byte // raw: the .asb header every record file starts with
	// hdrErr is set when that header could not be written: the view's
	// files then fail to open with EIO.
	hdrErr error
	mtime  time.Time
	plus   bool // listings carry attributes
}

// FS is the raw FUSE file system of an indexed backup.
type FS struct {
	fuse.RawFileSystem
	uid, gid uint32
	logf     func(format string, args ...any)
	nodes    []*node
	views    []*view // by base
	nextFh   atomic.Uint64
	mu       sync.Mutex
	handles  map[uint64]any
}

// New builds the file system showing t.
func New(t *index.Tree, cfg Config) *FS {
	f := &FS{RawFileSystem: fuse.NewDefaultRawFileSystem(), uid: uint32(os.Getuid()), gid: uint32(os.Getgid()),
		logf: cfg.Logf, handles: map[uint64]any{}}
	if f.logf == nil {
		f.logf = func(string, ...any) {}
	}
	plusMax := cfg.PlusMax
	if plusMax == 0 {
		plusMax = DefaultPlusMax
	}
	var mt time.Time
	if len(t.Backups) > 0 {
		mt = t.Backups[0].ModTime
	}
	b := &builder{f: f, plusMax: plusMax, next: recordBase}
	root := b.dir(mt)
	if !t.Multi {
		b.backup(root, t.Backups[0])
	} else {
		for _, bk := range t.Backups {
			d := b.dir(bk.ModTime)
			b.add(root, bk.Name, d)
			b.backup(d, bk)
		}
	}
	for _, n := range f.nodes {
		if n.kind == kDir {
			sortChildren(n)
		}
	}
	return f
}

// builder adds the static nodes.
type builder struct {
	f       *FS
	plusMax int
	next    uint64 // next record node ID
}

func (b *builder) node(n *node) uint64 {
	b.f.nodes = append(b.f.nodes, n)
	return uint64(len(b.f.nodes))
}

func (b *builder) dir(mt time.Time) uint64 { return b.node(&node{kind: kDir, mtime: mt}) }

func (b *builder) add(parent uint64, name string, id uint64) {
	p := b.f.nodes[parent-1]
	p.names = append(p.names, name)
	p.ids = append(p.ids, id)
}

func (b *builder) blob(parent uint64, name string, data []byte, mt time.Time) {
	b.add(parent, name, b.node(&node{kind: kBlob, data: data, mtime: mt}))
}

func (b *builder) view(ns *index.Namespace, s *index.Set, raw bool, mt time.Time) *view {
	v := &view{base: b.next, set: s, ns: ns, raw: raw, mtime: mt, plus: b.plusMax > 0 && s.Len() <= b.plusMax}
	if raw {
		v.hdr, v.hdrErr = rawHeader(ns, s)
	}
	b.next += uint64(s.Len())
	b.f.views = append(b.f.views, v)
	return v
}

func (b *builder) backup(dir uint64, bk *index.Backup) {
	mt := bk.ModTime
	raw := b.dir(mt)
	b.add(dir, render.RawDir, raw)
	for _, ns := range bk.Namespaces {
		nd, rd := b.dir(mt), b.dir(mt)
		b.add(dir, ns.DirName, nd)
		b.add(raw, ns.DirName, rd)
		jd, ad := b.dir(mt), b.dir(mt)
		jsonViews, rawViews := make([]*view, len(ns.Sets)), make([]*view, len(ns.Sets))
		for k, s := range ns.Sets {
			smt := setTime(s, mt)
			jv, rv := b.view(ns, s, false, smt), b.view(ns, s, true, smt)
			jsonViews[k], rawViews[k] = jv, rv
			b.add(nd, s.DirName, b.node(&node{kind: kSetDir, view: jv, mtime: smt}))
			b.add(rd, s.DirName, b.node(&node{kind: kSetDir, view: rv, mtime: smt}))
			b.add(jd, s.DirName+".jsonl", b.node(&node{kind: kStream, view: jv, mtime: smt}))
			b.add(ad, s.DirName+".asb", b.node(&node{kind: kStream, view: rv, mtime: smt}))
		}
		b.add(nd, JSONLDir, jd)
		b.add(rd, AsbDir, ad)
		b.add(nd, DigestDir, b.node(&node{kind: kDigestDir, ns: ns, views: jsonViews, mtime: mt}))
		b.add(rd, DigestDir, b.node(&node{kind: kDigestDir, ns: ns, views: rawViews, mtime: mt}))
		if len(ns.Indexes) > 0 {
			id := b.dir(mt)
			b.add(nd, render.SIndexDir, id)
			for _, ix := range ns.Indexes {
				b.blob(id, ix.Name, ix.Content, ix.ModTime)
			}
		}
		if ns.Stats != nil {
			b.blob(nd, StatsFile, ns.Stats, mt)
			sd := b.dir(mt)
			b.add(nd, StatsDir, sd)
			for _, s := range ns.Sets {
				b.blob(sd, s.DirName+".json", s.Stats, setTime(s, mt))
			}
		}
	}
	ud := b.dir(mt)
	b.add(dir, render.UDFDir, ud)
	for _, u := range bk.UDFs {
		b.blob(ud, u.Name, u.Content, u.ModTime)
	}
	var sb strings.Builder
	for _, p := range bk.Problems {
		sb.WriteString(p.String())
		sb.WriteByte('\n')
	}
	b.blob(dir, render.ErrorsFile, []byte(sb.String()), mt)
}

// setTime dates a set's directories by the backup file of its first record.
func setTime(s *index.Set, mt time.Time) time.Time {
	if s.Len() > 0 {
		if f := s.Info(0).File; f != nil {
			return f.ModTime
		}
	}
	return mt
}

// rawHeader returns the header of the .asb files of a raw view: the
// version of the set's files and the namespace.
func rawHeader(ns *index.Namespace, s *index.Set) ([]byte, error) {
	v := asb.Version31
	if s.Len() > 0 {
		if f := s.Info(0).File; f != nil && f.Version() != 0 {
			v = f.Version()
		}
	}
	var buf strings.Builder
	w := asb.NewWriter(&buf)
	if err := w.WriteHeader(&asb.Header{Version: v, Meta: []asb.Meta{asb.NamespaceMeta(ns.Name)}}); err != nil {
		return nil, fmt.Errorf("%s: raw header: %w", ns.Name, err)
	}
	if err := w.Flush(); err != nil {
		return nil, fmt.Errorf("%s: raw header: %w", ns.Name, err)
	}
	return []byte(buf.String()), nil
}

type byName struct{ n *node }

func (s byName) Len() int           { return len(s.n.names) }
func (s byName) Less(i, j int) bool { return s.n.names[i] < s.n.names[j] }
func (s byName) Swap(i, j int) {
	s.n.names[i], s.n.names[j] = s.n.names[j], s.n.names[i]
	s.n.ids[i], s.n.ids[j] = s.n.ids[j], s.n.ids[i]
}

func sortChildren(n *node) { sort.Sort(byName{n}) }

// static returns the static node id, or nil for a record.
func (f *FS) static(id uint64) *node {
	if id == 0 || id > uint64(len(f.nodes)) {
		return nil
	}
	return f.nodes[id-1]
}

// record returns the view and record of a record node ID.
func (f *FS) record(id uint64) (*view, int, bool) {
	if id < recordBase {
		return nil, 0, false
	}
	k := sort.Search(len(f.views), func(k int) bool { return f.views[k].base > id }) - 1
	if k < 0 {
		return nil, 0, false
	}
	v := f.views[k]
	i := int(id - v.base)
	if i >= v.set.Len() {
		return nil, 0, false
	}
	return v, i, true
}

// Attributes.

func (f *FS) dirAttr(a *fuse.Attr, id uint64, mt time.Time) {
	a.Ino = id
	a.Mode = fuse.S_IFDIR | 0o555
	a.Nlink = 2
	a.Owner = fuse.Owner{Uid: f.uid, Gid: f.gid}
	a.Blksize = dirBlksize
	a.SetTimes(&mt, &mt, &mt)
}

func (f *FS) fileAttr(a *fuse.Attr, id uint64, size int64, mt time.Time) {
	a.Ino = id
	a.Mode = fuse.S_IFREG | 0o444
	a.Nlink = 1
	a.Size = uint64(size)
	a.Blocks = (uint64(size) + 511) / 512
	a.Blksize = 4096
	a.Owner = fuse.Owner{Uid: f.uid, Gid: f.gid}
	a.SetTimes(&mt, &mt, &mt)
}

// attr fills the attributes of node id.
func (f *FS) attr(id uint64, a *fuse.Attr) bool {
	if n := f.static(id); n != nil {
		switch n.kind {
		case kBlob:
			f.fileAttr(a, id, int64(len(n.data)), n.mtime)
		case kStream:
			f.fileAttr(a, id, n.view.streamSize(), n.mtime)
		default:
			f.dirAttr(a, id, n.mtime)
		}
		return true
	}
	v, i, ok := f.record(id)
	if !ok {
		return false
	}
	f.recordAttr(a, v, i)
	return true
}

func (f *FS) recordAttr(a *fuse.Attr, v *view, i int) {
	in := v.set.Info(i)
	f.infoAttr(a, v, i, &in)
}

func (f *FS) infoAttr(a *fuse.Attr, v *view, i int, in *index.Info) {
	mt := v.mtime
	if in.File != nil {
		mt = in.File.ModTime
	}
	size := in.JSONSize
	if v.raw {
		size = int64(len(v.hdr)) + in.RawSize
	}
	f.fileAttr(a, v.base+uint64(i), size, mt)
}

func (v *view) streamSize() int64 {
	if v.raw {
		return int64(len(v.hdr)) + v.set.RawTotal()
	}
	return v.set.JSONTotal()
}

func entryOut(out *fuse.EntryOut, id uint64) {
	out.NodeId = id
	out.SetEntryTimeout(CacheTimeout)
	out.SetAttrTimeout(CacheTimeout)
}

// String names the file system.
func (f *FS) String() string { return "asbfs" }

// Lookup resolves name in directory header.NodeId.
func (f *FS) Lookup(cancel <-chan struct{}, header *fuse.InHeader, name string, out *fuse.EntryOut) fuse.Status {
	n := f.static(header.NodeId)
	if n == nil {
		return fuse.ENOTDIR
	}
	var id uint64
	switch n.kind {
	case kDir:
		k := sort.SearchStrings(n.names, name)
		if k < len(n.names) && n.names[k] == name {
			id = n.ids[k]
		}
	case kSetDir:
		if i, ok := n.view.set.Lookup(name); ok {
			id = n.view.base + uint64(i)
		}
	case kDigestDir:
		if d, ok := ParseDigest(name); ok {
			if k, i, ok := n.ns.LookupDigest(&d); ok {
				id = n.views[k].base + uint64(i)
			}
		}
	default:
		return fuse.ENOTDIR
	}
	if id == 0 {
		// A negative entry, cached like the others.
		out.NodeId = 0
		out.SetEntryTimeout(CacheTimeout)
		return fuse.OK
	}
	entryOut(out, id)
	f.attr(id, &out.Attr)
	return fuse.OK
}

// Forget has nothing to release: no node is created by a lookup.
func (f *FS) Forget(nodeid, nlookup uint64) {}

// GetAttr returns the attributes of a node.
func (f *FS) GetAttr(cancel <-chan struct{}, in *fuse.GetAttrIn, out *fuse.AttrOut) fuse.Status {
	if !f.attr(in.NodeId, &out.Attr) {
		return fuse.ENOENT
	}
	out.SetTimeout(CacheTimeout)
	return fuse.OK
}

// StatFs describes the file system.
func (f *FS) StatFs(cancel <-chan struct{}, in *fuse.InHeader, out *fuse.StatfsOut) fuse.Status {
	*out = fuse.StatfsOut{Bsize: 4096, Frsize: 4096, NameLen: 255, Files: uint64(len(f.nodes))}
	for _, v := range f.views {
		out.Files += uint64(v.set.Len())
	}
	return fuse.OK
}

// Directories.

// OpenDir opens a directory; listings are cached by the kernel.
func (f *FS) OpenDir(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	n := f.static(in.NodeId)
	if n == nil || n.kind == kBlob || n.kind == kStream {
		return fuse.ENOTDIR
	}
	out.OpenFlags = fuse.FOPEN_CACHE_DIR | fuse.FOPEN_KEEP_CACHE
	return fuse.OK
}

// ReleaseDir has nothing to release.
func (f *FS) ReleaseDir(in *fuse.ReleaseIn) {}

// ReadDir lists a directory from offset in.Offset: "." and ".." first,
// then the children (entry k has offset k+3).
func (f *FS) ReadDir(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return f.readDir(in, out, false)
}

// ReadDirPlus lists a directory with the entries' attributes, except for
// sets larger than Config.PlusMax.
func (f *FS) ReadDirPlus(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return f.readDir(in, out, true)
}

func (f *FS) readDir(in *fuse.ReadIn, out *fuse.DirEntryList, plus bool) fuse.Status {
	n := f.static(in.NodeId)
	if n == nil {
		return fuse.ENOTDIR
	}
	add := func(e fuse.DirEntry) (*fuse.EntryOut, bool) {
		if plus {
			eo := out.AddDirLookupEntry(e)
			return eo, eo != nil
		}
		return nil, out.AddDirEntry(e)
	}
	off := in.Offset
	for ; off < 2; off++ {
		name := "."
		if off == 1 {
			name = ".."
		}
		if _, ok := add(fuse.DirEntry{Name: name, Mode: fuse.S_IFDIR, Off: off + 1}); !ok {
			return fuse.OK
		}
	}
	switch n.kind {
	case kDir:
		for k := int(off - 2); k < len(n.names); k++ {
			id := n.ids[k]
			c := f.nodes[id-1]
			mode := uint32(fuse.S_IFDIR)
			if c.kind == kBlob || c.kind == kStream {
				mode = fuse.S_IFREG
			}
			eo, ok := add(fuse.DirEntry{Name: n.names[k], Mode: mode, Ino: id, Off: uint64(k) + 3})
			if !ok {
				return fuse.OK
			}
			if eo != nil {
				entryOut(eo, id)
				f.attr(id, &eo.Attr)
			}
		}
	case kSetDir:
		v := n.view
		v.set.Walk(int(off-2), func(i int, name []byte, in *index.Info) bool {
			id := v.base + uint64(i)
			// The name is copied into the reply at once.
			eo, ok := add(fuse.DirEntry{Name: unsafe.String(unsafe.SliceData(name), len(name)), Mode: fuse.S_IFREG, Ino: id, Off: uint64(i) + 3})
			if ok && eo != nil && v.plus {
				entryOut(eo, id)
				f.infoAttr(&eo.Attr, v, i, in)
			}
			return ok
		})
	}
	return fuse.OK
}

// Files.

// recordHandle holds the content of an open record file.
type recordHandle struct{ data []byte }

func (f *FS) addHandle(h any) uint64 {
	fh := f.nextFh.Add(1)
	f.mu.Lock()
	f.handles[fh] = h
	f.mu.Unlock()
	return fh
}

func (f *FS) handle(fh uint64) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.handles[fh]
}

// Open opens a file: a record is rendered (or read) whole into its handle;
// a stream is rendered as it is read.
func (f *FS) Open(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	if in.Flags&(syscall.O_WRONLY|syscall.O_RDWR|syscall.O_TRUNC|syscall.O_APPEND) != 0 {
		return fuse.EROFS
	}
	out.OpenFlags = fuse.FOPEN_KEEP_CACHE
	if n := f.static(in.NodeId); n != nil {
		switch n.kind {
		case kBlob:
			return fuse.OK
		case kStream:
			if n.view.hdrErr != nil {
				f.logf("%v", n.view.hdrErr)
				return fuse.EIO
			}
			out.Fh = f.addHandle(newStream(n.view))
			return fuse.OK
		}
		return fuse.EISDIR
	}
	v, i, ok := f.record(in.NodeId)
	if !ok {
		return fuse.ENOENT
	}
	var data []byte
	var err error
	if v.raw && v.hdrErr != nil {
		err = v.hdrErr
	} else if v.raw {
		var raw []byte
		raw, err = v.set.Raw(i)
		data = append(append(make([]byte, 0, len(v.hdr)+len(raw)), v.hdr...), raw...)
	} else {
		data, err = v.set.JSON(i)
	}
	if err != nil {
		f.logf("%v", err)
		return fuse.EIO
	}
	out.Fh = f.addHandle(&recordHandle{data: data})
	return fuse.OK
}

// Read reads from an open file.
func (f *FS) Read(cancel <-chan struct{}, in *fuse.ReadIn, buf []byte) (fuse.ReadResult, fuse.Status) {
	if n := f.static(in.NodeId); n != nil && n.kind == kBlob {
		return readSlice(n.data, buf, int64(in.Offset)), fuse.OK
	}
	switch h := f.handle(in.Fh).(type) {
	case *recordHandle:
		return readSlice(h.data, buf, int64(in.Offset)), fuse.OK
	case *stream:
		data, err := h.read(buf, int64(in.Offset))
		if err != nil {
			f.logf("%v", err)
			return nil, fuse.EIO
		}
		return fuse.ReadResultData(data), fuse.OK
	}
	return nil, fuse.EBADF
}

// Release forgets an open file's handle.
func (f *FS) Release(cancel <-chan struct{}, in *fuse.ReleaseIn) {
	if in.Fh != 0 {
		f.mu.Lock()
		delete(f.handles, in.Fh)
		f.mu.Unlock()
	}
}

func readSlice(data, dest []byte, off int64) fuse.ReadResult {
	if off >= int64(len(data)) {
		return fuse.ReadResultData(nil)
	}
	end := min(int64(len(data)), off+int64(len(dest)))
	return fuse.ReadResultData(data[off:end])
}

// Everything that would change the file system fails with EROFS (the "ro"
// mount option makes the kernel refuse most of it before it gets here).

func (f *FS) SetAttr(cancel <-chan struct{}, in *fuse.SetAttrIn, out *fuse.AttrOut) fuse.Status {
	return fuse.EROFS
}
func (f *FS) Mknod(cancel <-chan struct{}, in *fuse.MknodIn, name string, out *fuse.EntryOut) fuse.Status {
	return fuse.EROFS
}
func (f *FS) Mkdir(cancel <-chan struct{}, in *fuse.MkdirIn, name string, out *fuse.EntryOut) fuse.Status {
	return fuse.EROFS
}
func (f *FS) Unlink(cancel <-chan struct{}, h *fuse.InHeader, name string) fuse.Status {
	return fuse.EROFS
}
func (f *FS) Rmdir(cancel <-chan struct{}, h *fuse.InHeader, name string) fuse.Status {
	return fuse.EROFS
}
func (f *FS) Rename(cancel <-chan struct{}, in *fuse.RenameIn, oldName, newName string) fuse.Status {
	return fuse.EROFS
}
func (f *FS) Link(cancel <-chan struct{}, in *fuse.LinkIn, name string, out *fuse.EntryOut) fuse.Status {
	return fuse.EROFS
}
func (f *FS) Symlink(cancel <-chan struct{}, h *fuse.InHeader, target, name string, out *fuse.EntryOut) fuse.Status {
	return fuse.EROFS
}
func (f *FS) Create(cancel <-chan struct{}, in *fuse.CreateIn, name string, out *fuse.CreateOut) fuse.Status {
	return fuse.EROFS
}
func (f *FS) SetXAttr(cancel <-chan struct{}, in *fuse.SetXAttrIn, attr string, data []byte) fuse.Status {
	return fuse.EROFS
}
func (f *FS) RemoveXAttr(cancel <-chan struct{}, h *fuse.InHeader, attr string) fuse.Status {
	return fuse.EROFS
}
func (f *FS) Write(cancel <-chan struct{}, in *fuse.WriteIn, data []byte) (uint32, fuse.Status) {
	return 0, fuse.EROFS
}
