package compat

import (
	"testing"
)

// Settings the loader already resolved (Secret) are not fetched again, and
// PEM options take their content; a later path (file or command line)
// replaces earlier content and the other way round.
func TestLoadedSecretSettings(t *testing.T) {
	var calls []secretCall
	pem := "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
	secretSet := func(section, key string, v any) ConfigSetting {
		s := set(section, key, v)
		s.Secret = true
		return s
	}
	settings := []ConfigSetting{
		secretSet("cluster", "tls-cafile", pem),
		secretSet("cluster", "tls-certfile", pem),
		secretSet("cluster", "password", "secrets:looks-like-a-ref"),
		secretSet("cluster", "port", int64(3100)),
		set("cluster", "tls-keyfile", "key.pem"),
		secretSet("cluster", "tls-keyfile", pem),
	}
	env := testEnv(t, settings, map[string]string{"secrets:cli-ca": pem}, &calls)
	c := backupOK(t, env, "-n", "a", "-o", "x", "--tls-certfile", "cert.pem")
	tl := c.Cluster.TLS
	if string(tl.CAFileContent) != pem || tl.CAFile.Set {
		t.Errorf("tls-cafile: %q %+v", tl.CAFileContent, tl.CAFile)
	}
	if tl.CertFileContent != nil || tl.CertFile.Value != "cert.pem" {
		t.Errorf("command-line path does not replace the file's content: %q %+v", tl.CertFileContent, tl.CertFile)
	}
	if string(tl.KeyFileContent) != pem || tl.KeyFile.Set {
		t.Errorf("later content does not replace the earlier path: %q %+v", tl.KeyFileContent, tl.KeyFile)
	}
	if c.Cluster.Password != "secrets:looks-like-a-ref" || c.Cluster.Port != 3100 || len(calls) != 0 {
		t.Errorf("password %q port %d calls %+v", c.Cluster.Password, c.Cluster.Port, calls)
	}
	c = backupOK(t, env, "-n", "a", "-o", "x", "--tls-cafile", "ca.pem", "--tls-keyfile", "secrets:cli-ca")
	if c.Cluster.TLS.CAFileContent != nil || c.Cluster.TLS.CAFile.Value != "ca.pem" ||
		string(c.Cluster.TLS.KeyFileContent) != pem || c.Cluster.TLS.KeyFile.Set {
		t.Errorf("command line over file: %+v", c.Cluster.TLS)
	}
}

func TestSecretAgentUnixAndIPv6Addresses(t *testing.T) {
	for _, tc := range []struct{ addr, wantAddr, wantPort string }{
		{"unix:/run/sa.sock", "unix:/run/sa.sock", "3005"},
		{"/run/sa.sock", "/run/sa.sock", "3005"},
		{"::1", "::1", "3005"},
		{"fe80::1:2", "fe80::1:2", "3005"},
	} {
		sa := SecretAgentConfig{Address: tc.addr, Port: "3005"}
		splitSAAddress(&sa, false)
		if sa.Address != tc.wantAddr || sa.Port != tc.wantPort {
			t.Errorf("%q: %q %q", tc.addr, sa.Address, sa.Port)
		}
	}
}
