package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"
)

// isTerminal reports whether w is a terminal with a size, where a live
// progress display replaces the info logs.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false
	}
	width, height, err := term.GetSize(int(f.Fd()))
	return err == nil && width > 0 && height > 0
}

// progress is an engine.Observer that draws one live line on a terminal:
// accounts and scopes done of their totals, gaps so far, elapsed time and
// an estimate of the time left. The scope total grows as accounts are
// reached and their regions known.
type progress struct {
	container *mpb.Progress
	bar       *mpb.Bar
	now       func() time.Time
	start     time.Time
	closeOnce sync.Once

	mu                                         sync.Mutex
	accounts, accountsDone, scopes, scopesDone int
	gaps                                       int
	// lastDone is when the last scope finished.
	lastDone time.Time
}

// newProgress starts the display on w; SetAccounts gives it the number of
// accounts once they are known. Write log lines to p.container, which puts
// them above the live line.
func newProgress(w io.Writer, now func() time.Time, options ...mpb.ContainerOption) *progress {
	p := &progress{now: now, start: now()}
	options = append([]mpb.ContainerOption{mpb.WithOutput(w), mpb.WithRefreshRate(150 * time.Millisecond)}, options...)
	p.container = mpb.New(options...)
	p.bar = p.container.New(0, mpb.BarStyle(),
		mpb.PrependDecorators(decor.Any(func(decor.Statistics) string { return p.counts() })),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return p.times() })),
	)
	return p
}

// counts renders "accounts 3/10  scopes 120/400  gaps 2", or what the scan
// is doing before the accounts are known.
func (p *progress) counts() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.accounts == 0 {
		return "starting: identity, accounts and regions"
	}
	return fmt.Sprintf("accounts %d/%d  scopes %d/%d  gaps %d", p.accountsDone, p.accounts, p.scopesDone, p.scopes, p.gaps)
}

// times renders the elapsed time and the estimate of the time left.
func (p *progress) times() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	return now.Sub(p.start).Round(time.Second).String() + "  " + estimate(p.start, p.lastDone, now, p.scopesDone, p.scopes)
}

// estimate is the time left from the pace of the scopes done so far: the
// average time per scope until the last one finished, times the scopes
// left, less the time since. When that time has passed and scopes are still
// running (one large scope last, say), it does not pretend: it says how many
// are left and that they take longer than the rest.
func estimate(start, lastDone, now time.Time, done, total int) string {
	left := total - done
	if done == 0 || left <= 0 {
		return "ETA -"
	}
	perScope := lastDone.Sub(start) / time.Duration(done)
	eta := perScope*time.Duration(left) - now.Sub(lastDone)
	if eta < time.Second {
		return fmt.Sprintf("ETA ? (%d scope(s) left, slower than the rest)", left)
	}
	return "ETA " + eta.Round(time.Second).String()
}

// SetAccounts sets the number of accounts of the scan.
func (p *progress) SetAccounts(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.accounts = n
}

// AccountStarted implements engine.Observer.
func (p *progress) AccountStarted(string) {}

// ScopesPlanned implements engine.Observer.
func (p *progress) ScopesPlanned(_ string, n int) {
	p.mu.Lock()
	p.scopes += n
	total := p.scopes
	p.mu.Unlock()
	p.bar.SetTotal(int64(total), false)
}

// ScopeDone implements engine.Observer.
func (p *progress) ScopeDone(_, _, _ string, ok bool) {
	p.mu.Lock()
	p.scopesDone++
	p.lastDone = p.now()
	if !ok {
		p.gaps++
	}
	p.mu.Unlock()
	p.bar.Increment()
}

// AccountDone implements engine.Observer.
func (p *progress) AccountDone(_ string, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.accountsDone++
	if !ok {
		p.gaps++
	}
}

// Close completes the line and waits until it is drawn. Later calls do
// nothing.
func (p *progress) Close() {
	p.closeOnce.Do(func() {
		p.bar.SetTotal(-1, true)
		p.container.Wait()
	})
}

// Abort removes the line, for a cancelled scan: what follows (the
// cancellation message, the summary) is not followed by a stale bar drawn
// again below it. Later calls, and Close after it, do nothing.
func (p *progress) Abort() {
	p.closeOnce.Do(func() {
		p.bar.Abort(true)
		p.container.Wait()
	})
}

// logObserver is the engine.Observer when stderr is not a terminal: it logs
// each account's start and end (info) and each scope (debug).
type logObserver struct{ logger *slog.Logger }

// AccountStarted implements engine.Observer.
func (o logObserver) AccountStarted(account string) {
	o.logger.Info("account started", "account", account)
}

// ScopesPlanned implements engine.Observer.
func (o logObserver) ScopesPlanned(account string, n int) {
	o.logger.Debug("account scopes planned", "account", account, "scopes", n)
}

// ScopeDone implements engine.Observer.
func (o logObserver) ScopeDone(account, region, service string, ok bool) {
	o.logger.Debug("scope done", "account", account, "region", region, "service", service, "ok", ok)
}

// AccountDone implements engine.Observer.
func (o logObserver) AccountDone(account string, ok bool) {
	o.logger.Info("account done", "account", account, "reached", ok)
}
