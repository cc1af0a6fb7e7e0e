package lambdatest

import (
	"context"
	"fmt"
	"testing"
)

// Pool is n emulators running the same bootstrap, like n concurrent
// execution environments of one function: Invoke runs on a free one and
// blocks while all are busy.
type Pool struct {
	ries []*RIE
	free chan *RIE
}

// NewPool starts n emulators (StartRIE) with the same bootstrap and env.
func NewPool(t testing.TB, bootstrap string, env map[string]string, n int) *Pool {
	t.Helper()
	if n < 1 {
		t.Fatalf("lambdatest: a pool needs at least one emulator, got %d", n)
	}
	p := &Pool{free: make(chan *RIE, n)}
	for range n {
		r := StartRIE(t, bootstrap, env)
		p.ries = append(p.ries, r)
		p.free <- r
	}
	return p
}

// Invoke runs one invocation on a free emulator (see RIE.Invoke), waiting
// for one to be free or for ctx to end.
func (p *Pool) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var r *RIE
	select {
	case r = <-p.free:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for a free emulator: %w", ctx.Err())
	}
	defer func() { p.free <- r }()
	return r.Invoke(ctx, payload)
}

// RIEs returns the pool's emulators.
func (p *Pool) RIEs() []*RIE { return append([]*RIE(nil), p.ries...) }

// Stats returns every invocation measured on every emulator of the pool,
// emulator by emulator.
func (p *Pool) Stats() []Invocation {
	var out []Invocation
	for _, r := range p.ries {
		out = append(out, r.Stats()...)
	}
	return out
}
