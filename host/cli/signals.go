package cli

import (
	"context"
	"os"
	"sync"
	"syscall"
)

// forwarder routes signals: before the child runs, a terminating signal
// cancels secrethost; while it runs, every signal goes to the child; once
// it has exited (while its output is still forwarded for background
// processes that hold the pipes), a terminating signal stops forwarding.
type forwarder struct {
	mu     sync.Mutex
	proc   *os.Process
	cancel context.CancelFunc
	caught syscall.Signal
	// done is closed by a terminating signal after the child exited.
	done     chan struct{}
	gone     bool
	late     syscall.Signal
	doneOnce sync.Once
}

func isTerminating(sig syscall.Signal) bool {
	switch sig {
	case syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT:
		return true
	}
	return false
}

func (f *forwarder) handle(s os.Signal) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sig, ok := s.(syscall.Signal)
	if f.gone {
		if ok && isTerminating(sig) {
			if f.late == 0 {
				f.late = sig
			}
			f.doneOnce.Do(func() { close(f.done) })
		}
		return
	}
	if f.proc != nil {
		_ = f.proc.Signal(s)
		return
	}
	if !ok {
		return
	}
	if isTerminating(sig) {
		if f.caught == 0 {
			f.caught = sig
		}
		f.cancel()
	}
	// SIGUSR1/2 before the child exists have no one to go to.
}

// exited records that the child has exited and returns the channel a
// later terminating signal closes.
func (f *forwarder) exited() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gone = true
	if f.done == nil {
		f.done = make(chan struct{})
	}
	return f.done
}

func (f *forwarder) lateSignal() (syscall.Signal, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.late, f.late != 0
}

// attach starts forwarding to p; a terminating signal that arrived during
// Start is passed on at once.
func (f *forwarder) attach(p *os.Process) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.proc = p
	if f.caught != 0 {
		_ = p.Signal(f.caught)
	}
}

func (f *forwarder) caughtCode() (int, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return 128 + int(f.caught), f.caught != 0
}
