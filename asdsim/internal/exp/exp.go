package exp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"regexp"
	"time"
)

// Record is what an expression can observe of a stored record.
type Record interface {
	// DigestBytes returns the 20-byte digest.
	DigestBytes() *[20]byte
	// SetName returns the set name ("" for none).
	SetName() string
	// StoredKey returns the key particle type and bytes; ok is false when no
	// key is stored.
	StoredKey() (ptype byte, data []byte, ok bool)
	// BinValue returns a bin's particle type and bytes.
	BinValue(name string) (ptype byte, data []byte, ok bool)
	// Void returns the void time (Aerospike-epoch seconds, 0 = never).
	Void() uint32
	// LUTNanos returns the last-update time in Unix nanoseconds.
	LUTNanos() int64
	// StoredSize returns the record's stored size in bytes.
	StoredSize() int
}

// Expression types used by BIN and KEY.
const (
	typeNil    = 0
	typeBool   = 1
	typeInt    = 2
	typeString = 3
	typeList   = 4
	typeMap    = 5
	typeBlob   = 6
	typeFloat  = 7
	typeGeo    = 8
	typeHLL    = 9
)

// Particle types.
const (
	ptInt    = 1
	ptFloat  = 2
	ptString = 3
	ptBlob   = 4
	ptBool   = 17
	ptHLL    = 18
	ptMap    = 19
	ptList   = 20
	ptGeo    = 23
)

const clepochSeconds = 1262304000

// kind of a runtime value.
type kind byte

const (
	kUnknown kind = iota
	kNil
	kBool
	kInt
	kFloat
	kString
	kBlob
	kGeo
	kRaw // list, map, HLL: only usable for type checks
)

// value is a runtime value.
type value struct {
	k kind
	i int64
	f float64
	s []byte // string, blob, geo JSON, raw
}

var unknown = value{k: kUnknown}

func boolVal(b bool) value {
	if b {
		return value{k: kBool, i: 1}
	}
	return value{k: kBool}
}

// node is a compiled expression.
type node interface {
	eval(c *ctx) value
}

// ctx is the evaluation context.
type ctx struct {
	r    Record
	now  time.Time
	vars map[string]value
}

// Expr is a compiled filter expression.
type Expr struct {
	root node
}

// Compile compiles the msgpack wire form of a filter expression. It fails for
// malformed input and for operations this server does not implement.
func Compile(b []byte) (*Expr, error) {
	v, err := decode(b)
	if err != nil {
		return nil, err
	}
	c := &compiler{}
	n, err := c.compile(v)
	if err != nil {
		return nil, err
	}
	return &Expr{root: n}, nil
}

// Match evaluates the expression against r; an unknown result (for example a
// missing bin) does not match.
func (e *Expr) Match(r Record, now time.Time) bool {
	v := e.root.eval(&ctx{r: r, now: now})
	return v.k == kBool && v.i != 0
}

type compiler struct{}

func (c *compiler) compile(v any) (node, error) {
	switch x := v.(type) {
	case int64:
		return constNode{value{k: kInt, i: x}}, nil
	case float64:
		return constNode{value{k: kFloat, f: x}}, nil
	case bool:
		return constNode{boolVal(x)}, nil
	case nil:
		return constNode{value{k: kNil}}, nil
	case rawStr:
		return literal(x)
	case []any:
		if len(x) == 0 {
			return nil, fmt.Errorf("empty expression call")
		}
		op, ok := x[0].(int64)
		if !ok {
			return nil, fmt.Errorf("expression call without an op code")
		}
		return c.call(op, x[1:])
	}
	return nil, fmt.Errorf("unsupported expression value %T", v)
}

func literal(b rawStr) (node, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("string literal without a particle type")
	}
	data := []byte(b[1:])
	switch b[0] {
	case ptString:
		return constNode{value{k: kString, s: data}}, nil
	case ptBlob:
		return constNode{value{k: kBlob, s: data}}, nil
	case ptGeo:
		return constNode{value{k: kGeo, s: data}}, nil
	}
	return nil, fmt.Errorf("unsupported literal particle type %d", b[0])
}

func (c *compiler) args(in []any, n int) ([]node, error) {
	if n >= 0 && len(in) != n {
		return nil, fmt.Errorf("expected %d arguments, got %d", n, len(in))
	}
	out := make([]node, len(in))
	for i, a := range in {
		nd, err := c.compile(a)
		if err != nil {
			return nil, err
		}
		out[i] = nd
	}
	return out, nil
}

func intArg(a any) (int64, error) {
	v, ok := a.(int64)
	if !ok {
		return 0, fmt.Errorf("expected an integer argument, got %T", a)
	}
	return v, nil
}

func (c *compiler) call(op int64, in []any) (node, error) {
	switch {
	case op >= 1 && op <= 6:
		a, err := c.args(in, 2)
		if err != nil {
			return nil, err
		}
		return cmpNode{op: int(op), a: a[0], b: a[1]}, nil
	case op == 7:
		if len(in) != 3 {
			return nil, fmt.Errorf("regex: bad arity")
		}
		flags, err := intArg(in[0])
		if err != nil {
			return nil, err
		}
		pat, ok := in[1].(rawStr)
		if !ok {
			return nil, fmt.Errorf("regex: pattern is not a string")
		}
		src := string(pat)
		if flags&2 != 0 {
			src = "(?i)" + src
		}
		if flags&8 != 0 {
			src = "(?m)" + src
		}
		re, err := regexp.Compile(src)
		if err != nil {
			return nil, fmt.Errorf("regex: %w", err)
		}
		sub, err := c.compile(in[2])
		if err != nil {
			return nil, err
		}
		return regexNode{re: re, sub: sub}, nil
	case op == 16 || op == 17 || op == 19:
		a, err := c.args(in, -1)
		if err != nil {
			return nil, err
		}
		if len(a) < 1 {
			return nil, fmt.Errorf("logical op without arguments")
		}
		return logicNode{op: int(op), a: a}, nil
	case op == 18:
		a, err := c.args(in, 1)
		if err != nil {
			return nil, err
		}
		return notNode{a[0]}, nil
	case op == 20 || op == 21 || op == 22 || op == 23 || op == 26 || op == 50 || op == 51:
		a, err := c.args(in, -1)
		if err != nil {
			return nil, err
		}
		if len(a) < 1 {
			return nil, fmt.Errorf("arithmetic op without arguments")
		}
		return arithNode{op: int(op), a: a}, nil
	case op == 27 || op == 30 || op == 31:
		a, err := c.args(in, 1)
		if err != nil {
			return nil, err
		}
		return unaryNode{op: int(op), a: a[0]}, nil
	case op == 64:
		if len(in) != 1 {
			return nil, fmt.Errorf("digest modulo: bad arity")
		}
		m, err := intArg(in[0])
		if err != nil || m <= 0 {
			return nil, fmt.Errorf("digest modulo: bad modulus")
		}
		return metaNode{op: 64, arg: m}, nil
	case op >= 65 && op <= 74:
		if len(in) != 0 {
			return nil, fmt.Errorf("metadata op %d: unexpected arguments", op)
		}
		return metaNode{op: int(op)}, nil
	case op == 80:
		if len(in) != 1 {
			return nil, fmt.Errorf("key: bad arity")
		}
		t, err := intArg(in[0])
		if err != nil {
			return nil, err
		}
		return keyNode{typ: int(t)}, nil
	case op == 81:
		if len(in) != 2 {
			return nil, fmt.Errorf("bin: bad arity")
		}
		t, err := intArg(in[0])
		if err != nil {
			return nil, err
		}
		name, ok := in[1].(rawStr)
		if !ok {
			return nil, fmt.Errorf("bin: name is not a string")
		}
		return binNode{typ: int(t), name: string(name)}, nil
	case op == 82:
		if len(in) != 1 {
			return nil, fmt.Errorf("bin type: bad arity")
		}
		name, ok := in[0].(rawStr)
		if !ok {
			return nil, fmt.Errorf("bin type: name is not a string")
		}
		return binTypeNode{name: string(name)}, nil
	case op == 123:
		a, err := c.args(in, -1)
		if err != nil {
			return nil, err
		}
		if len(a) < 3 || len(a)%2 == 0 {
			return nil, fmt.Errorf("cond: bad arity")
		}
		return condNode{a: a}, nil
	case op == 124:
		if len(in) != 1 {
			return nil, fmt.Errorf("var: bad arity")
		}
		name, ok := in[0].(rawStr)
		if !ok {
			return nil, fmt.Errorf("var: name is not a string")
		}
		return varNode{name: string(name)}, nil
	case op == 125:
		if len(in) < 3 || len(in)%2 == 0 {
			return nil, fmt.Errorf("let: bad arity")
		}
		ln := letNode{}
		for i := 0; i+1 < len(in); i += 2 {
			name, ok := in[i].(rawStr)
			if !ok {
				return nil, fmt.Errorf("let: variable name is not a string")
			}
			v, err := c.compile(in[i+1])
			if err != nil {
				return nil, err
			}
			ln.names = append(ln.names, string(name))
			ln.vals = append(ln.vals, v)
		}
		scope, err := c.compile(in[len(in)-1])
		if err != nil {
			return nil, err
		}
		ln.scope = scope
		return ln, nil
	}
	return nil, fmt.Errorf("unsupported expression op %d", op)
}

type constNode struct{ v value }

func (n constNode) eval(*ctx) value { return n.v }

type cmpNode struct {
	op   int
	a, b node
}

func (n cmpNode) eval(c *ctx) value {
	x, y := n.a.eval(c), n.b.eval(c)
	if x.k == kUnknown || y.k == kUnknown || x.k != y.k {
		return unknown
	}
	var r int
	switch x.k {
	case kInt, kBool:
		r = cmpInt(x.i, y.i)
	case kFloat:
		if math.IsNaN(x.f) || math.IsNaN(y.f) {
			return boolVal(n.op == 2)
		}
		r = cmpFloat(x.f, y.f)
	case kString, kBlob, kGeo:
		r = bytes.Compare(x.s, y.s)
	case kNil:
		r = 0
	default:
		return unknown
	}
	if x.k == kBool && n.op > 2 {
		return unknown
	}
	switch n.op {
	case 1:
		return boolVal(r == 0)
	case 2:
		return boolVal(r != 0)
	case 3:
		return boolVal(r > 0)
	case 4:
		return boolVal(r >= 0)
	case 5:
		return boolVal(r < 0)
	default:
		return boolVal(r <= 0)
	}
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

type regexNode struct {
	re  *regexp.Regexp
	sub node
}

func (n regexNode) eval(c *ctx) value {
	v := n.sub.eval(c)
	if v.k != kString {
		return unknown
	}
	return boolVal(n.re.Match(v.s))
}

type logicNode struct {
	op int
	a  []node
}

func (n logicNode) eval(c *ctx) value {
	switch n.op {
	case 16: // AND
		res := boolVal(true)
		for _, a := range n.a {
			v := a.eval(c)
			if v.k != kBool {
				res = unknown
				continue
			}
			if v.i == 0 {
				return boolVal(false)
			}
		}
		return res
	case 17: // OR
		res := boolVal(false)
		for _, a := range n.a {
			v := a.eval(c)
			if v.k != kBool {
				res = unknown
				continue
			}
			if v.i != 0 {
				return boolVal(true)
			}
		}
		return res
	default: // EXCLUSIVE: exactly one true
		count := 0
		for _, a := range n.a {
			v := a.eval(c)
			if v.k != kBool {
				return unknown
			}
			if v.i != 0 {
				count++
			}
		}
		return boolVal(count == 1)
	}
}

type notNode struct{ a node }

func (n notNode) eval(c *ctx) value {
	v := n.a.eval(c)
	if v.k != kBool {
		return unknown
	}
	return boolVal(v.i == 0)
}

type arithNode struct {
	op int
	a  []node
}

func (n arithNode) eval(c *ctx) value {
	acc := n.a[0].eval(c)
	if acc.k != kInt && acc.k != kFloat {
		return unknown
	}
	for _, a := range n.a[1:] {
		v := a.eval(c)
		if v.k != acc.k {
			return unknown
		}
		if acc.k == kInt {
			switch n.op {
			case 20:
				acc.i += v.i
			case 21:
				acc.i -= v.i
			case 22:
				acc.i *= v.i
			case 23:
				if v.i == 0 {
					return unknown
				}
				acc.i /= v.i
			case 26:
				if v.i == 0 {
					return unknown
				}
				acc.i %= v.i
			case 50:
				acc.i = min(acc.i, v.i)
			case 51:
				acc.i = max(acc.i, v.i)
			}
			continue
		}
		switch n.op {
		case 20:
			acc.f += v.f
		case 21:
			acc.f -= v.f
		case 22:
			acc.f *= v.f
		case 23:
			acc.f /= v.f
		case 26:
			acc.f = math.Mod(acc.f, v.f)
		case 50:
			acc.f = math.Min(acc.f, v.f)
		case 51:
			acc.f = math.Max(acc.f, v.f)
		}
	}
	if len(n.a) == 1 && n.op == 21 { // unary minus
		if acc.k == kInt {
			acc.i = -acc.i
		} else {
			acc.f = -acc.f
		}
	}
	return acc
}

type unaryNode struct {
	op int
	a  node
}

func (n unaryNode) eval(c *ctx) value {
	v := n.a.eval(c)
	switch n.op {
	case 27: // ABS
		switch v.k {
		case kInt:
			if v.i < 0 {
				v.i = -v.i
			}
			return v
		case kFloat:
			v.f = math.Abs(v.f)
			return v
		}
	case 30: // TO_INT
		if v.k == kFloat {
			return value{k: kInt, i: int64(v.f)}
		}
	case 31: // TO_FLOAT
		if v.k == kInt {
			return value{k: kFloat, f: float64(v.i)}
		}
	}
	return unknown
}

type metaNode struct {
	op  int
	arg int64
}

func (n metaNode) eval(c *ctx) value {
	r := c.r
	switch n.op {
	case 64:
		d := r.DigestBytes()
		return value{k: kInt, i: int64(binary.LittleEndian.Uint32(d[16:20])) % n.arg}
	case 65, 73, 74:
		return value{k: kInt, i: int64(r.StoredSize())}
	case 66:
		return value{k: kInt, i: r.LUTNanos() / 1e6 * 1e6}
	case 67:
		ms := c.now.UnixNano()/1e6 - r.LUTNanos()/1e6
		if ms < 0 {
			ms = 0
		}
		return value{k: kInt, i: ms}
	case 68:
		if r.Void() == 0 {
			return value{k: kInt, i: -1}
		}
		return value{k: kInt, i: (int64(r.Void()) + clepochSeconds) * 1e9}
	case 69:
		if r.Void() == 0 {
			return value{k: kInt, i: -1}
		}
		left := int64(r.Void()) + clepochSeconds - c.now.Unix()
		if left < 1 {
			left = 1
		}
		return value{k: kInt, i: left}
	case 70:
		return value{k: kString, s: []byte(r.SetName())}
	case 71:
		_, _, ok := r.StoredKey()
		return boolVal(ok)
	case 72:
		return boolVal(false)
	}
	return unknown
}

// particleValue converts a stored particle to a value of the requested
// expression type; it returns unknown on a type mismatch.
func particleValue(want int, pt byte, data []byte) value {
	switch want {
	case typeInt:
		if pt == ptInt && len(data) <= 8 {
			var u uint64
			for _, b := range data {
				u = u<<8 | uint64(b)
			}
			if len(data) > 0 && len(data) < 8 && data[0]&0x80 != 0 {
				u |= ^uint64(0) << (8 * len(data))
			}
			return value{k: kInt, i: int64(u)}
		}
	case typeFloat:
		if pt == ptFloat && len(data) == 8 {
			return value{k: kFloat, f: math.Float64frombits(binary.BigEndian.Uint64(data))}
		}
	case typeString:
		if pt == ptString {
			return value{k: kString, s: data}
		}
	case typeBlob:
		if pt == ptBlob {
			return value{k: kBlob, s: data}
		}
	case typeBool:
		if pt == ptBool && len(data) == 1 {
			return boolVal(data[0] != 0)
		}
	case typeGeo:
		if pt == ptGeo {
			return value{k: kGeo, s: geoJSON(data)}
		}
	case typeList:
		if pt == ptList {
			return value{k: kRaw, s: data}
		}
	case typeMap:
		if pt == ptMap {
			return value{k: kRaw, s: data}
		}
	case typeHLL:
		if pt == ptHLL {
			return value{k: kRaw, s: data}
		}
	case typeNil:
		return value{k: kNil}
	}
	return unknown
}

// geoJSON strips the flags/cell header of a stored GeoJSON particle.
func geoJSON(d []byte) []byte {
	if len(d) < 3 {
		return d
	}
	n := int(binary.BigEndian.Uint16(d[1:3]))
	if 3+8*n > len(d) {
		return d
	}
	return d[3+8*n:]
}

type keyNode struct{ typ int }

func (n keyNode) eval(c *ctx) value {
	pt, data, ok := c.r.StoredKey()
	if !ok {
		return unknown
	}
	return particleValue(n.typ, pt, data)
}

type binNode struct {
	typ  int
	name string
}

func (n binNode) eval(c *ctx) value {
	pt, data, ok := c.r.BinValue(n.name)
	if !ok {
		return unknown
	}
	return particleValue(n.typ, pt, data)
}

type binTypeNode struct{ name string }

func (n binTypeNode) eval(c *ctx) value {
	pt, _, ok := c.r.BinValue(n.name)
	if !ok {
		return value{k: kInt, i: 0}
	}
	return value{k: kInt, i: int64(pt)}
}

type condNode struct{ a []node }

func (n condNode) eval(c *ctx) value {
	for i := 0; i+1 < len(n.a); i += 2 {
		v := n.a[i].eval(c)
		if v.k != kBool {
			return unknown
		}
		if v.i != 0 {
			return n.a[i+1].eval(c)
		}
	}
	return n.a[len(n.a)-1].eval(c)
}

type varNode struct{ name string }

func (n varNode) eval(c *ctx) value {
	if v, ok := c.vars[n.name]; ok {
		return v
	}
	return unknown
}

type letNode struct {
	names []string
	vals  []node
	scope node
}

func (n letNode) eval(c *ctx) value {
	saved := c.vars
	vars := make(map[string]value, len(saved)+len(n.names))
	for k, v := range saved {
		vars[k] = v
	}
	c.vars = vars
	for i, name := range n.names {
		vars[name] = n.vals[i].eval(c)
	}
	v := n.scope.eval(c)
	c.vars = saved
	return v
}
