package paging

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

type options struct{}

// pager pages over fixed pages and fails with err at page failAt (if err
// is set), as an SDK paginator does: NextPage after the last page is not
// called because HasMorePages is false.
type pager struct {
	pages  [][]int
	next   int
	failAt int
	err    error
	calls  int
}

func (p *pager) HasMorePages() bool { return p.next < len(p.pages) }

func (p *pager) NextPage(ctx context.Context, _ ...func(*options)) ([]int, error) {
	p.calls++
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if p.err != nil && p.next == p.failAt {
		return nil, p.err
	}
	page := p.pages[p.next]
	p.next++
	return page, nil
}

func TestAllReadsEveryPageInOrder(t *testing.T) {
	p := &pager{pages: [][]int{{1, 2}, {}, {3}, {4, 5}}}
	got, err := All(context.Background(), p, func(page []int) []string {
		var out []string
		for _, v := range page {
			if v != 4 { // items may filter
				out = append(out, string(rune('a'+v-1)))
			}
		}
		return out
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "b", "c", "e"}; !reflect.DeepEqual(got, want) {
		t.Errorf("All = %v, want %v", got, want)
	}
	if p.calls != 4 {
		t.Errorf("%d NextPage calls, want 4", p.calls)
	}
}

func TestAllReturnsNilAndTheErrorUnchanged(t *testing.T) {
	boom := errors.New("boom")
	p := &pager{pages: [][]int{{1}, {2}, {3}}, failAt: 1, err: boom}
	got, err := All(context.Background(), p, func(page []int) []int { return page })
	if err != boom { // the very error, not wrapped: callers wrap it
		t.Errorf("err = %v, want %v", err, boom)
	}
	if got != nil {
		t.Errorf("All on error = %v, want nil", got)
	}
	if p.calls != 2 {
		t.Errorf("%d NextPage calls, want 2 (none after the error)", p.calls)
	}
}

func TestPagesVisitsThePagesBeforeTheError(t *testing.T) {
	boom := errors.New("boom")
	p := &pager{pages: [][]int{{1}, {2}, {3}}, failAt: 2, err: boom}
	var seen []int
	err := Pages(context.Background(), p, func(page []int) { seen = append(seen, page...) })
	if err != boom {
		t.Errorf("err = %v, want %v", err, boom)
	}
	if want := []int{1, 2}; !reflect.DeepEqual(seen, want) {
		t.Errorf("visited %v before the error, want %v", seen, want)
	}
}

func TestNoPagesIsNil(t *testing.T) {
	got, err := All(context.Background(), &pager{}, func(page []int) []int { return page })
	if err != nil || got != nil {
		t.Errorf("All of no pages = %v, %v; want nil, nil", got, err)
	}
}

func TestCancelledContextStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := All(ctx, &pager{pages: [][]int{{1}}}, func(page []int) []int { return page })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
