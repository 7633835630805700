package asbfs_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"asbtools/asb"
	"asbtools/secretagent/satest"
	"asbtools/stream"
)

// agent starts a Secret Agent test peer serving secrets and returns it
// with its host and port.
func agent(t *testing.T, secrets map[string]map[string]string) (*satest.Server, string, string) {
	t.Helper()
	srv := satest.NewServer(secrets)
	addr, err := srv.ListenTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		t.Fatal(err)
	}
	return srv, host, port
}

func writeConf(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "astools.conf")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// asbfsFails runs asbfs expecting exit code 1 and a message containing want.
func asbfsFails(t *testing.T, want string, args ...string) {
	t.Helper()
	mnt := filepath.Join(t.TempDir(), "mnt")
	os.Mkdir(mnt, 0o755)
	out, err := exec.Command(asbfsBin, append(args, mnt)...).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("asbfs %q: %v, want exit code 1; output %s", args, err, out)
	}
	if !strings.Contains(string(out), want) {
		t.Errorf("asbfs %q: output %q, want %q", args, out, want)
	}
	if isMounted(t, mnt) {
		unmount(mnt, false)
		t.Errorf("asbfs %q left a mount", args)
	}
}

// TestKeyFromSecretAgent gives the encryption key as secrets:resource:key,
// on the command line and in a configuration file, and checks that the
// Secret Agent was asked for it and the encrypted backup is served whole.
func TestKeyFromSecretAgent(t *testing.T) {
	needFUSE(t)
	dir := filepath.Join(goldenDir, "05-kitchen-aes128-keyfile")
	pem, err := os.ReadFile(filepath.Join(dir, "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	exp := loadExpected(t, dir)
	backup := filepath.Join(dir, "backup.asb")

	t.Run("command-line", func(t *testing.T) {
		srv, host, port := agent(t, map[string]map[string]string{"backups": {"bk-key": string(pem)}})
		mnt := mount(t, nil, "--no-config-file", "-y", "aes128", "--encryption-key-file", "secrets:backups:bk-key",
			"--sa-address", host, "--sa-port", port, backup)
		checkMount(t, mnt, exp)
		reqs := srv.Requests()
		if len(reqs) != 1 || reqs[0].Resource != "backups" || reqs[0].SecretKey != "bk-key" {
			t.Errorf("agent requests %+v, want one for backups:bk-key", reqs)
		}
	})
	t.Run("host-and-port-in-address", func(t *testing.T) {
		_, host, port := agent(t, map[string]map[string]string{"": {"k": string(pem)}})
		mnt := mount(t, nil, "--no-config-file", "-y", "aes128", "--encryption-key-file", "secrets:k",
			"--sa-address", host+":"+port, backup)
		if n := len(strings.Fields(string(run(t, "ls", filepath.Join(mnt, "test", "kitchen"))))); n == 0 {
			t.Errorf("no records served")
		}
	})
	t.Run("config-file", func(t *testing.T) {
		srv, host, port := agent(t, map[string]map[string]string{"backups": {"bk-key": string(pem)}})
		cfg := writeConf(t, fmt.Sprintf("[secret-agent]\nsa-address = %q\nsa-port = %q\n\n[asrestore]\nencrypt = \"aes128\"\nencryption-key-file = \"secrets:backups:bk-key\"\n", host, port))
		mnt := mount(t, nil, "--only-config-file", cfg, backup)
		checkMount(t, mnt, exp)
		if len(srv.Requests()) != 1 {
			t.Errorf("agent requests %+v, want one", srv.Requests())
		}
	})
	t.Run("missing-secret", func(t *testing.T) {
		_, host, port := agent(t, map[string]map[string]string{"backups": {}})
		asbfsFails(t, "secret-agent:", "--no-config-file", "-y", "aes128", "--encryption-key-file", "secrets:backups:nope",
			"--sa-address", host, "--sa-port", port, backup)
	})
	t.Run("no-agent", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		_, deadPort, _ := net.SplitHostPort(ln.Addr().String())
		ln.Close()
		asbfsFails(t, "secret-agent:", "--no-config-file", "-y", "aes128", "--encryption-key-file", "secrets:backups:bk-key",
			"--sa-address", "127.0.0.1", "--sa-port", deadPort, "--sa-timeout", "500", backup)
	})
}

// TestKeyFromConfigFile takes the cipher and key from astools.conf: a key
// file, an environment variable, an --instance section, and the command
// line overriding the file.
func TestKeyFromConfigFile(t *testing.T) {
	needFUSE(t)
	dir05 := mustAbs(t, filepath.Join(goldenDir, "05-kitchen-aes128-keyfile"))
	dir06 := mustAbs(t, filepath.Join(goldenDir, "06-kitchen-zstd-aes256-env"))
	envKey, err := os.ReadFile(filepath.Join(dir06, "env-key.txt"))
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir05, "key.pem")

	t.Run("key-file", func(t *testing.T) {
		cfg := writeConf(t, fmt.Sprintf("[asrestore]\nencrypt = \"aes128\"\nencryption-key-file = %q\n", keyFile))
		mnt := mount(t, nil, "--only-config-file", cfg, filepath.Join(dir05, "backup.asb"))
		checkMount(t, mnt, loadExpected(t, dir05))
	})
	t.Run("key-env-and-compression", func(t *testing.T) {
		cfg := writeConf(t, "[asrestore]\ncompress = \"zstd\"\nencrypt = \"aes256\"\nencryption-key-env = \"ASBFS_CONF_KEY\"\n")
		mnt := mount(t, []string{"ASBFS_CONF_KEY=" + strings.TrimSpace(string(envKey))}, "--config-file", cfg, filepath.Join(dir06, "backup.asb"))
		checkMount(t, mnt, loadExpected(t, dir06))
	})
	t.Run("instance", func(t *testing.T) {
		cfg := writeConf(t, fmt.Sprintf("[asrestore]\nencrypt = \"aes256\"\nencryption-key-file = \"/nonexistent.pem\"\n\n[asrestore_nightly]\nencrypt = \"aes128\"\nencryption-key-file = %q\n", keyFile))
		mnt := mount(t, nil, "--only-config-file", cfg, "--instance", "nightly", filepath.Join(dir05, "backup.asb"))
		if n := len(strings.Fields(string(run(t, "ls", filepath.Join(mnt, "test", "kitchen"))))); n == 0 {
			t.Errorf("no records served")
		}
	})
	t.Run("command-line-wins", func(t *testing.T) {
		// The file's cipher would not decrypt the backup.
		cfg := writeConf(t, fmt.Sprintf("[asrestore]\nencrypt = \"aes256\"\nencryption-key-file = %q\n", keyFile))
		asbfsFails(t, "wrong encryption key", "--only-config-file", cfg, filepath.Join(dir05, "backup.asb"))
		mnt := mount(t, nil, "--only-config-file", cfg, "-y", "aes128", filepath.Join(dir05, "backup.asb"))
		if n := len(strings.Fields(string(run(t, "ls", filepath.Join(mnt, "test", "kitchen"))))); n == 0 {
			t.Errorf("no records served")
		}
	})
	t.Run("bad-key-file-in-config", func(t *testing.T) {
		cfg := writeConf(t, "[asrestore]\nencrypt = \"aes128\"\nencryption-key-file = \"/nonexistent.pem\"\n")
		asbfsFails(t, `Could not open private key file "/nonexistent.pem"`, "--only-config-file", cfg, filepath.Join(dir05, "backup.asb"))
	})
	t.Run("bad-config", func(t *testing.T) {
		cfg := writeConf(t, "[asrestore]\nencrypt = \"aes512\"\n")
		asbfsFails(t, "encrypt", "--only-config-file", cfg, filepath.Join(dir05, "backup.asb"))
	})
}

// TestTruncatedCompressed mounts a zstd-compressed file cut in the middle:
// every record of the text before the cut is served, nothing else, and
// %errors names the file and the truncation.
func TestTruncatedCompressed(t *testing.T) {
	needFUSE(t)
	// About 600 KiB of text: several zstd frames (one per 128 KiB).
	var text bytes.Buffer
	w := asb.NewWriter(&text)
	if err := w.WriteHeader(&asb.Header{Meta: []asb.Meta{asb.NamespaceMeta("test"), asb.FirstFileMeta()}}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3000; i++ {
		r := asb.Record{Key: asb.Key{Type: asb.KeyString, Bytes: []byte(fmt.Sprintf("user-%05d", i))}, Namespace: []byte("test"),
			Set: []byte("users"), HasSet: true, Generation: 1, Digest: [20]byte{byte(i), byte(i >> 8), 9},
			Bins: []asb.Bin{{Name: []byte("n"), Type: asb.BinString, Bytes: bytes.Repeat([]byte{'a' + byte(i%26)}, 150+i%50)}}}
		if err := w.WriteRecord(&r); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	var comp bytes.Buffer
	sw, err := stream.NewWriter(&comp, stream.Options{Compress: true})
	if err != nil {
		t.Fatal(err)
	}
	sw.Write(text.Bytes())
	sw.Close()
	cut := comp.Bytes()[:comp.Len()*6/10]
	path := filepath.Join(t.TempDir(), "cut.asb")
	if err := os.WriteFile(path, cut, 0o644); err != nil {
		t.Fatal(err)
	}

	// What the stream decoder yields before the cut, and its records.
	rd, err := stream.NewReader(bytes.NewReader(cut), stream.Options{Compress: true})
	if err != nil {
		t.Fatal(err)
	}
	prefix, err := io.ReadAll(rd)
	if !errors.Is(err, stream.ErrTruncatedFrame) {
		t.Fatalf("decoding the cut file: %v, want a truncated frame", err)
	}
	var want []string
	ar := asb.NewReader(bytes.NewReader(prefix), asb.ReaderOptions{})
	for {
		e, err := ar.Next()
		if err != nil {
			break
		}
		want = append(want, string(e.Record.Key.Bytes))
	}
	if len(want) < 100 || len(want) > 2900 {
		t.Fatalf("%d records before the cut; the test needs a cut in the middle", len(want))
	}

	mnt := mount(t, nil, "--no-config-file", path)
	got := strings.Fields(string(run(t, "ls", filepath.Join(mnt, "test", "users"))))
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("served %d records, want the %d before the cut", len(got), len(want))
	}
	last := want[len(want)-1]
	data := run(t, "cat", filepath.Join(mnt, "test", "users", last))
	if !bytes.Contains(data, []byte(`"key": {"str": "`+last+`"}`)) {
		t.Errorf("%s: %s", last, data)
	}
	errs := string(run(t, "cat", filepath.Join(mnt, "%errors")))
	sc := bufio.NewScanner(strings.NewReader(errs))
	found := false
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), path+":") && strings.Contains(sc.Text(), "truncated file") {
			found = true
		}
	}
	if !found {
		t.Errorf("%%errors = %q, want the truncation of %s", errs, path)
	}
}
