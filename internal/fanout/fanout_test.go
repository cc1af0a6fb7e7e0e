package fanout

import (
	"context"
	"reflect"
	"sync/atomic"
	"testing"
	"time"
)

func TestEachBoundsConcurrency(t *testing.T) {
	var running, peak atomic.Int32
	var calls atomic.Int32
	Each(context.Background(), 40, 3, func(context.Context, int) {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(time.Millisecond)
		calls.Add(1)
		running.Add(-1)
	})
	if calls.Load() != 40 {
		t.Errorf("%d calls, want 40", calls.Load())
	}
	if p := peak.Load(); p > 3 || p < 1 {
		t.Errorf("peak concurrency %d, want 1..3", p)
	}
}

func TestFillKeepsWhatIsNotGoneInOrder(t *testing.T) {
	items := []int{0, 1, 2, 3, 4, 5, 6, 7}
	got := Fill(context.Background(), items, 2, func(_ context.Context, v *int) bool {
		*v *= 10 // fill sees and changes the item itself
		return *v%20 != 0
	})
	if want := []int{0, 20, 40, 60}; !reflect.DeepEqual(got, want) {
		t.Errorf("Fill = %v, want %v", got, want)
	}
	if got := Fill(context.Background(), items, 0, func(context.Context, *int) bool { return true }); got != nil {
		t.Errorf("Fill with every item gone = %v, want nil", got)
	}
}
