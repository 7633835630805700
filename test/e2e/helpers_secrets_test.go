package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"asbtools/asdsim"
	"asbtools/secretagent/satest"
)

// mustSucceed fails the test unless the run exited 0.
func (r toolRun) mustSucceed(t testing.TB, what string) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", what, r.code, r.stdout, r.stderr)
	}
}

// secretFixture is a cluster with login and TLS, a Secret Agent holding its
// credentials, its CA certificate and the backup keys, and the values
// needed to check that no secret leaks.
type secretFixture struct {
	srv       *asdsim.Server
	agent     *satest.Server
	agentAddr string // host:port of the agent (plain TCP)
	tlsName   string
	clusterCA []byte // PEM of the cluster's CA (only in the agent)
	// clientCert and clientKey are the client certificate the cluster
	// requires (PEM, only in the agent).
	clientCert, clientKey []byte
	keyPEM                []byte // RSA private key for --encryption-key-file
	envKey                string // base64 AES key held by the variable named by keyEnvName
	// secrets are the plain values served by the agent that must never
	// appear in any output.
	secrets []string
}

const (
	fxUser       = "backup-operator"
	fxPassword   = "pw-Zq81!x7#Kd"
	fxKeyEnvName = "ASB_E2E_SECRET_KEY_VAR"
	fxEnvKey     = "c2VjcmV0LWtleS1mb3ItZTJlLXRlc3RzLTMyYnl0ZXM=" // 32 bytes
)

// newSecretFixture starts the secure test server (seeded with records in
// namespace test) and a plain TCP agent.
func newSecretFixture(t testing.TB) *secretFixture {
	t.Helper()
	fx := &secretFixture{tlsName: "asd.test", envKey: fxEnvKey}
	pki, err := satest.NewPKI(fx.tlsName)
	if err != nil {
		t.Fatal(err)
	}
	fx.clusterCA = pki.CAPEM
	clientCA, clientCert, clientKey := newClientCert(t)
	fx.clientCert, fx.clientKey = clientCert, clientKey
	fx.srv = startServer(t, asdsim.Config{
		Users: map[string]string{fxUser: fxPassword},
		TLS: &tls.Config{Certificates: []tls.Certificate{pki.Cert}, MinVersion: tls.VersionTLS12,
			ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCA},
	})
	if err := fx.srv.SeedSynthetic("test", "people", 150, 120); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		rec := asdsim.Record{Set: "misc", Key: asdsim.StringKey("k" + strconv.Itoa(i)),
			Bins: []asdsim.Bin{asdsim.StringBin("name", "value "+strconv.Itoa(i)), asdsim.FloatBin("f", float64(i)/3),
				asdsim.BytesBin("b", []byte{byte(i), 0, 0xff, '\n'}), asdsim.BoolBin("ok", i%2 == 0)}}
		if err := fx.srv.Put("test", rec); err != nil {
			t.Fatal(err)
		}
	}
	fx.keyPEM, err = os.ReadFile(filepath.Join(caseDir(t, "05-kitchen-aes128-keyfile"), "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	fx.agent = satest.NewServer(map[string]map[string]string{
		"creds": {"user": fxUser, "password": fxPassword},
		"certs": {"cluster-ca": string(fx.clusterCA), "client-cert": string(fx.clientCert), "client-key": string(fx.clientKey)},
		"keys":  {"backup-key": string(fx.keyPEM), "env-name": fxKeyEnvName},
		"":      {"namespace": "test"},
	})
	addr, err := fx.agent.ListenTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fx.agent.Close() })
	fx.agentAddr = addr.String()
	fx.secrets = []string{fxPassword, fxEnvKey, pemBody(fx.keyPEM), pemBody(fx.clusterCA), pemBody(fx.clientKey), pemBody(fx.clientCert)}
	return fx
}

// tlsConf is the [cluster] TLS part of a configuration file, every file
// from the agent.
const tlsConf = `tls-enable = true
tls-cafile = "secrets:certs:cluster-ca"
tls-certfile = "secrets:certs:client-cert"
tls-keyfile = "secrets:certs:client-key"
`

// newClientCert makes a CA (returned as a pool for the server) and a client
// certificate with its key (PEM) signed by it.
func newClientCert(t testing.TB) (*x509.CertPool, []byte, []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "client CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: fxUser},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// pemBody returns the first base64 line of a PEM block: enough to detect
// the block's content in any output.
func pemBody(p []byte) string {
	lines := strings.Split(string(p), "\n")
	if len(lines) < 2 {
		return string(p)
	}
	return lines[1]
}

// hostArg is the --host value of the secure server (host:tls-name:port).
func (fx *secretFixture) hostArg() string {
	return "127.0.0.1:" + fx.tlsName + ":" + strconv.Itoa(fx.srv.Port())
}

// assertNoSecret fails if any of the secret values occurs in text.
func (fx *secretFixture) assertNoSecret(t testing.TB, what, text string) {
	t.Helper()
	for _, s := range fx.secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s contains the secret value %q", what, s)
		}
	}
}

// snapshot returns the records of a namespace.
func snapshot(srv *asdsim.Server, ns string) []asdsim.Record { return srv.Records(ns) }

// assertSameRecords compares restored records with the originals: digest,
// set, stored key and bins (type and bytes); generation and last-update
// time are the server's.
func assertSameRecords(t testing.TB, want, got []asdsim.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("restored %d records, want %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if w.Digest != g.Digest || w.Set != g.Set || w.VoidTime != g.VoidTime {
			t.Fatalf("record %d: got digest %x set %q void %d, want %x %q %d", i, g.Digest, g.Set, g.VoidTime, w.Digest, w.Set, w.VoidTime)
		}
		if (w.Key == nil) != (g.Key == nil) || w.Key != nil && (w.Key.Type != g.Key.Type || !bytes.Equal(w.Key.Data, g.Key.Data)) {
			t.Fatalf("record %x: key differs", w.Digest)
		}
		if ok, why := sameBins(g.Bins, w.Bins); !ok {
			t.Fatalf("record %x: %s", w.Digest, why)
		}
	}
}

// writeFile writes a test file and returns its path.
func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// shortTempDir returns a temporary directory with a short path (Unix socket
// paths are limited to 107 bytes).
func shortTempDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "sa")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// waitFor polls cond every 5 ms until it is true or d elapses.
func waitFor(d time.Duration, cond func() bool) bool {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if cond() {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return cond()
}
