package asdsim

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Proto message types.
const (
	protoInfo       = 1
	protoAdmin      = 2
	protoMsg        = 3
	protoCompressed = 4
	protoVersion    = 2
	maxProtoSize    = 128 << 20
	msgHeaderSize   = 22
)

// info1 bits.
const (
	info1Read        = 0x01
	info1GetAll      = 0x02
	info1Batch       = 0x08
	info1NoBinData   = 0x20
	info1CompressRes = 0x80
)

// info2 bits.
const (
	info2Write         = 0x01
	info2Delete        = 0x02
	info2Generation    = 0x04
	info2GenerationGT  = 0x08
	info2DurableDelete = 0x10
	info2CreateOnly    = 0x20
	info2RespondAllOps = 0x80
)

// info3 bits.
const (
	info3Last            = 0x01
	info3PartitionDone   = 0x04
	info3UpdateOnly      = 0x08
	info3CreateOrReplace = 0x10
	info3ReplaceOnly     = 0x20
)

// Field types.
const (
	fieldNamespace     = 0
	fieldSet           = 1
	fieldKey           = 2
	fieldDigest        = 4
	fieldTranID        = 7
	fieldSocketTimeout = 9
	fieldRPS           = 10
	fieldPIDArray      = 11
	fieldDigestArray   = 12
	fieldMaxRecords    = 13
	fieldBValArray     = 15
	fieldIndexName     = 21
	fieldIndexRange    = 22
	fieldIndexContext  = 23
	fieldIndexType     = 26
	fieldUDFPackage    = 30
	fieldUDFFunction   = 31
	fieldUDFArgs       = 32
	fieldUDFOp         = 33
	fieldQueryBinList  = 40
	fieldBatchIndex    = 41
	fieldBatchWithSet  = 42
	fieldFilterExp     = 43
)

// Op codes.
const (
	opRead       = 1
	opWrite      = 2
	opCDTRead    = 3
	opCDTModify  = 4
	opAdd        = 5
	opExpRead    = 7
	opExpModify  = 8
	opAppend     = 9
	opPrepend    = 10
	opTouch      = 11
	opBitRead    = 12
	opBitModify  = 13
	opDelete     = 14
	opHLLRead    = 15
	opHLLModify  = 16
	maxBinNameSz = 15
)

// ResultCode is an Aerospike server result code.
type ResultCode byte

// Result codes the server produces.
const (
	ResultOK                   ResultCode = 0
	ResultServerError          ResultCode = 1
	ResultKeyNotFound          ResultCode = 2
	ResultGenerationError      ResultCode = 3
	ResultParameterError       ResultCode = 4
	ResultKeyExists            ResultCode = 5
	ResultBinExists            ResultCode = 6
	ResultClusterKeyMismatch   ResultCode = 7
	ResultServerMemError       ResultCode = 8
	ResultTimeout              ResultCode = 9
	ResultAlwaysForbidden      ResultCode = 10
	ResultPartitionUnavailable ResultCode = 11
	ResultBinTypeError         ResultCode = 12
	ResultRecordTooBig         ResultCode = 13
	ResultKeyBusy              ResultCode = 14
	ResultScanAbort            ResultCode = 15
	ResultUnsupportedFeature   ResultCode = 16
	ResultBinNotFound          ResultCode = 17
	ResultDeviceOverload       ResultCode = 18
	ResultKeyMismatch          ResultCode = 19
	ResultInvalidNamespace     ResultCode = 20
	ResultBinNameTooLong       ResultCode = 21
	ResultFailForbidden        ResultCode = 22
	ResultEnterpriseOnly       ResultCode = 25
	ResultOpNotApplicable      ResultCode = 26
	ResultFilteredOut          ResultCode = 27
	ResultQueryAborted         ResultCode = 210
	ResultSecurityNotSupported ResultCode = 51
	ResultSecurityNotEnabled   ResultCode = 52
	ResultInvalidUser          ResultCode = 60
	ResultInvalidPassword      ResultCode = 62
	ResultInvalidCredential    ResultCode = 65
	ResultNotAuthenticated     ResultCode = 80
	ResultBatchQueuesFull      ResultCode = 152
)

// field is one as_msg field.
type field struct {
	typ  byte
	data []byte
}

// op is one as_msg op.
type op struct {
	code  byte
	ptype ParticleType
	name  []byte
	value []byte
}

// message is a parsed as_msg.
type message struct {
	info1, info2, info3, info4 byte
	result                     byte
	gen                        uint32
	ttl                        uint32
	timeout                    uint32
	fields                     []field
	ops                        []op
}

func (m *message) find(t int) *field {
	for i := range m.fields {
		if int(m.fields[i].typ) == t {
			return &m.fields[i]
		}
	}
	return nil
}

func (m *message) has(t int) bool { return m.find(t) != nil }

func (m *message) get(t int) []byte {
	if f := m.find(t); f != nil {
		return f.data
	}
	return nil
}

func (m *message) str(t int) string { return string(m.get(t)) }

// setField records a field; a repeated field type replaces the earlier one.
func (m *message) setField(t int, d []byte) {
	if f := m.find(t); f != nil {
		f.data = d
		return
	}
	m.fields = append(m.fields, field{typ: byte(t), data: d})
}

var errShort = errors.New("message truncated")

// parseMessage parses a 22-byte header plus fields and ops from b. It
// returns the number of bytes consumed.
func parseMessage(b []byte, m *message) (int, error) {
	if len(b) < msgHeaderSize {
		return 0, errShort
	}
	if b[0] != msgHeaderSize {
		return 0, fmt.Errorf("bad header size %d", b[0])
	}
	m.info1, m.info2, m.info3, m.info4 = b[1], b[2], b[3], b[4]
	m.result = b[5]
	m.gen = binary.BigEndian.Uint32(b[6:])
	m.ttl = binary.BigEndian.Uint32(b[10:])
	m.timeout = binary.BigEndian.Uint32(b[14:])
	nf := int(binary.BigEndian.Uint16(b[18:]))
	no := int(binary.BigEndian.Uint16(b[20:]))
	pos := msgHeaderSize
	n, err := parseFieldsOps(b[pos:], nf, no, m)
	return pos + n, err
}

// parseFieldsOps parses nf fields and no ops from b into m.
func parseFieldsOps(b []byte, nf, no int, m *message) (int, error) {
	pos := 0
	if nf > 0 && m.fields == nil {
		m.fields = make([]field, 0, nf)
	}
	for i := 0; i < nf; i++ {
		if len(b)-pos < 5 {
			return 0, errShort
		}
		sz := int(binary.BigEndian.Uint32(b[pos:]))
		if sz < 1 || len(b)-pos-4 < sz {
			return 0, fmt.Errorf("bad field size %d", sz)
		}
		t := int(b[pos+4])
		m.setField(t, b[pos+5:pos+4+sz])
		pos += 4 + sz
	}
	if no > 0 {
		m.ops = make([]op, 0, no)
	}
	for i := 0; i < no; i++ {
		if len(b)-pos < 8 {
			return 0, errShort
		}
		sz := int(binary.BigEndian.Uint32(b[pos:]))
		if sz < 4 || len(b)-pos-4 < sz {
			return 0, fmt.Errorf("bad op size %d", sz)
		}
		nl := int(b[pos+7])
		if 4+nl > sz {
			return 0, fmt.Errorf("bad op name length %d", nl)
		}
		m.ops = append(m.ops, op{
			code:  b[pos+4],
			ptype: ParticleType(b[pos+5]),
			name:  b[pos+8 : pos+8+nl],
			value: b[pos+8+nl : pos+4+sz],
		})
		pos += 4 + sz
	}
	return pos, nil
}

// appendProtoHeader appends an 8-byte proto header with a zero length; the
// length is filled in by finishProto.
func appendProtoHeader(buf []byte, typ byte) []byte {
	return append(buf, protoVersion, typ, 0, 0, 0, 0, 0, 0)
}

// finishProto writes the body length of the proto starting at start.
func finishProto(buf []byte, start int) {
	n := uint64(len(buf) - start - 8)
	binary.BigEndian.PutUint16(buf[start+2:], uint16(n>>32))
	binary.BigEndian.PutUint32(buf[start+4:], uint32(n))
}

// appendMsgHeader appends a 22-byte as_msg header.
func appendMsgHeader(buf []byte, info1, info3 byte, rc ResultCode, gen, void, txttl uint32, nf, no int) []byte {
	buf = append(buf, msgHeaderSize, info1, 0, info3, 0, byte(rc))
	buf = binary.BigEndian.AppendUint32(buf, gen)
	buf = binary.BigEndian.AppendUint32(buf, void)
	buf = binary.BigEndian.AppendUint32(buf, txttl)
	buf = binary.BigEndian.AppendUint16(buf, uint16(nf))
	buf = binary.BigEndian.AppendUint16(buf, uint16(no))
	return buf
}

// appendField appends one field.
func appendField(buf []byte, t byte, data []byte) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(data)+1))
	buf = append(buf, t)
	return append(buf, data...)
}

// appendFieldStr appends one string field.
func appendFieldStr(buf []byte, t byte, s string) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(s)+1))
	buf = append(buf, t)
	return append(buf, s...)
}

// appendBinOp appends a bin as a response op.
func appendBinOp(buf []byte, b *Bin) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(4+len(b.Name)+len(b.Data)))
	buf = append(buf, opRead, byte(b.Type), 0, byte(len(b.Name)))
	buf = append(buf, b.Name...)
	return append(buf, b.Data...)
}

// singleReply builds a complete proto holding one message with the given
// bins.
func singleReply(rc ResultCode, gen uint16, void uint32, bins []Bin) []byte {
	buf := make([]byte, 0, 64)
	buf = appendProtoHeader(buf, protoMsg)
	buf = appendMsgHeader(buf, 0, 0, rc, uint32(gen), void, 0, 0, len(bins))
	for i := range bins {
		buf = appendBinOp(buf, &bins[i])
	}
	finishProto(buf, 0)
	return buf
}

// errorReply builds a bare 30-byte error reply.
func errorReply(rc ResultCode) []byte {
	return singleReply(rc, 0, 0, nil)
}
