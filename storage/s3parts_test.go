package storage

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestS3PartSizes checks the legacy starting part size (_calc_part_size)
// and that 10,000 parts hold a 5 TiB object whatever the starting size.
func TestS3PartSizes(t *testing.T) {
	for _, c := range []struct {
		min      int64
		expected uint64
		want     int64
	}{
		{0, 0, 5 << 20},
		{0, 250 << 20, 5 << 20},             // the default file limit
		{0, 50 << 30, 5368710},              // ceil(50 GiB / 10,000)
		{0, 3 << 40, 329853489},             // ceil(3 TiB / 10,000)
		{64 << 20, 3 << 40, 64 << 20},       // --s3-min-part-size wins
		{5 << 30, 0, 5 << 30},               // the largest legal value
		{0, S3MaxObjectSize, 549755814},     // ceil(5 TiB / 10,000)
		{0, S3MaxObjectSize - 1, 549755814}, // rounded up
	} {
		if got := (S3Options{MinPartSize: c.min}).basePartSize(c.expected); got != c.want {
			t.Errorf("min %d, expected %d: part size %d, want %d", c.min, c.expected, got, c.want)
		}
	}
	for _, base := range []int64{5 << 20, 7 << 20, 64 << 20, 549755814, 5 << 30} {
		w := &s3Writer{base: base}
		var total int64
		for n := int32(1); n <= S3MaxParts; n++ {
			sz := w.partSize(n)
			if n <= s3RampFrom && sz != base {
				t.Fatalf("base %d: part %d has %d bytes; parts keep the starting size up to part %d as legacy", base, n, sz, s3RampFrom)
			}
			if sz < base || sz > S3MaxPartSize || (n > 1 && sz < w.partSize(n-1)) {
				t.Fatalf("base %d: part %d has %d bytes", base, n, sz)
			}
			total += sz
		}
		if total < S3MaxObjectSize {
			t.Errorf("base %d: 10,000 parts hold %d bytes, less than 5 TiB", base, total)
		}
	}
}

// TestS3PartSizeFromExpected uploads an object created for an expected
// size of 120 GiB: its parts are ceil(120 GiB / 10,000) bytes (3 parts for
// 30 MiB, where 5 MiB parts would make 6), as legacy sizes them.
func TestS3PartSizeFromExpected(t *testing.T) {
	s := newStore(t, nil)
	b := newBucket(t)
	path := "s3://" + b + "/sized.asb"
	w, err := s.CreateSized(path, 120<<30)
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(30<<20, 5)
	writeIn(t, w, data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	head, err := s.Client().HeadObject(bg, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("sized.asb")})
	if err != nil {
		t.Fatal(err)
	}
	if etag := aws.ToString(head.ETag); !strings.HasSuffix(strings.Trim(etag, `"`), "-3") {
		t.Errorf("ETag %s: want an object of 3 parts", etag)
	}
	if _, err := s.CreateSized("s3://"+b+"/huge.asb", S3MaxObjectSize+1); err == nil ||
		err.Error() != "The max S3 object size is 5497558138880, but expected file size is 5497558138881" {
		t.Errorf("expected size over 5 TiB: %v", err)
	}
}

// TestS3PartsBeyondTheRamp uploads parts numbered from 8,000 on: they
// double every 100 parts (and OnPartSize reports each new size, for the
// memory limit); past part 10,000 the upload fails instead of sending a
// part S3 refuses.
func TestS3PartsBeyondTheRamp(t *testing.T) {
	var grown []int64
	s := newStore(t, func(o *S3Options) { o.OnPartSize = func(n int64) { grown = append(grown, n) } })
	b := newBucket(t)
	sk, err := s.Create("s3://" + b + "/ramp.asb")
	if err != nil {
		t.Fatal(err)
	}
	w := sk.(*s3Writer)
	defer w.Abort()
	// As if 7,999 parts had been uploaded: part 8,000 has the starting
	// size, part 8,001 twice that.
	w.partNum = s3RampFrom - 1
	writeIn(t, w, randomBytes(5<<20+10<<20+7, 6))
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	sizes, err := s.listParts(b, "ramp.asb", w.uploadID)
	if err != nil {
		t.Fatal(err)
	}
	if len(sizes) != 2 || sizes[s3RampFrom].size != 5<<20 || sizes[s3RampFrom+1].size != 10<<20 {
		t.Fatalf("parts after the ramp start: %+v", sizes)
	}
	if fmt.Sprint(grown) != fmt.Sprint([]int64{5 << 20, 10 << 20}) {
		t.Errorf("part sizes reported: %v, want 5 and 10 MiB", grown)
	}
	if up := w.Upload(); up.PartNumber != s3RampFrom+2 || len(up.Pending) != 7 {
		t.Fatalf("upload state: next part %d, %d pending", up.PartNumber, len(up.Pending))
	}
	// The 10,000th part was the last one.
	w.partNum = S3MaxParts
	w.st.parts.put(w.buf)
	w.buf = nil
	if _, err := w.Write([]byte{'x'}); err == nil || !strings.Contains(err.Error(), "more than 10000 parts") {
		t.Fatalf("writing past 10,000 parts: %v", err)
	}
}
