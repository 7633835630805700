package state

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// maxChunk bounds single allocations while reading lengths from a file that
// may be damaged: data is read in chunks so a bogus length fails on the short
// read instead of allocating gigabytes.
const maxChunk = 1 << 20

type decoder struct {
	r   io.Reader
	err error
}

func (d *decoder) full(p []byte) bool {
	if d.err != nil {
		return false
	}
	_, err := io.ReadFull(d.r, p)
	if err != nil {
		d.err = err
		return false
	}
	return true
}

func (d *decoder) u64(v *uint64) bool {
	var b [8]byte
	if !d.full(b[:]) {
		return false
	}
	*v = binary.BigEndian.Uint64(b[:])
	return true
}

func (d *decoder) u32(v *uint32) bool {
	var b [4]byte
	if !d.full(b[:]) {
		return false
	}
	*v = binary.BigEndian.Uint32(b[:])
	return true
}

// bytes reads n bytes without trusting n for the allocation size.
func (d *decoder) bytes(n uint64) ([]byte, bool) {
	if n <= maxChunk {
		b := make([]byte, n)
		return b, d.full(b)
	}
	var buf bytes.Buffer
	got, err := io.CopyN(&buf, d.r, int64(min(n, 1<<62)))
	if err != nil || uint64(got) != n {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		d.err = err
		return nil, false
	}
	return buf.Bytes(), true
}

func (d *decoder) ioErr() error {
	if d.err == nil || errors.Is(d.err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return d.err
}

// Read parses a legacy .state file and applies the legacy load-time checks
// (Validate). Errors are *msg.Error values carrying the legacy ERR lines.
// Unlike legacy, Read does not reopen the saved backup files; see OpenAppend.
func Read(r io.Reader) (*State, error) {
	d := &decoder{r: bufio.NewReaderSize(r, 64<<10)}
	s := &State{}
	part := make([]byte, partitionSize)
	if !d.full(part) {
		return nil, loadErr(d.ioErr(), "Unable to read all data from the backup state file")
	}
	for p := 0; p < NumPartitions; p++ {
		w := binary.LittleEndian.Uint64(part[8*(p/partsPerWord):])
		s.Partitions[p].Status = Status((w >> (3 * (p % partsPerWord))) & 7)
		copy(s.Partitions[p].Digest[:], part[statusSize+20*p:])
	}
	fields := []struct {
		u64 *uint64
		u32 *uint32
		msg string
	}{
		{u64: &s.FileCount, msg: "Error while reading file count from backup state"},
		{u32: &s.IndexCount, msg: "Error while reading index count from backup state"},
		{u32: &s.UDFCount, msg: "Error while reading udf count from backup state"},
		{u64: &s.RecTotal, msg: "Error while reading record count total from backup state"},
		{u64: &s.ByteTotal, msg: "Error while reading byte count total from backup state"},
		{u64: &s.RecCommitted, msg: "Error while reading record count total committed from backup state"},
		{u64: &s.ByteCommitted, msg: "Error while reading byte count total committed from backup state"},
	}
	for _, f := range fields {
		ok := false
		if f.u64 != nil {
			ok = d.u64(f.u64)
		} else {
			ok = d.u32(f.u32)
		}
		if !ok {
			return nil, loadErr(d.ioErr(), f.msg)
		}
	}
	var n uint64
	if !d.u64(&n) {
		return nil, loadErr(d.ioErr(), "Failed to read the number of backup files from the backup state file")
	}
	for i := uint64(0); i < n; i++ {
		var e FileEntry
		if err := d.entry(&e); err != nil {
			return nil, err
		}
		s.Files = append(s.Files, e)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

const deserializeIO = "Unable to deserialize io_proxy"

func (d *decoder) entry(e *FileEntry) error {
	var h [ioHeaderSize]byte
	if !d.full(h[:]) {
		return loadErr(d.ioErr(), "Reading serialized io_proxy from file failed", deserializeIO)
	}
	e.ByteCount = binary.BigEndian.Uint64(h[0:])
	e.RawByteCount = binary.BigEndian.Uint64(h[8:])
	e.Num = binary.BigEndian.Uint32(h[16:])
	e.Flags = h[20]
	copy(e.IV[:], h[21:37])
	if err := d.buffer(&e.Main); err != nil {
		return err
	}
	if e.Flags&0x04 != 0 {
		e.Compressed = &Buffer{}
		if err := d.buffer(e.Compressed); err != nil {
			return err
		}
	}
	if e.Flags&0x03 != 0 {
		e.Encrypted = &Buffer{}
		if err := d.buffer(e.Encrypted); err != nil {
			return err
		}
	}
	var fp [9]byte
	if !d.full(fp[:]) {
		return loadErr(d.ioErr(), "Failed to read serialized metadata for io proxy", deserializeIO)
	}
	e.FilePos = binary.BigEndian.Uint64(fp[:])
	e.FileFlags = fp[8]
	var nameLen uint64
	if !d.u64(&nameLen) {
		return loadErr(d.ioErr(), "Failed to read file name length for serialized io proxy", deserializeIO)
	}
	name, ok := d.bytes(nameLen)
	if !ok {
		return loadErr(d.ioErr(), "Unable to read file name of serialized io proxy", deserializeIO)
	}
	e.Path = string(name)
	if e.IsS3() {
		if err := d.s3(e); err != nil {
			return err
		}
	}
	if e.Num > 15 {
		return loadErr(nil, fmt.Sprintf("Invalid AES block position %d for file %s in the backup state file", e.Num, e.Path), deserializeIO)
	}
	if !d.u64(&e.RecCount) {
		return loadErr(d.ioErr(), "Failed to read rec_count_file from backup state file")
	}
	return nil
}

func (d *decoder) buffer(b *Buffer) error {
	var size, pos uint64
	if !d.u64(&size) || !d.u64(&pos) || !d.u64(&b.DataPos) {
		return loadErr(d.ioErr(), "Deserializing consumer buffer fields from file failed", deserializeIO)
	}
	b.Size = size
	if pos > size || b.DataPos > pos {
		// Legacy would overrun its buffer here; refuse instead.
		return loadErr(nil, fmt.Sprintf("Invalid consumer buffer in the backup state file: size %d, pos %d, data_pos %d", size, pos, b.DataPos), deserializeIO)
	}
	data, ok := d.bytes(pos)
	if !ok {
		return loadErr(d.ioErr(), "Deserializing consumer buffer data from file failed", deserializeIO)
	}
	b.Data = data
	return nil
}

func (d *decoder) str32() ([]byte, bool) {
	var n uint32
	if !d.u32(&n) {
		return nil, false
	}
	return d.bytes(uint64(n))
}

func (d *decoder) s3(e *FileEntry) error {
	u := &S3Upload{}
	fail := func(msg string) error { return loadErr(d.ioErr(), msg, deserializeIO) }
	if !d.u32(&u.PartNumber) {
		return fail("Failed to read part number of UploadManager from file")
	}
	id, ok := d.str32()
	if !ok {
		return fail("Failed to read upload_id of UploadManager from file")
	}
	u.UploadID = string(id)
	if !d.u64(&u.MinPartSize) {
		return fail("Failed to read min_part_size of UploadManager from file")
	}
	if u.Pending, ok = d.str32(); !ok {
		return fail("Failed to deserialize buffer of UploadManager from file")
	}
	var n uint32
	if !d.u32(&n) {
		return loadErr(d.ioErr(), "Failed to read vector list size from file",
			"Failed to deserialize part_list vector of UploadManager from file", deserializeIO)
	}
	for i := uint32(0); i < n; i++ {
		var p S3Part
		if !d.u32(&p.PartNumber) {
			return loadErr(d.ioErr(), "Failed to read part_number for completed part of UploadManager from file",
				"Failed to deserialize part_list vector of UploadManager from file", deserializeIO)
		}
		tag, ok := d.str32()
		if !ok {
			return loadErr(d.ioErr(), "Failed to deserialize etag of completed part from file",
				"Failed to deserialize part_list vector of UploadManager from file", deserializeIO)
		}
		p.ETag = string(tag)
		u.Parts = append(u.Parts, p)
	}
	if !d.u32(&n) {
		return loadErr(d.ioErr(), "Failed to read vector list size from file",
			"Failed to deserialize failed_part_list vector of UploadManager from file", deserializeIO)
	}
	for i := uint32(0); i < n; i++ {
		var p S3FailedPart
		if !d.u32(&p.PartNumber) {
			return loadErr(d.ioErr(), "Failed to read part_number for failed part of UploadManager from file",
				"Failed to deserialize failed_part_list vector of UploadManager from file", deserializeIO)
		}
		data, ok := d.str32()
		if !ok {
			return loadErr(d.ioErr(), "Failed to serialize buffer of UploadManager",
				"Failed to deserialize failed_part_list vector of UploadManager from file", deserializeIO)
		}
		p.Data = data
		u.Failed = append(u.Failed, p)
	}
	e.S3 = u
	return nil
}

// Bytes returns the legacy serialisation of s.
func (s *State) Bytes() []byte {
	var c encoder
	s.encode(&c)
	return c.b
}

// WriteTo writes the legacy serialisation of s to w. Large byte fields
// (stream buffers, the pending and failed S3 parts, up to a part size
// each) are written from where they are, not copied into the encoding.
func (s *State) WriteTo(w io.Writer) (int64, error) {
	c := encoder{w: w}
	s.encode(&c)
	c.flush()
	return c.n, c.err
}

// encoder collects a serialisation in b; with w set, it writes b to w
// before each large field and writes that field directly.
type encoder struct {
	b   []byte
	w   io.Writer
	n   int64
	err error
}

// directMin is the size from which a field is written directly.
const directMin = 64 << 10

// data adds p to the serialisation.
func (c *encoder) data(p []byte) {
	if c.w == nil || len(p) < directMin {
		c.b = append(c.b, p...)
		return
	}
	c.flush()
	c.write(p)
}

func (c *encoder) flush() {
	c.write(c.b)
	c.b = c.b[:0]
}

func (c *encoder) write(p []byte) {
	if c.err != nil || len(p) == 0 {
		return
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
}

func (s *State) encode(c *encoder) {
	b := make([]byte, headerSize, headerSize+256*len(s.Files))
	words := s.StatusWords()
	for i, w := range words {
		binary.LittleEndian.PutUint64(b[8*i:], w)
	}
	for p := range s.Partitions {
		copy(b[statusSize+20*p:], s.Partitions[p].Digest[:])
	}
	o := partitionSize
	binary.BigEndian.PutUint64(b[o:], s.FileCount)
	binary.BigEndian.PutUint32(b[o+8:], s.IndexCount)
	binary.BigEndian.PutUint32(b[o+12:], s.UDFCount)
	binary.BigEndian.PutUint64(b[o+16:], s.RecTotal)
	binary.BigEndian.PutUint64(b[o+24:], s.ByteTotal)
	binary.BigEndian.PutUint64(b[o+32:], s.RecCommitted)
	binary.BigEndian.PutUint64(b[o+40:], s.ByteCommitted)
	c.b = binary.BigEndian.AppendUint64(b[:headerSize-8], uint64(len(s.Files)))
	for i := range s.Files {
		s.Files[i].encode(c)
	}
}

func (c *encoder) buffer(buf *Buffer) {
	size := max(buf.Size, uint64(len(buf.Data)))
	c.b = binary.BigEndian.AppendUint64(c.b, size)
	c.b = binary.BigEndian.AppendUint64(c.b, uint64(len(buf.Data)))
	c.b = binary.BigEndian.AppendUint64(c.b, min(buf.DataPos, uint64(len(buf.Data))))
	c.data(buf.Data)
}

func (c *encoder) bytes32(s []byte) {
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(len(s)))
	c.data(s)
}

func (e *FileEntry) encode(c *encoder) {
	var h [ioHeaderSize]byte
	binary.BigEndian.PutUint64(h[0:], e.ByteCount)
	binary.BigEndian.PutUint64(h[8:], e.RawByteCount)
	binary.BigEndian.PutUint32(h[16:], e.Num)
	h[20] = e.Flags
	if e.Flags&0x03 != 0 {
		copy(h[21:37], e.IV[:])
	}
	c.b = append(c.b, h[:]...)
	c.buffer(&e.Main)
	if e.Flags&0x04 != 0 {
		cb := e.Compressed
		if cb == nil {
			cb = &Buffer{}
		}
		c.buffer(cb)
	}
	if e.Flags&0x03 != 0 {
		cb := e.Encrypted
		if cb == nil {
			cb = &Buffer{}
		}
		c.buffer(cb)
	}
	fpos := e.FilePos
	if e.Path == "-" {
		fpos = 0
	}
	c.b = binary.BigEndian.AppendUint64(c.b, fpos)
	c.b = append(c.b, e.FileFlags&FileS3)
	c.b = binary.BigEndian.AppendUint64(c.b, uint64(len(e.Path)))
	c.b = append(c.b, e.Path...)
	if e.IsS3() {
		u := e.S3
		if u == nil {
			u = &S3Upload{}
		}
		c.b = binary.BigEndian.AppendUint32(c.b, u.PartNumber)
		c.bytes32([]byte(u.UploadID))
		c.b = binary.BigEndian.AppendUint64(c.b, u.MinPartSize)
		c.bytes32(u.Pending)
		c.b = binary.BigEndian.AppendUint32(c.b, uint32(len(u.Parts)))
		for _, p := range u.Parts {
			c.b = binary.BigEndian.AppendUint32(c.b, p.PartNumber)
			c.bytes32([]byte(p.ETag))
		}
		c.b = binary.BigEndian.AppendUint32(c.b, uint32(len(u.Failed)))
		for _, p := range u.Failed {
			c.b = binary.BigEndian.AppendUint32(c.b, p.PartNumber)
			c.bytes32(p.Data)
		}
	}
	c.b = binary.BigEndian.AppendUint64(c.b, e.RecCount)
}
