// Package fanout runs per-resource work with bounded concurrency.
package fanout

import (
	"context"

	"golang.org/x/sync/errgroup"
)

// DefaultLimit bounds per-resource calls of one scope (a bucket's policy, a
// snapshot's permissions) so that a region with thousands of resources does
// not open thousands of requests at once.
const DefaultLimit = 8

// Each calls fn(ctx, i) for i in [0, n) with at most limit calls at once.
// fn records its own failures; Each returns when all calls have returned.
func Each(ctx context.Context, n, limit int, fn func(ctx context.Context, i int)) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	var g errgroup.Group
	g.SetLimit(limit)
	for i := range n {
		g.Go(func() error {
			fn(ctx, i)
			return nil
		})
	}
	_ = g.Wait()
}

// Fill calls fill(ctx, &items[i]) for every item, with at most limit calls
// at once, and returns the items that are still there, in their order: fill
// reports gone for an item to leave out, such as a resource deleted between
// its list call and its own call. The result is nil when no item is kept.
func Fill[T any](ctx context.Context, items []T, limit int, fill func(ctx context.Context, item *T) (gone bool)) []T {
	gone := make([]bool, len(items))
	Each(ctx, len(items), limit, func(ctx context.Context, i int) {
		gone[i] = fill(ctx, &items[i])
	})
	var kept []T
	for i, item := range items {
		if !gone[i] {
			kept = append(kept, item)
		}
	}
	return kept
}
