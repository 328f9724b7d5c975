package serviceaccount

import (
	"context"
	"errors"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/shared/provider"
)

// session owns the signed-in SDK client and replaces it when the SDK
// reports "invalid client id" (its session is gone from the core).
//
// Replacement happens once per lost session: every caller that failed with
// the client of generation g asks for a client newer than g; the first
// starts the sign-in, the others wait for it and share its result. doco-cd
// signs in again in every caller that hits the error, and assigns the new
// client without a lock, so concurrent deployments race and sign in many
// times.
type session struct {
	token   string
	info    integration
	factory clientFactory
	log     hclog.Logger

	mu       sync.Mutex
	client   sdkClient // nil until the first successful sign-in
	gen      uint64    // incremented by every successful sign-in
	pending  *signInCall
	renewals int // sign-ins that replaced a client
}

type signInCall struct {
	done    chan struct{}
	err     error
	waiters int // callers waiting for it besides its own; guarded by session.mu
}

// signInError marks a failure to sign in (as opposed to a failed request
// on a signed-in client), so that messages say which it was.
type signInError struct {
	err     error
	renewal bool
}

func (e *signInError) Error() string { return e.err.Error() }
func (e *signInError) Unwrap() error { return e.err }

func newSession(token string, info integration, factory clientFactory, log hclog.Logger) *session {
	return &session{token: token, info: info, factory: factory, log: log}
}

// current returns the client (nil before the first sign-in) and its
// generation.
func (s *session) current() (sdkClient, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.client, s.gen
}

// newer returns a client of a generation after gen, signing in if there is
// none yet. Concurrent callers with the same gen share one sign-in.
func (s *session) newer(ctx context.Context, gen uint64) (sdkClient, uint64, error) {
	for {
		s.mu.Lock()
		if s.client != nil && s.gen != gen {
			c, g := s.client, s.gen
			s.mu.Unlock()
			return c, g, nil
		}
		if call := s.pending; call != nil {
			call.waiters++
			s.mu.Unlock()
			select {
			case <-call.done:
			case <-ctx.Done():
				return nil, 0, &signInError{err: ctx.Err(), renewal: gen != 0}
			}
			if call.err != nil {
				// The caller who signed in gave up (its context ended);
				// ours has not, so try again rather than fail for it.
				if isContextError(call.err) && ctx.Err() == nil {
					continue
				}
				return nil, 0, &signInError{err: call.err, renewal: gen != 0}
			}
			continue
		}
		call := &signInCall{done: make(chan struct{})}
		s.pending = call
		replacing := s.client != nil
		s.mu.Unlock()

		c, err := s.factory(ctx, s.token, s.info)

		s.mu.Lock()
		if err == nil {
			s.client = c
			s.gen++
			if replacing {
				s.renewals++
			}
		}
		g := s.gen
		s.pending = nil
		call.err = err
		s.mu.Unlock()
		close(call.done)
		if err != nil {
			return nil, 0, &signInError{err: err, renewal: replacing}
		}
		if replacing {
			s.log.Info("signed in to 1Password again: the SDK had lost its session (invalid client id)")
		}
		return c, g, nil
	}
}

// do runs call with the current client, signing in first if the plugin
// has not managed to yet. If the SDK answers "invalid client id", do signs
// in again (once, shared with concurrent callers) and retries call once.
func (s *session) do(ctx context.Context, call func(sdkClient) error) error {
	c, gen := s.current()
	if c == nil {
		var err error
		if c, gen, err = s.newer(ctx, gen); err != nil {
			return err
		}
	}
	err := call(c)
	if !isInvalidClientID(err) {
		return err
	}
	s.log.Debug("1Password SDK answered invalid client id; renewing the session")
	c, _, err = s.newer(ctx, gen)
	if err != nil {
		return err
	}
	return call(c)
}

// pendingWaiters is how many callers wait for the sign-in in progress.
func (s *session) pendingWaiters() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending == nil {
		return 0
	}
	return s.pending.waiters
}

func (s *session) renewalCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.renewals
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// callError converts a failure of session.do into a contract error.
func callError(err error, token string) *provider.Error {
	var se *signInError
	if errors.As(err, &se) {
		doing := "signing in to 1Password"
		if se.renewal {
			doing = "signing in to 1Password again (the SDK had lost its session)"
		}
		return sdkError(doing, se.err, token)
	}
	e := sdkError("1Password request failed", err, token)
	if e.Code == provider.CodeInvalidConfig {
		// Token-format phrases only make sense at sign-in; elsewhere the
		// SDK complained about something we sent.
		e.Code = provider.CodeInternal
	}
	return e
}
