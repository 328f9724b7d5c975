package cli

import (
	"io"
	"os"
	"sync"
)

// maskedStream carries one of the child's output streams through a
// masker: the child writes to w, a goroutine copies r through the masker.
type maskedStream struct {
	r, w    *os.File
	m       *masker
	name    string // "standard output", for messages
	done    chan struct{}
	closeW  sync.Once
	closeR  sync.Once
	started bool
	// err is the first error writing to the destination; set before done
	// is closed.
	err error
}

func newMaskedStream(dst io.Writer, secrets [][]byte, name string) (*maskedStream, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	return &maskedStream{r: r, w: w, m: newMasker(dst, secrets), name: name, done: make(chan struct{})}, nil
}

func (s *maskedStream) closeWrite() { s.closeW.Do(func() { s.w.Close() }) }
func (s *maskedStream) closeRead()  { s.closeR.Do(func() { s.r.Close() }) }

// start copies until EOF, that is until the last process holding the
// pipe's write end (the child, or a background process it left behind)
// has closed it, as a shell pipeline does. If the destination fails, the
// rest is still read (and dropped), so that no writer blocks on a full
// pipe, and the error is kept for run to report.
func (s *maskedStream) start() {
	s.started = true
	go func() {
		defer close(s.done)
		_, _ = io.Copy(s.m, s.r)
		// A failed destination stops the copy (the masker keeps failing);
		// a read error means the pipe was closed on purpose.
		if err := s.m.Close(); err != nil {
			s.err = err
			_, _ = io.Copy(io.Discard, s.r)
		}
	}()
}

// finish waits for EOF, or until stop is closed (a terminating signal
// after the child exited), flushes the masker and releases the pipe.
func (s *maskedStream) finish(stop <-chan struct{}) {
	defer s.closeRead()
	if !s.started {
		return
	}
	select {
	case <-s.done:
	case <-stop:
		s.closeRead()
		<-s.done
	}
}
