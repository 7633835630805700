package fsnode

import (
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"

	"asbtools/asb"
	"asbtools/asbfs/render"
)

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

// foreignXattr reports whether attr is in a namespace asbfs does not
// support at all: answering EOPNOTSUPP (not ENODATA) lets ls -l and the
// like stop asking for ACLs and security labels after the first file.
func foreignXattr(attr string) bool {
	return !strings.HasPrefix(attr, "user.")
}

// xattrNames lists the names of record i's attributes, from the index.
func (v *view) xattrNames(i int) []string {
	in := v.set.Info(i)
	names := []string{XattrDigest, XattrNamespace}
	if v.set.Name != "" {
		names = append(names, XattrSet)
	}
	if in.KeyType != asb.KeyNone {
		names = append(names, XattrKey, XattrKeyType)
	}
	names = append(names, XattrGeneration, XattrVoidTime)
	if in.Expires {
		names = append(names, XattrExpires)
	}
	return append(names, XattrTTL)
}

// xattr returns the value of record i's attribute attr.
func (v *view) xattr(i int, attr string) (string, bool, error) {
	if !strings.HasPrefix(attr, "user.aerospike.") {
		return "", false, nil
	}
	rec, err := v.set.Record(i)
	if err != nil {
		return "", false, err
	}
	switch attr {
	case XattrDigest:
		return base64.StdEncoding.EncodeToString(rec.Digest[:]), true, nil
	case XattrNamespace:
		return string(rec.Namespace), true, nil
	case XattrSet:
		return string(rec.Set), len(rec.Set) > 0, nil
	case XattrKey, XattrKeyType:
		var val, typ string
		switch rec.Key.Type {
		case asb.KeyInt:
			val, typ = strconv.FormatInt(rec.Key.Int, 10), "int"
		case asb.KeyFloat:
			val, typ = string(render.AppendFloat(nil, rec.Key.Float)), "float"
		case asb.KeyString, asb.KeyString64:
			val, typ = string(rec.Key.Bytes), "str"
		case asb.KeyBytes:
			val, typ = base64.StdEncoding.EncodeToString(rec.Key.Bytes), "bytes"
		default:
			return "", false, nil
		}
		if attr == XattrKeyType {
			return typ, true, nil
		}
		return val, true, nil
	case XattrGeneration:
		return strconv.Itoa(int(rec.Generation)), true, nil
	case XattrVoidTime:
		return strconv.FormatUint(uint64(rec.VoidTime), 10), true, nil
	case XattrExpires:
		t, ok := render.ExpiryTime(rec.VoidTime)
		return t.Format(time.RFC3339), ok, nil
	case XattrTTL:
		t, ok := render.ExpiryTime(rec.VoidTime)
		if !ok {
			return "-1", true, nil
		}
		return strconv.FormatInt(max(int64(time.Until(t)/time.Second), 0), 10), true, nil
	}
	return "", false, nil
}

// GetXAttr reads a record's extended attribute.
func (f *FS) GetXAttr(cancel <-chan struct{}, h *fuse.InHeader, attr string, dest []byte) (uint32, fuse.Status) {
	if foreignXattr(attr) {
		return 0, fuse.ENOTSUP
	}
	v, i, ok := f.record(h.NodeId)
	if !ok {
		return 0, fuse.ENOATTR
	}
	val, ok, err := v.xattr(i, attr)
	if err != nil {
		f.logf("%v", err)
		return 0, fuse.EIO
	}
	if !ok {
		return 0, fuse.ENOATTR
	}
	if len(dest) == 0 {
		return uint32(len(val)), fuse.OK
	}
	if len(dest) < len(val) {
		return uint32(len(val)), fuse.ERANGE
	}
	return uint32(copy(dest, val)), fuse.OK
}

// ListXAttr lists a record's extended attributes (from the index).
func (f *FS) ListXAttr(cancel <-chan struct{}, h *fuse.InHeader, dest []byte) (uint32, fuse.Status) {
	var list []byte
	if v, i, ok := f.record(h.NodeId); ok {
		for _, n := range v.xattrNames(i) {
			list = append(append(list, n...), 0)
		}
	}
	if len(dest) == 0 {
		return uint32(len(list)), fuse.OK
	}
	if len(dest) < len(list) {
		return uint32(len(list)), fuse.ERANGE
	}
	return uint32(copy(dest, list)), fuse.OK
}

// ParseDigest reads a digest written as 40 hexadecimal digits or in base64
// (URL-safe or standard, with or without padding).
func ParseDigest(s string) (d [20]byte, ok bool) {
	switch len(s) {
	case 40:
		if _, err := hex.Decode(d[:], []byte(s)); err == nil {
			return d, true
		}
	case 27, 28:
		s = strings.TrimSuffix(s, "=")
		for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.RawStdEncoding} {
			if n, err := enc.Decode(d[:], []byte(s)); err == nil && n == 20 {
				return d, true
			}
		}
	}
	return d, false
}
