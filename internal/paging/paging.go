// Package paging reads every page of an AWS SDK paginator.
//
// Every SDK v2 paginator has HasMorePages and NextPage, but NextPage takes
// the options of its own service (...func(*ec2.Options)), so no one
// interface names them all; Paginator is generic over the output and the
// options type, and Go infers both from the paginator passed.
package paging

import "context"

// Paginator is what every AWS SDK v2 paginator (ec2.NewDescribeVpcsPaginator
// and the like) implements: Out is the operation's output, Opt the service's
// client options.
type Paginator[Out, Opt any] interface {
	HasMorePages() bool
	NextPage(ctx context.Context, optFns ...func(*Opt)) (Out, error)
}

// Pages calls visit with every page of p, in order, and returns the first
// error of NextPage unchanged, after the pages before it were visited: the
// caller decides whether what it gathered from them stands.
func Pages[Out, Opt any](ctx context.Context, p Paginator[Out, Opt], visit func(page Out)) error {
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		visit(page)
	}
	return nil
}

// All returns the items of every page of p, in order: items picks (and
// converts) the items of one page. On the first error of NextPage, All
// returns nil and that error unchanged, for the caller to wrap or record.
func All[T, Out, Opt any](ctx context.Context, p Paginator[Out, Opt], items func(page Out) []T) ([]T, error) {
	var all []T
	if err := Pages(ctx, p, func(page Out) { all = append(all, items(page)...) }); err != nil {
		return nil, err
	}
	return all, nil
}
