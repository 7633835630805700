package asdsim

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/aerospike/aerospike-client-go/v7/pkg/ripemd160"
)

// ParticleType is the Aerospike particle (value) type byte of a bin or key.
type ParticleType byte

// Particle types as they appear on the wire.
const (
	ParticleNull    ParticleType = 0
	ParticleInteger ParticleType = 1
	ParticleFloat   ParticleType = 2
	ParticleString  ParticleType = 3
	ParticleBlob    ParticleType = 4
	ParticleJava    ParticleType = 7
	ParticleCSharp  ParticleType = 8
	ParticlePython  ParticleType = 9
	ParticleRuby    ParticleType = 10
	ParticlePHP     ParticleType = 11
	ParticleErlang  ParticleType = 12
	ParticleBool    ParticleType = 17
	ParticleHLL     ParticleType = 18
	ParticleMap     ParticleType = 19
	ParticleList    ParticleType = 20
	ParticleGeoJSON ParticleType = 23
)

// CitrusleafEpoch is the Aerospike epoch (2010-01-01T00:00:00Z) in Unix seconds.
const CitrusleafEpoch = 1262304000

// Partitions is the number of partitions of every namespace.
const Partitions = 4096

// Bin is one named value of a record, kept exactly as sent on the wire.
type Bin struct {
	Name string
	Type ParticleType
	Data []byte
}

// UserKey is a stored user key: its particle type (integer, string or blob)
// and its wire bytes (8-byte big-endian for integers).
type UserKey struct {
	Type ParticleType
	Data []byte
}

// Record is a record with all the metadata the server keeps.
type Record struct {
	// Namespace is filled in by read-back methods; Put ignores it.
	Namespace string
	// Set is the set name; empty means no set.
	Set string
	// Digest is the RIPEMD-160 record digest. Put computes it from Set and
	// Key when it is all zero.
	Digest [20]byte
	// Key is the stored user key, nil when the key is not stored.
	Key *UserKey
	// Bins in insertion order.
	Bins []Bin
	// Generation (16-bit, never 0 for a live record; Put turns 0 into 1).
	Generation uint16
	// VoidTime is the expiry in seconds since the Aerospike epoch, 0 = never.
	VoidTime uint32
	// LastUpdate is the last-update time in nanoseconds since the Unix epoch.
	// Put turns 0 into the current time.
	LastUpdate int64
}

// PartitionID returns the partition of the digest.
func (r *Record) PartitionID() int { return PartitionOf(r.Digest) }

// Bin returns the bin with the given name, if present.
func (r *Record) Bin(name string) (Bin, bool) {
	for _, b := range r.Bins {
		if b.Name == name {
			return b, true
		}
	}
	return Bin{}, false
}

// IntKey returns an integer user key.
func IntKey(v int64) *UserKey {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, uint64(v))
	return &UserKey{Type: ParticleInteger, Data: b}
}

// StringKey returns a string user key.
func StringKey(s string) *UserKey { return &UserKey{Type: ParticleString, Data: []byte(s)} }

// BytesKey returns a blob user key.
func BytesKey(b []byte) *UserKey {
	return &UserKey{Type: ParticleBlob, Data: append([]byte(nil), b...)}
}

// IntBin returns an integer bin.
func IntBin(name string, v int64) Bin {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, uint64(v))
	return Bin{Name: name, Type: ParticleInteger, Data: b}
}

// FloatBin returns a double bin.
func FloatBin(name string, v float64) Bin {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, math.Float64bits(v))
	return Bin{Name: name, Type: ParticleFloat, Data: b}
}

// StringBin returns a string bin.
func StringBin(name, v string) Bin { return Bin{Name: name, Type: ParticleString, Data: []byte(v)} }

// BytesBin returns a blob bin.
func BytesBin(name string, v []byte) Bin {
	return Bin{Name: name, Type: ParticleBlob, Data: append([]byte(nil), v...)}
}

// BoolBin returns a boolean bin.
func BoolBin(name string, v bool) Bin {
	d := byte(0)
	if v {
		d = 1
	}
	return Bin{Name: name, Type: ParticleBool, Data: []byte{d}}
}

// RawBin returns a bin of any particle type with raw wire bytes (msgpack for
// lists and maps, flags+cells+JSON for GeoJSON, and so on).
func RawBin(name string, t ParticleType, data []byte) Bin {
	return Bin{Name: name, Type: t, Data: append([]byte(nil), data...)}
}

// ComputeDigest returns the record digest of a user key in a set, computed
// like the clients do: RIPEMD-160 over the set name, the key's particle type
// byte and the key bytes.
func ComputeDigest(set string, key *UserKey) [20]byte {
	h := ripemd160.New()
	h.Write([]byte(set))
	h.Write([]byte{byte(key.Type)})
	h.Write(key.Data)
	var d [20]byte
	copy(d[:], h.Sum(nil))
	return d
}

// PartitionOf returns the partition id (0..4095) a digest belongs to.
func PartitionOf(d [20]byte) int {
	return int(binary.LittleEndian.Uint16(d[0:2])) & (Partitions - 1)
}

// VoidTimeOf converts an absolute time to an Aerospike void time.
func VoidTimeOf(t time.Time) uint32 {
	return uint32(t.Unix() - CitrusleafEpoch)
}

// record is the stored, immutable form of a record. Writers replace the
// pointer in the partition; readers may keep using an old pointer.
type record struct {
	digest   [20]byte
	set      string
	key      []byte // particle type byte + key bytes; nil when not stored
	bins     []Bin
	gen      uint16
	voidTime uint32
	lutNanos int64 // Unix nanoseconds

	// wire holds the record pre-encoded for scan responses: the DIGEST,
	// SET (if any) and KEY (if any) fields followed by one op per bin. The
	// bins' Data slices point into it.
	wire      []byte
	fieldsLen int // bytes of wire taken by the fields
	nFields   int // number of fields in wire
}

// seal encodes the record's wire form and makes the bins share its memory.
// It must be called once, after every field is set and before the record
// is published.
func (r *record) seal() {
	n := 25
	if r.set != "" {
		n += 5 + len(r.set)
	}
	if r.key != nil {
		n += 5 + len(r.key)
	}
	for i := range r.bins {
		n += 8 + len(r.bins[i].Name) + len(r.bins[i].Data)
	}
	w := make([]byte, 0, n)
	w = appendField(w, fieldDigest, r.digest[:])
	r.nFields = 1
	if r.set != "" {
		w = appendFieldStr(w, fieldSet, r.set)
		r.nFields++
	}
	if r.key != nil {
		w = appendField(w, fieldKey, r.key)
		r.nFields++
	}
	r.fieldsLen = len(w)
	for i := range r.bins {
		b := &r.bins[i]
		w = appendBinOp(w, b)
		b.Data = w[len(w)-len(b.Data) : len(w) : len(w)]
	}
	r.wire = w
}

func (r *record) export(ns string) Record {
	out := Record{
		Namespace:  ns,
		Set:        r.set,
		Digest:     r.digest,
		Generation: r.gen,
		VoidTime:   r.voidTime,
		LastUpdate: r.lutNanos,
	}
	if r.key != nil {
		out.Key = &UserKey{Type: ParticleType(r.key[0]), Data: append([]byte(nil), r.key[1:]...)}
	}
	out.Bins = make([]Bin, len(r.bins))
	for i, b := range r.bins {
		out.Bins[i] = Bin{Name: b.Name, Type: b.Type, Data: append([]byte(nil), b.Data...)}
	}
	return out
}

// size approximates the stored record size for max-record-size checks and
// statistics.
func (r *record) size() int {
	n := 39 + len(r.key)
	for _, b := range r.bins {
		n += len(b.Name) + len(b.Data) + 5
	}
	return n
}

func (r *record) binIndex(name string) int {
	for i := range r.bins {
		if r.bins[i].Name == name {
			return i
		}
	}
	return -1
}

// nextGeneration increments a 16-bit generation, wrapping 65535 to 1.
func nextGeneration(g uint16) uint16 {
	if g == math.MaxUint16 {
		return 1
	}
	return g + 1
}

// DigestBytes implements exp.Record.
func (r *record) DigestBytes() *[20]byte { return &r.digest }

// SetName implements exp.Record.
func (r *record) SetName() string { return r.set }

// StoredKey implements exp.Record.
func (r *record) StoredKey() (byte, []byte, bool) {
	if r.key == nil {
		return 0, nil, false
	}
	return r.key[0], r.key[1:], true
}

// BinValue implements exp.Record.
func (r *record) BinValue(name string) (byte, []byte, bool) {
	if i := r.binIndex(name); i >= 0 {
		return byte(r.bins[i].Type), r.bins[i].Data, true
	}
	return 0, nil, false
}

// Void implements exp.Record.
func (r *record) Void() uint32 { return r.voidTime }

// LUTNanos implements exp.Record.
func (r *record) LUTNanos() int64 { return r.lutNanos }

// StoredSize implements exp.Record.
func (r *record) StoredSize() int { return r.size() }
