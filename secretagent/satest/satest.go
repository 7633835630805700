// Package satest is a Secret Agent test peer: it speaks the framed JSON
// protocol of the Aerospike Secret Agent over TCP, TLS and Unix sockets,
// serves secrets from a map and can misbehave on demand (Fault). It is meant
// for end-to-end tests of any package that resolves `secrets:` values.
package satest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"time"

	"asbtools/secretagent"
)

// Fault selects how the server answers.
type Fault int

// Fault modes.
const (
	FaultNone      Fault = iota // normal replies
	FaultSlow                   // wait Server.Delay before replying
	FaultGarbage                // reply with bytes that are not a frame (bad magic)
	FaultBadJSON                // valid frame, body is not JSON
	FaultOversized              // header announces more than the 100 KiB limit
	FaultClose                  // close the connection without replying
	FaultShortBody              // announce N bytes, send fewer, close
	FaultError                  // reply {"Error": ErrorText}
	FaultNotBase64              // reply a SecretValue that is not base64
)

// Request is one request as received.
type Request struct {
	// Body is the raw JSON body.
	Body []byte
	// Resource and SecretKey are the decoded fields (empty when absent).
	Resource, SecretKey string
	// HasResource reports whether the Resource field was present.
	HasResource bool
}

// Server serves secrets. Secrets maps resource → key → plain value; requests
// without a Resource use the "" resource. Values are sent base64-encoded, as
// an agent configured with convert-to-base64 does.
type Server struct {
	mu       sync.Mutex
	secrets  map[string]map[string][]byte
	fault    Fault
	delay    time.Duration
	errText  string
	requests []Request
	lns      []net.Listener
	wg       sync.WaitGroup
}

// NewServer returns a server for the given secrets (the map is copied).
func NewServer(secrets map[string]map[string]string) *Server {
	s := &Server{secrets: map[string]map[string][]byte{}, errText: "secret not found", delay: 2 * time.Second}
	for r, kv := range secrets {
		s.secrets[r] = map[string][]byte{}
		for k, v := range kv {
			s.secrets[r][k] = []byte(v)
		}
	}
	return s
}

// SetSecret adds or replaces one secret.
func (s *Server) SetSecret(resource, key string, value []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secrets[resource] == nil {
		s.secrets[resource] = map[string][]byte{}
	}
	s.secrets[resource][key] = append([]byte(nil), value...)
}

// SetFault changes the behaviour for subsequent connections. delay is used by
// FaultSlow; errText by FaultError (and for unknown secrets when non-empty).
func (s *Server) SetFault(f Fault, delay time.Duration, errText string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = f
	if delay > 0 {
		s.delay = delay
	}
	if errText != "" {
		s.errText = errText
	}
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ListenTCP serves plain TCP on addr (e.g. "127.0.0.1:0") and returns the
// bound address.
func (s *Server) ListenTCP(addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s.serve(ln)
	return ln.Addr(), nil
}

// ListenTLS serves TLS on addr with the given certificate.
func (s *Server) ListenTLS(addr string, cert tls.Certificate) (net.Addr, error) {
	ln, err := tls.Listen("tcp", addr, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		return nil, err
	}
	s.serve(ln)
	return ln.Addr(), nil
}

// ListenUnix serves on a Unix domain socket at path.
func (s *Server) ListenUnix(path string) error {
	ln, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	s.serve(ln)
	return nil
}

// Close stops the listener and waits for open connections to finish.
func (s *Server) Close() error {
	s.mu.Lock()
	lns := s.lns
	s.lns = nil
	s.mu.Unlock()
	var err error
	for _, ln := range lns {
		if e := ln.Close(); e != nil && err == nil {
			err = e
		}
	}
	s.wg.Wait()
	return err
}

func (s *Server) serve(ln net.Listener) {
	s.mu.Lock()
	s.lns = append(s.lns, ln)
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				s.handle(c)
			}()
		}
	}()
}

func (s *Server) handle(c net.Conn) {
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	var hdr [8]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return
	}
	if binary.BigEndian.Uint32(hdr[:4]) != secretagent.Magic {
		return
	}
	n := binary.BigEndian.Uint32(hdr[4:])
	if n > 1<<20 {
		return
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(c, body); err != nil {
		return
	}
	var req struct {
		Resource  *string
		SecretKey string
	}
	_ = json.Unmarshal(body, &req)
	r := Request{Body: body, SecretKey: req.SecretKey}
	if req.Resource != nil {
		r.Resource, r.HasResource = *req.Resource, true
	}
	s.mu.Lock()
	s.requests = append(s.requests, r)
	fault, delay, errText := s.fault, s.delay, s.errText
	val, found := s.secrets[r.Resource][r.SecretKey]
	s.mu.Unlock()

	reply := func(v any) {
		b, _ := json.Marshal(v)
		_, _ = c.Write(secretagent.EncodeFrame(b))
	}
	switch fault {
	case FaultSlow:
		time.Sleep(delay)
	case FaultGarbage:
		_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
		return
	case FaultBadJSON:
		_, _ = c.Write(secretagent.EncodeFrame([]byte("{not json")))
		return
	case FaultOversized:
		var h [8]byte
		binary.BigEndian.PutUint32(h[:4], secretagent.Magic)
		binary.BigEndian.PutUint32(h[4:], secretagent.MaxResponseSize+1)
		_, _ = c.Write(h[:])
		return
	case FaultClose:
		return
	case FaultShortBody:
		var h [8]byte
		binary.BigEndian.PutUint32(h[:4], secretagent.Magic)
		binary.BigEndian.PutUint32(h[4:], 64)
		_, _ = c.Write(append(h[:], `{"SecretValue":"`...))
		return
	case FaultError:
		reply(map[string]string{"Error": errText})
		return
	case FaultNotBase64:
		reply(map[string]string{"SecretValue": "not*base64"})
		return
	}
	if !found {
		reply(map[string]string{"Error": errText})
		return
	}
	reply(map[string]string{"SecretValue": base64.StdEncoding.EncodeToString(val)})
}

// PKI is a throw-away certificate authority and a server certificate it
// signed, for TLS tests.
type PKI struct {
	// CAPEM is the CA certificate in PEM form (what --sa-cafile points to).
	CAPEM []byte
	// Cert is the server certificate and key, ready for ListenTLS.
	Cert tls.Certificate
	// CertPEM and KeyPEM are the server certificate and its key in PEM form.
	CertPEM, KeyPEM []byte
}

// NewPKI creates a CA and a server certificate for the given DNS names and
// IP addresses (strings parsed as IPs become IP SANs).
func NewPKI(hosts ...string) (*PKI, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "satest CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "satest agent"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	p := &PKI{
		CAPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}
	p.Cert, err = tls.X509KeyPair(p.CertPEM, p.KeyPEM)
	if err != nil {
		return nil, errors.New("satest: building key pair: " + err.Error())
	}
	return p, nil
}
