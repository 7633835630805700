// Package fsnode serves an indexed backup (package index) as a read-only
// FUSE file system with go-fuse.
//
// Layout of one backup (with several backups, each is a top-level directory
// named after its subdirectory):
//
//	<namespace>/<set>/<record>          record as typed JSON (package render)
//	<namespace>/%noset/<record>         records without a set
//	<namespace>/%sindex/<index>         secondary index definition (JSON)
//	%udf/<module>                       UDF module, its real content
//	%raw/<namespace>/<set>/<record>     the record's .asb text
//	%errors                             unreadable spans, one per line
//
// Record files carry extended attributes user.aerospike.{digest, namespace,
// set, key, key_type, generation, void_time, expires, ttl}. Everything is
// immutable, so entries and attributes are cached by the kernel for an hour
// and file contents are kept in the page cache across opens.
package fsnode

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"asbtools/asbfs/index"
	"asbtools/asbfs/render"
)

// CacheTimeout is how long the kernel may cache entries and attributes.
const CacheTimeout = time.Hour

// firstRecordIno is where the inode numbers of record files start; the
// directories and small files use automatic numbers from firstAutoIno.
const (
	firstRecordIno = 1 << 32
	firstAutoIno   = 1 << 62
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
}

// fsys holds what all nodes share.
type fsys struct {
	uid, gid uint32
	logf     func(format string, args ...any)
	nextIno  atomic.Uint64
}

// NewRoot returns the root node of the file system showing t.
func NewRoot(t *index.Tree, logf func(string, ...any)) fs.InodeEmbedder {
	f := &fsys{uid: uint32(os.Getuid()), gid: uint32(os.Getgid()), logf: logf}
	f.nextIno.Store(firstRecordIno)
	var mt time.Time
	if len(t.Backups) > 0 {
		mt = t.Backups[0].ModTime
	}
	return &rootNode{dirNode: dirNode{fs: f, mtime: mt}, tree: t}
}

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
	timeout := CacheTimeout
	opts := &fs.Options{
		MountOptions: fuse.MountOptions{
			AllowOther: cfg.AllowOther,
			FsName:     "asbfs",
			// As root, mount(2) and umount(2) directly, so fusermount3
			// is not needed; otherwise (or if that fails) go through it.
			DirectMount: true,
			Name:        "asbfs",
			Options:     append([]string{"ro", "default_permissions"}, cfg.Options...),
			// Set directories are listed from the index with no
			// per-record work. With READDIRPLUS every listing would also
			// look up each record and keep an inode for it (in the
			// kernel and here); without it only ls -l, du and the like
			// pay for lookups.
			DisableReadDirPlus: true,
			MaxReadAhead:       128 << 10,
			Debug:              cfg.Debug,
		},
		EntryTimeout:      &timeout,
		AttrTimeout:       &timeout,
		NegativeTimeout:   &timeout,
		FirstAutomaticIno: firstAutoIno,
		UID:               uint32(os.Getuid()),
		GID:               uint32(os.Getgid()),
	}
	logf := cfg.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	return fs.Mount(dir, NewRoot(t, logf), opts)
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// dirNode is a read-only directory whose children are added up front.
type dirNode struct {
	fs.Inode
	fs    *fsys
	mtime time.Time
}

var _ = (fs.NodeGetattrer)((*dirNode)(nil))

func (d *dirNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.fs.dirAttr(&out.Attr, d.mtime)
	return 0
}

func (f *fsys) dirAttr(a *fuse.Attr, mt time.Time) {
	a.Mode = fuse.S_IFDIR | 0o555
	a.Nlink = 2
	a.Owner = fuse.Owner{Uid: f.uid, Gid: f.gid}
	a.SetTimes(&mt, &mt, &mt)
}

func (f *fsys) fileAttr(a *fuse.Attr, size int64, mt time.Time) {
	a.Mode = fuse.S_IFREG | 0o444
	a.Nlink = 1
	a.Size = uint64(size)
	a.Blocks = (uint64(size) + 511) / 512
	a.Blksize = 4096
	a.Owner = fuse.Owner{Uid: f.uid, Gid: f.gid}
	a.SetTimes(&mt, &mt, &mt)
}

// rootNode builds the static part of the tree when mounted.
type rootNode struct {
	dirNode
	tree *index.Tree
}

var _ = (fs.NodeOnAdder)((*rootNode)(nil))

func (r *rootNode) OnAdd(ctx context.Context) {
	if !r.tree.Multi {
		r.addBackup(ctx, &r.Inode, r.tree.Backups[0])
		return
	}
	for _, b := range r.tree.Backups {
		d := r.newDir(ctx, &r.Inode, b.Name, b.ModTime)
		r.addBackup(ctx, d, b)
	}
}

func (r *rootNode) newDir(ctx context.Context, parent *fs.Inode, name string, mt time.Time) *fs.Inode {
	ch := parent.NewPersistentInode(ctx, &dirNode{fs: r.fs, mtime: mt}, fs.StableAttr{Mode: fuse.S_IFDIR})
	parent.AddChild(name, ch, false)
	return ch
}

func (r *rootNode) addBlob(ctx context.Context, parent *fs.Inode, name string, data []byte, mt time.Time) {
	ch := parent.NewPersistentInode(ctx, &blobFile{fs: r.fs, data: data, mtime: mt}, fs.StableAttr{Mode: fuse.S_IFREG})
	parent.AddChild(name, ch, false)
}

func (r *rootNode) addBackup(ctx context.Context, dir *fs.Inode, b *index.Backup) {
	raw := r.newDir(ctx, dir, render.RawDir, b.ModTime)
	for _, ns := range b.Namespaces {
		nd := r.newDir(ctx, dir, ns.DirName, b.ModTime)
		rd := r.newDir(ctx, raw, ns.DirName, b.ModTime)
		for _, s := range ns.Sets {
			r.addSet(ctx, nd, s, false)
			r.addSet(ctx, rd, s, true)
		}
		if len(ns.Indexes) > 0 {
			id := r.newDir(ctx, nd, render.SIndexDir, b.ModTime)
			for _, ix := range ns.Indexes {
				r.addBlob(ctx, id, ix.Name, ix.Content, ix.ModTime)
			}
		}
	}
	ud := r.newDir(ctx, dir, render.UDFDir, b.ModTime)
	for _, u := range b.UDFs {
		r.addBlob(ctx, ud, u.Name, u.Content, u.ModTime)
	}
	var sb strings.Builder
	for _, p := range b.Problems {
		sb.WriteString(p.String())
		sb.WriteByte('\n')
	}
	r.addBlob(ctx, dir, render.ErrorsFile, []byte(sb.String()), b.ModTime)
}

func (r *rootNode) addSet(ctx context.Context, parent *fs.Inode, s *index.Set, raw bool) {
	base := r.fs.nextIno.Add(uint64(s.Len())) - uint64(s.Len())
	mt := time.Time{}
	if s.Len() > 0 {
		if f := s.Info(0).File; f != nil {
			mt = f.ModTime
		}
	}
	ch := parent.NewPersistentInode(ctx, &setDir{fs: r.fs, set: s, raw: raw, inoBase: base, mtime: mt}, fs.StableAttr{Mode: fuse.S_IFDIR})
	parent.AddChild(s.DirName, ch, false)
}

// blobFile is a small file held in memory.
type blobFile struct {
	fs.Inode
	fs    *fsys
	data  []byte
	mtime time.Time
}

var (
	_ = (fs.NodeGetattrer)((*blobFile)(nil))
	_ = (fs.NodeOpener)((*blobFile)(nil))
	_ = (fs.NodeReader)((*blobFile)(nil))
)

func (b *blobFile) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	b.fs.fileAttr(&out.Attr, int64(len(b.data)), b.mtime)
	return 0
}

func (b *blobFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&(syscall.O_WRONLY|syscall.O_RDWR|syscall.O_TRUNC|syscall.O_APPEND) != 0 {
		return nil, 0, syscall.EROFS
	}
	return nil, fuse.FOPEN_KEEP_CACHE, 0
}

func (b *blobFile) Read(ctx context.Context, fh fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	return readSlice(b.data, dest, off), 0
}

func readSlice(data, dest []byte, off int64) fuse.ReadResult {
	if off >= int64(len(data)) {
		return fuse.ReadResultData(nil)
	}
	end := min(int64(len(data)), off+int64(len(dest)))
	return fuse.ReadResultData(data[off:end])
}
