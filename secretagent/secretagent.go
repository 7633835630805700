// Package secretagent is a client for the Aerospike Secret Agent as used by the
// backup tools: it resolves `secrets:[<resource>:]<key>` references by sending
// one framed JSON request per connection and base64-decoding the returned
// value.
//
// Wire format (both directions): 4-byte magic 0x51dec1cc, 4-byte big-endian
// body length, JSON body. The request body is {"SecretKey":"k"} or
// {"Resource":"r","SecretKey":"k"}; the reply carries either "SecretValue"
// (base64 text) or "Error". Replies larger than MaxResponseSize are refused.
//
// Transports: TCP (Address host or IP, Port decimal), TLS over TCP when
// Config.CAFile is set (the agent's certificate chain must verify against that
// CA; host names are not checked and no SNI is sent, as agents are commonly
// addressed by IP), and Unix domain sockets when Address is "unix:<path>" or an
// absolute path starting with "/" (Port is then ignored).
//
// Secret values never appear in errors.
package secretagent

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"asbtools/msg"
)

// Defaults used by the legacy tools.
const (
	DefaultAddress = "127.0.0.1"
	DefaultPort    = "3005"
	DefaultTimeout = 1000 * time.Millisecond
)

// Protocol constants.
const (
	// Magic starts every request and response frame.
	Magic uint32 = 0x51dec1cc
	// MaxResponseSize is the largest accepted response body in bytes.
	MaxResponseSize = 102400
	// Prefix marks a value as a secret reference.
	Prefix = "secrets:"
)

// Error codes reported by the legacy client (`secret agent request failed err code: N`).
const (
	CodeBadRequest = 1 // malformed reference or response, agent error reply
	CodeBadConfig  = 2 // bad address/port, name lookup failure, unreadable CA file
	CodeConnection = 3 // connection, TLS or framing failure
	CodeTimeout    = 4 // a read/write/handshake exceeded Config.Timeout
)

// Config locates the agent. The zero value is not usable; start from
// DefaultConfig.
type Config struct {
	// Address is a host name, IPv4 address, bare or bracketed IPv6 address,
	// "unix:<path>" or an absolute socket path.
	Address string
	// Port is the TCP port as text (validated 1-65535 when a secret is fetched).
	Port string
	// Timeout bounds the dial and every read, write and TLS handshake step.
	// Zero or negative means no deadline.
	Timeout time.Duration
	// CAFile, when non-empty, enables TLS; the agent's certificate must chain
	// to a certificate in this PEM file.
	CAFile string
	// CAPEM, when non-nil, is the content of CAFile already read by the
	// caller (the tools read --sa-cafile once, at parse time); it enables TLS
	// and CAFile is then only used in messages.
	CAPEM []byte
}

// DefaultConfig returns the legacy defaults: 127.0.0.1:3005, 1 s timeout, no TLS.
func DefaultConfig() Config {
	return Config{Address: DefaultAddress, Port: DefaultPort, Timeout: DefaultTimeout}
}

// SplitAddress splits an `--sa-address` / `sa-address` value the way the
// legacy tools do: "[v6]:port" gives ("v6", "port"), otherwise the text is
// split at the first ':'. hasPort reports whether a port was split off.
// Deviations from legacy (which mangles these forms): "[v6]" without a port
// gives ("v6", "", false), and an unbracketed address with two or more colons
// is taken as a bare IPv6 address; "unix:" and absolute-path addresses are
// returned unchanged.
func SplitAddress(addr string) (host, port string, hasPort bool) {
	if isUnix(addr) {
		return addr, "", false
	}
	if strings.HasPrefix(addr, "[") {
		end := strings.IndexByte(addr, ']')
		if end < 0 {
			return addr, "", false
		}
		h := addr[1:end]
		rest := addr[end+1:]
		if strings.HasPrefix(rest, ":") {
			return h, rest[1:], true
		}
		return h, "", false
	}
	if strings.Count(addr, ":") >= 2 {
		return addr, "", false
	}
	if i := strings.IndexByte(addr, ':'); i >= 0 {
		return addr[:i], addr[i+1:], true
	}
	return addr, "", false
}

// ApplyAddress stores addr in c following the legacy rules: when addr carries
// a port and explicitPort is false, the port replaces c.Port; when
// explicitPort is true the explicit port is kept and only the host part of
// addr is stored (legacy stored the port text as the host, a bug not
// reproduced here).
func (c *Config) ApplyAddress(addr string, explicitPort bool) {
	host, port, ok := SplitAddress(addr)
	c.Address = host
	if ok && !explicitPort {
		c.Port = port
	}
}

func isUnix(addr string) bool {
	return strings.HasPrefix(addr, "unix:") || strings.HasPrefix(addr, "/")
}

func unixPath(addr string) string {
	return strings.TrimPrefix(addr, "unix:")
}

// A failed secret request is a *msg.Error whose ERR lines are those the
// legacy tool logs for it: every client line prefixed with
// "secret-agent: ", then "secret agent request failed err code: <n>". Its
// cause is a *RequestError (wrapping the transport error, if any). Error
// texts never contain a secret value.

// RequestError is the cause of a failed secret request: the legacy error
// code, and the transport error behind it, if any.
type RequestError struct {
	Code int
	Err  error
}

func (e *RequestError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("secret agent request failed with code %d: %v", e.Code, e.Err)
	}
	return fmt.Sprintf("secret agent request failed with code %d", e.Code)
}

// Unwrap returns the transport error.
func (e *RequestError) Unwrap() error { return e.Err }

// fail returns the failure of a request with the legacy code and client
// lines; cause is the transport error, if any.
func fail(code int, lines ...string) *msg.Error { return failWith(nil, code, lines...) }

func failWith(cause error, code int, lines ...string) *msg.Error {
	e := &msg.Error{Code: 1, Err: &RequestError{Code: code, Err: cause},
		Lines: make([]msg.Line, 0, len(lines)+1)}
	for _, l := range lines {
		e.Lines = append(e.Lines, msg.Err("secret-agent: %s", l))
	}
	e.Lines = append(e.Lines, msg.Err("secret agent request failed err code: %d", code))
	return e
}

// IsRef reports whether s is a secret reference (exact, case-sensitive
// "secrets:" prefix).
func IsRef(s string) bool {
	return strings.HasPrefix(s, Prefix)
}

// ParseRef splits a reference "secrets:[<resource>:]<key>" at its last ':'.
// "secrets:k" and "secrets::k" have an empty resource; "secrets:r:" has an
// empty key. A missing prefix or nothing after it is an error.
func ParseRef(s string) (resource, key string, err error) {
	if !IsRef(s) {
		return "", "", fail(CodeBadRequest, "ERR: not a secret reference (missing \"secrets:\" prefix)")
	}
	rest := s[len(Prefix):]
	if rest == "" {
		return "", "", fail(CodeBadRequest, "ERR: empty secret key")
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		return rest[:i], rest[i+1:], nil
	}
	return "", rest, nil
}

// Client fetches secrets from one agent. It holds no connection: each
// Resolve opens, uses and closes its own.
type Client struct {
	cfg   Config
	roots *x509.CertPool
}

// NewClient validates cfg and, when CAFile is set, loads the CA certificates.
func NewClient(cfg Config) (*Client, error) {
	c := &Client{cfg: cfg}
	if cfg.CAFile != "" || cfg.CAPEM != nil {
		pem := cfg.CAPEM
		if pem == nil {
			var err error
			if pem, err = os.ReadFile(cfg.CAFile); err != nil {
				return nil, failWith(err, CodeBadConfig, "ERR: failed to open "+cfg.CAFile)
			}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fail(CodeConnection, "ERR: unable to load ca certificate from ca_string", "ERR: failed to wrap socket for tls")
		}
		c.roots = pool
	}
	return c, nil
}

// Config returns the configuration the client was built with.
func (c *Client) Config() Config { return c.cfg }

// ResolveString resolves ref and returns the value as the legacy tools use
// it: text up to the first NUL byte.
func (c *Client) ResolveString(ref string) (string, error) {
	b, err := c.Resolve(ref)
	if err != nil {
		return "", err
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b), nil
}

// Resolve fetches and base64-decodes the secret named by ref. Errors are
// *msg.Error values.
func (c *Client) Resolve(ref string) ([]byte, error) {
	resource, key, err := ParseRef(ref)
	if err != nil {
		return nil, err
	}
	body := requestBody(resource, key)
	resp, ferr := c.exchange(body)
	if ferr != nil {
		return nil, ferr
	}
	return decodeResponse(resp)
}

// requestBody builds the byte-exact request JSON. Names are JSON-escaped
// (without HTML escaping), which is identical to the legacy body for every
// name legacy could send correctly.
func requestBody(resource, key string) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	if resource != "" {
		b.WriteString(`"Resource":`)
		b.Write(jsonString(resource))
		b.WriteByte(',')
	}
	b.WriteString(`"SecretKey":`)
	b.Write(jsonString(key))
	b.WriteByte('}')
	return b.Bytes()
}

func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return bytes.TrimRight(b.Bytes(), "\n")
}

// EncodeFrame prepends the magic and length header to body.
func EncodeFrame(body []byte) []byte {
	out := make([]byte, 8+len(body))
	binary.BigEndian.PutUint32(out[0:4], Magic)
	binary.BigEndian.PutUint32(out[4:8], uint32(len(body)))
	copy(out[8:], body)
	return out
}

func (c *Client) deadline() time.Time {
	if c.cfg.Timeout <= 0 {
		return time.Time{}
	}
	return time.Now().Add(c.cfg.Timeout)
}

func (c *Client) dial() (net.Conn, *msg.Error) {
	d := net.Dialer{}
	if c.cfg.Timeout > 0 {
		d.Timeout = c.cfg.Timeout
	}
	if isUnix(c.cfg.Address) {
		conn, err := d.Dial("unix", unixPath(c.cfg.Address))
		if err != nil {
			return nil, connectError(err, -1)
		}
		return conn, nil
	}
	p, perr := strconv.ParseInt(strings.TrimLeft(c.cfg.Port, " \t\n\r\f\v"), 10, 64)
	if perr != nil || p < 1 || p > 65535 {
		if perr != nil {
			p = leadingInt(c.cfg.Port)
		}
		return nil, fail(CodeBadConfig, fmt.Sprintf("ERR: port: %d is outside the valid port range 1 - 65535", p))
	}
	host := c.cfg.Address
	var addrs []string
	if ip := net.ParseIP(host); ip != nil {
		addrs = []string{ip.String()}
	} else {
		found, err := net.LookupHost(host)
		if err != nil || len(found) == 0 {
			reason := "no address found"
			var de *net.DNSError
			if errors.As(err, &de) {
				reason = de.Err
			} else if err != nil {
				reason = err.Error()
			}
			return nil, fail(CodeBadConfig, "ERR: failed to lookup address: "+reason)
		}
		addrs = found
	}
	var lastErr error
	for _, a := range addrs {
		conn, err := d.Dial("tcp", net.JoinHostPort(a, strconv.FormatInt(p, 10)))
		if err == nil {
			return conn, nil
		}
		lastErr = err
	}
	return nil, connectError(lastErr, legacySocketFD())
}

// leadingInt mimics strtol: the longest leading decimal integer, 0 if none.
func leadingInt(s string) int64 {
	s = strings.TrimLeft(s, " \t\n\r\f\v")
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	v, err := strconv.ParseInt(s[:j], 10, 64)
	if err != nil {
		if j > i {
			if s[0] == '-' {
				return -1 << 63
			}
			return 1<<63 - 1
		}
		return 0
	}
	return v
}

// connectError turns a failed connection into the legacy lines; fd is the
// descriptor number the legacy client reports (-1 where it has none: the
// legacy client knows no Unix domain sockets).
func connectError(err error, fd int) *msg.Error {
	if isTimeout(err) {
		return failWith(err, CodeTimeout, "ERR: socket poll timed out", "ERR: failed to create socket")
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return failWith(err, CodeConnection, fmt.Sprintf("ERR: connect failed: %d, errno: %d", fd, int(errno)), "ERR: failed to create socket")
	}
	return failWith(err, CodeConnection, "ERR: connect failed: "+err.Error(), "ERR: failed to create socket")
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// ioError turns a transport error during the exchange into the legacy lines.
func ioError(what string, err error) *msg.Error {
	if isTimeout(err) {
		return failWith(err, CodeTimeout, "ERR: socket poll timed out", "ERR: empty secret json response")
	}
	var errno syscall.Errno
	line := "ERR: " + what
	if errors.As(err, &errno) {
		line += fmt.Sprintf(", errno: %d", int(errno))
	} else if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		line += ": connection closed by agent"
	} else {
		line += ": " + err.Error()
	}
	return failWith(err, CodeConnection, line, "ERR: empty secret json response")
}

func (c *Client) exchange(body []byte) ([]byte, *msg.Error) {
	conn, ferr := c.dial()
	if ferr != nil {
		return nil, ferr
	}
	// The exchange's outcome is known before the close; a failing close
	// of the connection changes nothing.
	defer func() { _ = conn.Close() }()
	if c.roots != nil {
		tc := tls.Client(conn, &tls.Config{
			// Verification is done in VerifyPeerCertificate: the chain must
			// lead to the configured CA; names are not checked.
			InsecureSkipVerify:    true, //nolint:gosec // chain verified below
			VerifyPeerCertificate: verifyChain(c.roots),
			MinVersion:            tls.VersionTLS12,
		})
		_ = tc.SetDeadline(c.deadline())
		if err := tc.Handshake(); err != nil {
			if isTimeout(err) {
				return nil, failWith(err, CodeTimeout, "ERR: socket poll timed out", "ERR: failed to wrap socket for tls")
			}
			return nil, failWith(err, CodeConnection, "ERR: TLS handshake failed: "+err.Error(), "ERR: failed to wrap socket for tls")
		}
		conn = tc
	}
	_ = conn.SetWriteDeadline(c.deadline())
	if _, err := conn.Write(EncodeFrame(body)); err != nil {
		return nil, ioError("socket write failed", err)
	}
	var hdr [8]byte
	_ = conn.SetReadDeadline(c.deadline())
	if _, err := io.ReadFull(conn, hdr[:]); err != nil {
		return nil, ioError("failed reading secret header", err)
	}
	if m := binary.BigEndian.Uint32(hdr[0:4]); m != Magic {
		return nil, fail(CodeConnection, fmt.Sprintf("ERR: bad magic - %x", m), "ERR: empty secret json response")
	}
	n := binary.BigEndian.Uint32(hdr[4:8])
	if n > MaxResponseSize {
		return nil, fail(CodeConnection, fmt.Sprintf("ERR: response too big - %d", n), "ERR: empty secret json response")
	}
	resp := make([]byte, n)
	_ = conn.SetReadDeadline(c.deadline())
	if _, err := io.ReadFull(conn, resp); err != nil {
		return nil, ioError("socket read failed", err)
	}
	return resp, nil
}

func verifyChain(roots *x509.CertPool) func([][]byte, [][]*x509.Certificate) error {
	return func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 {
			return errors.New("agent sent no certificate")
		}
		certs := make([]*x509.Certificate, 0, len(raw))
		for _, r := range raw {
			cert, err := x509.ParseCertificate(r)
			if err != nil {
				return fmt.Errorf("agent certificate: %w", err)
			}
			certs = append(certs, cert)
		}
		inter := x509.NewCertPool()
		for _, ic := range certs[1:] {
			inter.AddCert(ic)
		}
		_, err := certs[0].Verify(x509.VerifyOptions{
			Roots:         roots,
			Intermediates: inter,
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		})
		if err != nil {
			return fmt.Errorf("agent certificate not signed by the configured CA: %w", err)
		}
		return nil
	}
}

// decodeResponse applies the legacy response rules to a reply body.
func decodeResponse(resp []byte) ([]byte, error) {
	const tail = "ERR: unable to fetch secret"
	var m map[string]json.RawMessage
	if err := json.Unmarshal(resp, &m); err != nil || m == nil {
		reason := "not a JSON object"
		var se *json.SyntaxError
		if errors.As(err, &se) {
			reason = fmt.Sprintf("syntax error at byte %d", se.Offset)
		}
		return nil, fail(CodeBadRequest, "ERR: failed to parse response JSON ("+reason+")", tail)
	}
	if raw, ok := m["Error"]; ok {
		var text string
		if json.Unmarshal(raw, &text) == nil {
			return nil, fail(CodeBadRequest, "ERR: response: "+text, tail)
		}
	}
	raw, ok := m["SecretValue"]
	var val string
	if !ok || json.Unmarshal(raw, &val) != nil {
		return nil, fail(CodeBadRequest, `ERR: failed to find "SecretValue" in response`, tail)
	}
	if val == "" {
		return nil, fail(CodeBadRequest, "ERR: empty secret", tail)
	}
	val = strings.TrimRight(val, " \t\n\r\f\v")
	if val == "" {
		return nil, fail(CodeBadRequest, "ERR: whitespace-only secret", tail)
	}
	if strings.ContainsAny(val, "\r\n") {
		return nil, fail(CodeBadRequest, "ERR: failed to base64-decode secret", tail)
	}
	out, err := base64.StdEncoding.DecodeString(val)
	if err != nil {
		return nil, fail(CodeBadRequest, "ERR: failed to base64-decode secret", tail)
	}
	return out, nil
}
