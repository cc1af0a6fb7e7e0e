// Package apicount counts AWS API calls per service and operation with SDK
// middleware: calls (one per operation invoked) and attempts (one per HTTP
// request sent, retries included). The benchmark and tests use it to see how
// many calls a scan makes and which ones.
package apicount

import (
	"context"
	"sort"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// Counts is what a Counter saw of one operation.
type Counts struct {
	Service   string
	Operation string
	// Calls is how many times the operation was invoked.
	Calls int
	// Attempts is how many requests were sent for it, retries included.
	Attempts int
}

// Counter counts calls. Its zero value is ready to use, and it is safe for
// concurrent use. Install it on a configuration with
// cfg.APIOptions = append(cfg.APIOptions, counter.Install).
type Counter struct {
	mu     sync.Mutex
	counts map[[2]string]*Counts
}

// Install adds the counting middleware to an SDK client's stack.
func (c *Counter) Install(stack *middleware.Stack) error {
	// Serialize runs once per call, before the retry loop of Finalize, and
	// after Initialize has put the service and operation in the context.
	if err := stack.Serialize.Add(middleware.SerializeMiddlewareFunc("PostureAPICountCalls",
		func(ctx context.Context, in middleware.SerializeInput, next middleware.SerializeHandler) (middleware.SerializeOutput, middleware.Metadata, error) {
			c.add(ctx, 1, 0)
			return next.HandleSerialize(ctx, in)
		}), middleware.Before); err != nil {
		return err
	}
	// After the retry middleware (and everything else of Finalize): once
	// per attempt.
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("PostureAPICountAttempts",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			c.add(ctx, 0, 1)
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}

func (c *Counter) add(ctx context.Context, calls, attempts int) {
	service, op := awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts = map[[2]string]*Counts{}
	}
	k := [2]string{service, op}
	n, ok := c.counts[k]
	if !ok {
		n = &Counts{Service: service, Operation: op}
		c.counts[k] = n
	}
	n.Calls += calls
	n.Attempts += attempts
}

// Snapshot returns the counts so far, sorted by service then operation.
func (c *Counter) Snapshot() []Counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Counts, 0, len(c.counts))
	for _, n := range c.counts {
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		return out[i].Operation < out[j].Operation
	})
	return out
}

// Total returns the calls and attempts of every operation.
func (c *Counter) Total() (calls, attempts int) {
	for _, n := range c.Snapshot() {
		calls += n.Calls
		attempts += n.Attempts
	}
	return calls, attempts
}
