package fsnode

import (
	"context"
	"encoding/base64"
	"strconv"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"asbtools/asb"
	"asbtools/asbfs/index"
	"asbtools/asbfs/render"
)

// setDir lists the records of one set, straight from the index: no inode
// exists for a record until it is looked up.
type setDir struct {
	fs.Inode
	fs      *fsys
	set     *index.Set
	raw     bool
	inoBase uint64
	mtime   time.Time
}

var (
	_ = (fs.NodeGetattrer)((*setDir)(nil))
	_ = (fs.NodeLookuper)((*setDir)(nil))
	_ = (fs.NodeReaddirer)((*setDir)(nil))
)

func (d *setDir) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.fs.dirAttr(&out.Attr, d.mtime)
	return 0
}

func (d *setDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	i, ok := d.set.Lookup(name)
	if !ok {
		return nil, syscall.ENOENT
	}
	rf := &recordFile{fs: d.fs, set: d.set, i: i, raw: d.raw}
	rf.attr(&out.Attr)
	ch := d.NewInode(ctx, rf, fs.StableAttr{Mode: fuse.S_IFREG, Ino: d.inoBase + uint64(i)})
	return ch, 0
}

func (d *setDir) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	return &setStream{d: d}, 0
}

// setStream produces the entries of a set directory one at a time.
type setStream struct {
	d   *setDir
	i   int
	buf []byte
}

func (s *setStream) HasNext() bool { return s.i < s.d.set.Len() }

func (s *setStream) Next() (fuse.DirEntry, syscall.Errno) {
	s.buf = s.d.set.AppendName(s.buf[:0], s.i)
	e := fuse.DirEntry{Name: string(s.buf), Mode: fuse.S_IFREG, Ino: s.d.inoBase + uint64(s.i)}
	s.i++
	return e, 0
}

func (s *setStream) Close() {}

// recordFile is one record, as JSON or as raw .asb text.
type recordFile struct {
	fs.Inode
	fs  *fsys
	set *index.Set
	i   int
	raw bool
}

var (
	_ = (fs.NodeGetattrer)((*recordFile)(nil))
	_ = (fs.NodeOpener)((*recordFile)(nil))
	_ = (fs.NodeReader)((*recordFile)(nil))
	_ = (fs.NodeGetxattrer)((*recordFile)(nil))
	_ = (fs.NodeListxattrer)((*recordFile)(nil))
)

func (r *recordFile) attr(a *fuse.Attr) {
	var mt time.Time
	if f := r.set.Info(r.i).File; f != nil {
		mt = f.ModTime
	}
	r.fs.fileAttr(a, r.set.Size(r.i, r.raw), mt)
}

func (r *recordFile) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	r.attr(&out.Attr)
	return 0
}

// handle holds the content of an open record file.
type handle struct{ data []byte }

func (r *recordFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&(syscall.O_WRONLY|syscall.O_RDWR|syscall.O_TRUNC|syscall.O_APPEND) != 0 {
		return nil, 0, syscall.EROFS
	}
	var data []byte
	var err error
	if r.raw {
		data, err = r.set.Raw(r.i)
	} else {
		data, err = r.set.JSON(r.i)
	}
	if err != nil {
		r.fs.logf("%v", err)
		return nil, 0, syscall.EIO
	}
	return &handle{data: data}, fuse.FOPEN_KEEP_CACHE, 0
}

func (r *recordFile) Read(ctx context.Context, fh fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	h, ok := fh.(*handle)
	if !ok {
		return nil, syscall.EBADF
	}
	return readSlice(h.data, dest, off), 0
}

// Extended attribute names of record files.
const (
	XattrDigest     = "user.aerospike.digest"
	XattrNamespace  = "user.aerospike.namespace"
	XattrSet        = "user.aerospike.set"
	XattrKey        = "user.aerospike.key"
	XattrKeyType    = "user.aerospike.key_type"
	XattrGeneration = "user.aerospike.generation"
	XattrVoidTime   = "user.aerospike.void_time"
	XattrExpires    = "user.aerospike.expires"
	XattrTTL        = "user.aerospike.ttl"
)

// xattrs returns the record's extended attributes in listing order.
func (r *recordFile) xattrs() ([][2]string, error) {
	rec, err := r.set.Record(r.i)
	if err != nil {
		return nil, err
	}
	out := [][2]string{
		{XattrDigest, base64.StdEncoding.EncodeToString(rec.Digest[:])},
		{XattrNamespace, string(rec.Namespace)},
	}
	if len(rec.Set) > 0 {
		out = append(out, [2]string{XattrSet, string(rec.Set)})
	}
	if rec.Key.Type != asb.KeyNone {
		var v, t string
		switch rec.Key.Type {
		case asb.KeyInt:
			v, t = strconv.FormatInt(rec.Key.Int, 10), "int"
		case asb.KeyFloat:
			v, t = string(render.AppendFloat(nil, rec.Key.Float)), "float"
		case asb.KeyString, asb.KeyString64:
			v, t = string(rec.Key.Bytes), "str"
		case asb.KeyBytes:
			v, t = base64.StdEncoding.EncodeToString(rec.Key.Bytes), "bytes"
		}
		out = append(out, [2]string{XattrKey, v}, [2]string{XattrKeyType, t})
	}
	out = append(out, [2]string{XattrGeneration, strconv.Itoa(int(rec.Generation))},
		[2]string{XattrVoidTime, strconv.FormatUint(uint64(rec.VoidTime), 10)})
	if t, ok := render.ExpiryTime(rec.VoidTime); ok {
		ttl := int64(time.Until(t) / time.Second)
		out = append(out, [2]string{XattrExpires, t.Format(time.RFC3339)},
			[2]string{XattrTTL, strconv.FormatInt(max(ttl, 0), 10)})
	} else {
		out = append(out, [2]string{XattrTTL, "-1"})
	}
	return out, nil
}

func (r *recordFile) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	xs, err := r.xattrs()
	if err != nil {
		r.fs.logf("%v", err)
		return 0, syscall.EIO
	}
	for _, x := range xs {
		if x[0] != attr {
			continue
		}
		if len(dest) == 0 {
			return uint32(len(x[1])), 0
		}
		if len(dest) < len(x[1]) {
			return uint32(len(x[1])), syscall.ERANGE
		}
		return uint32(copy(dest, x[1])), 0
	}
	return 0, syscall.ENODATA
}

func (r *recordFile) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	xs, err := r.xattrs()
	if err != nil {
		r.fs.logf("%v", err)
		return 0, syscall.EIO
	}
	var list []byte
	for _, x := range xs {
		list = append(list, x[0]...)
		list = append(list, 0)
	}
	if len(dest) == 0 {
		return uint32(len(list)), 0
	}
	if len(dest) < len(list) {
		return uint32(len(list)), syscall.ERANGE
	}
	return uint32(copy(dest, list)), 0
}
