package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"asbtools/stream"
)

// TestSecretsRoundTripCommandLine backs up a TLS cluster with login whose
// user, password, namespace, TLS CA certificate and encryption key all come
// from the Secret Agent on the command line, then restores the backup into
// the emptied namespace with the same secret-sourced options.
func TestSecretsRoundTripCommandLine(t *testing.T) {
	fx := newSecretFixture(t)
	dir := t.TempDir()
	want := snapshot(fx.srv, "test")

	common := []string{"--sa-address", fx.agentAddr, "-h", fx.hostArg(), "--tls-enable", "--tls-cafile", "secrets:certs:cluster-ca",
		"--tls-certfile", "secrets:certs:client-cert", "--tls-keyfile", "secrets:certs:client-key", "-U", "secrets:creds:user", "-P", "secrets:creds:password"}

	t.Run("key-file", func(t *testing.T) {
		before := len(fx.agent.Requests())
		bk := runTool(t, "asbackup", dir, nil, append(common, "-n", "secrets:namespace", "-o", "kf.asb",
			"-y", "aes256", "--encryption-key-file", "secrets:keys:backup-key", "--machine", "kf.machine")...)
		bk.mustSucceed(t, "asbackup")
		if !strings.Contains(bk.stderr, "Backed up 170 record(s)") {
			t.Fatalf("backup summary missing:\n%s", bk.stderr)
		}
		// One request per secret reference, each with the documented body.
		var bodies []string
		for _, r := range fx.agent.Requests()[before:] {
			bodies = append(bodies, string(r.Body))
		}
		wantBodies := []string{`{"Resource":"certs","SecretKey":"cluster-ca"}`, `{"Resource":"certs","SecretKey":"client-cert"}`,
			`{"Resource":"certs","SecretKey":"client-key"}`, `{"Resource":"creds","SecretKey":"user"}`,
			`{"Resource":"creds","SecretKey":"password"}`, `{"SecretKey":"namespace"}`, `{"Resource":"keys","SecretKey":"backup-key"}`}
		if strings.Join(bodies, "\n") != strings.Join(wantBodies, "\n") {
			t.Errorf("agent requests:\n%s\nwant:\n%s", strings.Join(bodies, "\n"), strings.Join(wantBodies, "\n"))
		}
		machine, err := os.ReadFile(filepath.Join(dir, "kf.machine"))
		if err != nil {
			t.Fatal(err)
		}
		if len(machine) == 0 {
			t.Error("--machine file is empty")
		}
		fx.assertNoSecret(t, "asbackup output", bk.output())
		fx.assertNoSecret(t, "--machine output", string(machine))
		assertEncryptedBackup(t, filepath.Join(dir, "kf.asb"), stream.AES256, fx.keyPEM, nil)

		if err := fx.srv.Truncate("test", ""); err != nil {
			t.Fatal(err)
		}
		rs := runTool(t, "asrestore", dir, nil, append(common, "-n", "secrets:namespace", "-i", "kf.asb",
			"--encrypt", "aes256", "--encryption-key-file", "secrets:keys:backup-key", "--machine", "kf-restore.machine")...)
		rs.mustSucceed(t, "asrestore")
		fx.assertNoSecret(t, "asrestore output", rs.output())
		if m, err := os.ReadFile(filepath.Join(dir, "kf-restore.machine")); err == nil {
			fx.assertNoSecret(t, "asrestore --machine output", string(m))
		}
		assertSameRecords(t, want, snapshot(fx.srv, "test"))
	})

	t.Run("key-env", func(t *testing.T) {
		env := []string{fxKeyEnvName + "=" + fx.envKey}
		bk := runTool(t, "asbackup", dir, env, append(common, "-n", "test", "-o", "env.asb", "-z", "zstd",
			"-y", "aes128", "--encryption-key-env", "secrets:keys:env-name")...)
		bk.mustSucceed(t, "asbackup")
		fx.assertNoSecret(t, "asbackup output", bk.output())
		assertEncryptedBackup(t, filepath.Join(dir, "env.asb"), stream.AES128, nil, &fx.envKey)

		if err := fx.srv.Truncate("test", ""); err != nil {
			t.Fatal(err)
		}
		rs := runTool(t, "asrestore", dir, env, append(common, "-n", "test", "-i", "env.asb", "--compress", "zstd",
			"--encrypt", "aes128", "--encryption-key-env", "secrets:keys:env-name")...)
		rs.mustSucceed(t, "asrestore")
		fx.assertNoSecret(t, "asrestore output", rs.output())
		assertSameRecords(t, want, snapshot(fx.srv, "test"))
	})

	t.Run("wrong-password-secret", func(t *testing.T) {
		// The password secret is really used: a different value fails the
		// login.
		fx.agent.SetSecret("creds", "other", []byte("not-the-password"))
		bk := runTool(t, "asbackup", dir, nil, "--sa-address", fx.agentAddr, "-h", fx.hostArg(), "--tls-enable", "--tls-cafile", "secrets:certs:cluster-ca",
			"--tls-certfile", "secrets:certs:client-cert", "--tls-keyfile", "secrets:certs:client-key", "-U", "secrets:creds:user", "-P", "secrets:creds:other",
			"-n", "test", "-o", "bad.asb")
		if bk.code != 1 {
			t.Fatalf("exit %d with a wrong password, want 1\n%s", bk.code, bk.stderr)
		}
		if strings.Contains(bk.output(), "not-the-password") {
			t.Error("output contains the wrong password")
		}
		// The client certificate from the agent is really used: without it
		// the cluster refuses the connection.
		bk = runTool(t, "asbackup", dir, nil, "--sa-address", fx.agentAddr, "-h", fx.hostArg(), "--tls-enable",
			"--tls-cafile", "secrets:certs:cluster-ca", "-U", "secrets:creds:user", "-P", "secrets:creds:password",
			"-n", "test", "-o", "nocert.asb")
		if bk.code != 1 || !strings.Contains(bk.stderr, "Error while connecting to "+fx.hostArg()) {
			t.Fatalf("exit %d without a client certificate, want 1 and a connection error\n%s", bk.code, bk.stderr)
		}
		fx.assertNoSecret(t, "asbackup output", bk.output())
	})
}

// TestSecretsRoundTripConfigFile is the same round trip with every secret
// reference, the agent address and the cluster settings in astools.conf
// (the per-user default file for the backup, --config-file for the
// restore).
func TestSecretsRoundTripConfigFile(t *testing.T) {
	fx := newSecretFixture(t)
	dir := t.TempDir()
	want := snapshot(fx.srv, "test")

	conf := `
[secret-agent]
sa-address = "` + fx.agentAddr + `"
sa-timeout = 3000

[cluster]
host = "` + fx.hostArg() + `"
` + tlsConf + `user = "secrets:creds:user"
password = "secrets:creds:password"

[asbackup]
namespace = "secrets:namespace"
output-file = "conf.asb"
compress = "zstd"
encrypt = "aes256"
encryption-key-file = "secrets:keys:backup-key"
machine = "conf.machine"

[asrestore]
namespace = "secrets:namespace"
input-file = "conf.asb"
compress = "zstd"
encrypt = "aes256"
encryption-key-file = "secrets:keys:backup-key"
`
	writeFile(t, dir, ".aerospike/astools.conf", conf)
	bk := runTool(t, "asbackup", dir, nil)
	bk.mustSucceed(t, "asbackup")
	if !strings.Contains(bk.stderr, "Backed up 170 record(s)") || !strings.Contains(bk.stderr, "(namespace: test,") {
		t.Fatalf("unexpected backup log:\n%s", bk.stderr)
	}
	fx.assertNoSecret(t, "asbackup output", bk.output())
	if m, err := os.ReadFile(filepath.Join(dir, "conf.machine")); err != nil || len(m) == 0 {
		t.Errorf("--machine file from the configuration: %v", err)
	} else {
		fx.assertNoSecret(t, "--machine output", string(m))
	}
	assertEncryptedBackup(t, filepath.Join(dir, "conf.asb"), stream.AES256, fx.keyPEM, nil)

	// The restore reads the same settings through --config-file (HOME
	// points elsewhere).
	if err := os.Rename(filepath.Join(dir, ".aerospike", "astools.conf"), filepath.Join(dir, "tools.conf")); err != nil {
		t.Fatal(err)
	}
	if err := fx.srv.Truncate("test", ""); err != nil {
		t.Fatal(err)
	}
	rs := runTool(t, "asrestore", dir, nil, "--config-file", "tools.conf")
	rs.mustSucceed(t, "asrestore")
	fx.assertNoSecret(t, "asrestore output", rs.output())
	assertSameRecords(t, want, snapshot(fx.srv, "test"))

	// Key from a variable whose name is a secret, in the configuration.
	env := []string{fxKeyEnvName + "=" + fx.envKey}
	conf2 := strings.Replace(conf, `encryption-key-file = "secrets:keys:backup-key"`, `encryption-key-env = "secrets:keys:env-name"`, -1)
	conf2 = strings.Replace(conf2, `"conf.asb"`, `"conf-env.asb"`, -1)
	writeFile(t, dir, "tools-env.conf", conf2)
	bk = runTool(t, "asbackup", dir, env, "--only-config-file", "tools-env.conf")
	bk.mustSucceed(t, "asbackup (key variable)")
	assertEncryptedBackup(t, filepath.Join(dir, "conf-env.asb"), stream.AES256, nil, &fx.envKey)
	if err := fx.srv.Truncate("test", ""); err != nil {
		t.Fatal(err)
	}
	rs = runTool(t, "asrestore", dir, env, "--only-config-file", "tools-env.conf")
	rs.mustSucceed(t, "asrestore (key variable)")
	fx.assertNoSecret(t, "outputs", bk.output()+rs.output())
	assertSameRecords(t, want, snapshot(fx.srv, "test"))
}

// assertEncryptedBackup checks that a backup file is not readable as plain
// text and decodes, with the key from keyPEM or the base64 envKey (zstd is
// detected by trying), to a 3.1 backup.
func assertEncryptedBackup(t testing.TB, path string, c stream.Cipher, keyPEM []byte, envKey *string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("Version 3.1")) {
		t.Fatalf("%s is not encrypted", path)
	}
	var material []byte
	if keyPEM != nil {
		material, err = stream.KeyMaterialFromPEM(keyPEM)
	} else {
		material, err = stream.DecodeBase64Key(*envKey)
	}
	if err != nil {
		t.Fatal(err)
	}
	key := stream.DeriveKey(material, c)
	for _, compress := range []bool{false, true} {
		opts := stream.Options{Compress: compress, Cipher: c, Key: key}
		sr, err := stream.NewReader(bytes.NewReader(data), opts)
		if err != nil {
			continue
		}
		head := make([]byte, 12)
		n, _ := sr.Read(head)
		sr.Close()
		if strings.HasPrefix(string(head[:n]), "Version 3.1\n") {
			return
		}
	}
	t.Fatalf("%s does not decrypt to a backup with the expected key", path)
}
