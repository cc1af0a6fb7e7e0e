// Package readonly keeps the scanner read-only by construction. The
// allow-list (Scanning, calls.go) names every (service, operation) pair the
// scanner may call; it is the table the README prints. Two checks enforce it:
// a middleware, installed on every AWS client built from awsenv's
// configuration, refuses any other operation before the request is
// serialised, and a check at the transport of the one shared HTTP client
// (transport.go) refuses, before it is sent, any signed request whose
// service and operation, read from the wire, are not on the list, so that a
// client built without the middleware is still refused.
package readonly

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/smithy-go/middleware"
)

// RefusedError is returned for an operation the scanner may not call.
type RefusedError struct {
	Service   string
	Operation string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("posture is read-only: refused %s %s before sending it (not on the allow-list)", e.Service, e.Operation)
}

// middlewareID names the guard in the middleware stack.
const middlewareID = "posture.ReadOnlyGuard"

// Install adds the guard at the very start of an operation's stack. Use it as
// an aws.Config APIOptions entry so that every client built from the config
// carries it.
func Install(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc(middlewareID, guard), middleware.Before)
}

func guard(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	op, svc := middleware.GetOperationName(ctx), middleware.GetServiceID(ctx)
	if !Allowed(svc, op) {
		return middleware.InitializeOutput{}, middleware.Metadata{}, &RefusedError{Service: svc, Operation: op}
	}
	return next.HandleInitialize(ctx, in)
}

// extraKey is the context key under which a client's AllowOnClient guard
// passes the extra calls it allows to the transport check.
type extraKey struct{}

// extraCalls returns the extra calls the client's guard allowed for this
// request (none for a scanning client).
func extraCalls(ctx context.Context) []Call {
	calls, _ := ctx.Value(extraKey{}).([]Call)
	return calls
}

// AllowOnClient returns an APIOptions entry for one client (never for a
// shared aws.Config) that replaces the guard with one that also lets through
// the named operations of one service, given by its service ID (e.g. "KMS"),
// when they are on the Signing or the Delivery list, and nothing else. It
// exists for the clients that act with the tool's own identity, never a
// scanned account's: the signing client (internal/signing), which calls
// kms:Sign and kms:GetPublicKey, and the nightly run's store and notifier
// (internal/nightly), which write the package to its own bucket and publish
// the summary. The calls it allows are
// passed to the transport check in the request's context, so the transport
// lets them through for this client only. A client without the guard gets
// the narrowed guard installed.
func AllowOnClient(service string, operations ...string) func(*middleware.Stack) error {
	var extra []Call
	for _, op := range operations {
		for _, call := range slices.Concat(signing, delivery) {
			if call.Service == service && call.Operation == op {
				extra = append(extra, call)
			}
		}
	}
	isExtra := func(svc, op string) bool {
		for _, call := range extra {
			if call.Service == svc && call.Operation == op {
				return true
			}
		}
		return false
	}
	narrowed := func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		op, svc := middleware.GetOperationName(ctx), middleware.GetServiceID(ctx)
		if !Allowed(svc, op) && !isExtra(svc, op) {
			return middleware.InitializeOutput{}, middleware.Metadata{}, &RefusedError{Service: svc, Operation: op}
		}
		return next.HandleInitialize(context.WithValue(ctx, extraKey{}, extra), in)
	}
	return func(stack *middleware.Stack) error {
		if _, ok := stack.Initialize.Get(middlewareID); ok {
			if _, err := stack.Initialize.Remove(middlewareID); err != nil {
				return fmt.Errorf("replace the read-only guard: %w", err)
			}
		}
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc(middlewareID, narrowed), middleware.Before)
	}
}
