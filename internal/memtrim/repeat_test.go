package memtrim

import (
	"testing"
	"time"
)

// Repeat calls release again and again, and never after it has returned
// once done is closed.
func TestRepeat(t *testing.T) {
	calls := make(chan struct{}, 1000)
	done := make(chan struct{})
	returned := make(chan struct{})
	go func() {
		Repeat(func() { calls <- struct{}{} }, time.Millisecond, time.Millisecond, done)
		close(returned)
	}()
	for range 3 {
		<-calls
	}
	close(done)
	<-returned
	n := len(calls)
	time.Sleep(10 * time.Millisecond)
	if len(calls) != n {
		t.Fatalf("release called %d times after Repeat returned", len(calls)-n)
	}
}
