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
