package e2e

import (
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"asbtools/asdsim"
)

// partLink is a proxy in front of the S3 test server standing for the
// network between a tool and a store reached over plain HTTP. It records,
// for every part upload, the x-amz-checksum-crc32c header sent and the
// CRC-32C of the body as sent, and, when faulty is set, changes one byte in
// the middle of every part on its way (the body is not covered by the
// UNSIGNED-PAYLOAD signature).
type partLink struct {
	addr   string
	faulty atomic.Bool
	mu     sync.Mutex
	parts  []linkPart
}

type linkPart struct{ header, sent string }

// crcReader computes the CRC-32C of what is read through it, then flips
// the byte at flip (-1: none).
type crcReader struct {
	r     io.ReadCloser
	crc   uint32
	pos   int64
	flip  int64
	done  func(sum uint32)
	ended bool
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func (c *crcReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.crc = crc32.Update(c.crc, castagnoli, p[:n])
	if c.flip >= c.pos && c.flip < c.pos+int64(n) {
		p[c.flip-c.pos] ^= 0x20
	}
	c.pos += int64(n)
	if err == io.EOF && !c.ended {
		c.ended = true
		c.done(c.crc)
	}
	return n, err
}

func (c *crcReader) Close() error { return c.r.Close() }

func newPartLink(t testing.TB) *partLink {
	t.Helper()
	l := &partLink{}
	l.addr = s3Proxy(t, func(r *http.Request) {
		if r.Method != http.MethodPut || !r.URL.Query().Has("partNumber") {
			return
		}
		flip := int64(-1)
		if l.faulty.Load() {
			flip = r.ContentLength / 2
		}
		header := r.Header.Get("X-Amz-Checksum-Crc32c")
		r.Body = &crcReader{r: r.Body, flip: flip, done: func(sum uint32) {
			var b [4]byte
			binary.BigEndian.PutUint32(b[:], sum)
			l.mu.Lock()
			l.parts = append(l.parts, linkPart{header: header, sent: base64.StdEncoding.EncodeToString(b[:])})
			l.mu.Unlock()
		}}
	})
	return l
}

func (l *partLink) take() []linkPart {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.parts
	l.parts = nil
	return out
}

// TestS3PartChecksums backs up to S3 over plain HTTP through a link that
// may corrupt the parts: every part carries its CRC-32C in an
// x-amz-checksum-crc32c header, so a part changed on the way is refused by
// the store and the backup stops (exit 1, an ERR line, no object) instead
// of storing a damaged backup, and --continue over a sound link completes
// it with every record; ASBACKUP_S3_CHECKSUM=none sends no
// checksum (the damaged object is then stored); any other value of it is
// refused before anything is written.
func TestS3PartChecksums(t *testing.T) {
	src := resumeServer(t)
	bucket := s3Bucket(t)
	link := newPartLink(t)
	work := t.TempDir()
	// backup backs up to key; extra holds NAME=value environment entries
	// and further arguments.
	backup := func(key string, extra ...string) toolRun {
		var env, args []string
		for _, e := range extra {
			if strings.Contains(e, "=") {
				env = append(env, e)
			} else {
				args = append(args, e)
			}
		}
		return runTool(t, "asbackup", work, s3Env(t, env...), append(append(append(hostArgs(src), "-n", "test", "-o", "s3://"+bucket+"/"+key),
			"--s3-endpoint-override", link.addr), args...)...)
	}

	res := backup("clean.asb")
	if res.code != 0 {
		t.Fatalf("backup: exit %d\n%s", res.code, res.stderr)
	}
	parts := link.take()
	if len(parts) < 3 {
		t.Fatalf("%d parts uploaded, want several", len(parts))
	}
	for i, p := range parts {
		if p.header != p.sent {
			t.Errorf("part %d: x-amz-checksum-crc32c %q, CRC-32C of the body %q", i, p.header, p.sent)
		}
	}
	dst := startServer(t, asdsim.Config{})
	res = runTool(t, "asrestore", work, s3Env(t), append(append(hostArgs(dst), "-i", "s3://"+bucket+"/clean.asb"), s3Flags(t)...)...)
	if res.code != 0 || dst.Count("test", "rs") != resumeRecords {
		t.Fatalf("restore: exit %d, %d records\n%s", res.code, dst.Count("test", "rs"), res.stderr)
	}

	link.faulty.Store(true)
	res = backup("corrupted.asb")
	if res.code != 1 || !strings.Contains(res.stderr, "ERR") || !strings.Contains(res.stderr, "x-amz-checksum") {
		t.Errorf("backup through a corrupting link: exit %d, want 1 with an ERR line about the checksum\n%s", res.code, lastLines(res.stderr, 8))
	}
	if keys := s3Keys(t, bucket, "corrupted"); len(keys) != 0 {
		t.Errorf("backup through a corrupting link left %v", keys)
	}
	link.take()
	// The refused part was kept: once the link is sound, --continue
	// uploads it again and completes the object.
	link.faulty.Store(false)
	res = backup("corrupted.asb", "--continue", "test.asb.state")
	if res.code != 0 {
		t.Fatalf("--continue over a sound link: exit %d\n%s", res.code, lastLines(res.stderr, 8))
	}
	for i, p := range link.take() {
		if p.header != p.sent {
			t.Errorf("--continue: part %d: x-amz-checksum-crc32c %q, CRC-32C of the body %q", i, p.header, p.sent)
		}
	}
	dst = startServer(t, asdsim.Config{})
	res = runTool(t, "asrestore", work, s3Env(t), append(append(hostArgs(dst), "-i", "s3://"+bucket+"/corrupted.asb"), s3Flags(t)...)...)
	if res.code != 0 || dst.Count("test", "rs") != resumeRecords {
		t.Fatalf("restore of the continued backup: exit %d, %d records\n%s", res.code, dst.Count("test", "rs"), res.stderr)
	}
	link.faulty.Store(true)

	res = backup("unchecked.asb", "ASBACKUP_S3_CHECKSUM=none")
	if res.code != 0 {
		t.Fatalf("backup with ASBACKUP_S3_CHECKSUM=none: exit %d\n%s", res.code, lastLines(res.stderr, 8))
	}
	for i, p := range link.take() {
		if p.header != "" {
			t.Errorf("ASBACKUP_S3_CHECKSUM=none: part %d sent x-amz-checksum-crc32c %q", i, p.header)
		}
	}
	if keys := s3Keys(t, bucket, "unchecked"); len(keys) != 1 {
		t.Errorf("ASBACKUP_S3_CHECKSUM=none through a corrupting link: objects %v, want the (damaged) object", keys)
	}

	link.faulty.Store(false)
	res = backup("bogus.asb", "ASBACKUP_S3_CHECKSUM=md5")
	if res.code != 1 || !strings.Contains(res.stderr, "ASBACKUP_S3_CHECKSUM=md5: unknown value, must be crc32c or none") {
		t.Errorf("ASBACKUP_S3_CHECKSUM=md5: exit %d\n%s", res.code, lastLines(res.stderr, 8))
	}
	if parts := link.take(); len(parts) != 0 || len(s3Keys(t, bucket, "bogus")) != 0 {
		t.Errorf("ASBACKUP_S3_CHECKSUM=md5: %d parts uploaded", len(parts))
	}
}
