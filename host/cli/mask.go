package cli

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/secrethost/secrethost/internal/redact"
)

// concealed replaces every secret value in a masked stream. It and
// minMaskLen are internal/redact's RunMark and RunMinLen, which say why
// they differ from the marks and threshold of secrethost's own messages.
const concealed = redact.RunMark

// masker is an io.WriteCloser that copies a stream to an underlying
// writer with every occurrence of the given secrets replaced by concealed,
// also when a secret arrives split across several writes.
//
// Matching is leftmost-longest: scanning left to right, at each position
// the longest secret that occurs there is replaced, and scanning resumes
// after it. To see a secret that is split across writes, the masker holds
// back the shortest tail of its input that could still turn into a
// secret: a tail that is a proper prefix of some secret, so never more
// than len(longest secret) - 1 bytes. Everything before that tail is
// written at once; output is never held back waiting for a newline. Close
// flushes the tail (masking any secret it completes) and does not close
// the underlying writer.
//
// The result is the same, byte for byte, however the input is split.
type masker struct {
	mu  sync.Mutex
	w   io.Writer
	all [][]byte
	// byFirst[c] lists the secrets starting with byte c, longest first.
	byFirst [256][][]byte
	buf     []byte
	out     []byte
	err     error
}

// newMasker returns a masker writing to w. Empty secrets are ignored;
// duplicates are harmless.
func newMasker(w io.Writer, secrets [][]byte) *masker {
	m := &masker{w: w}
	for _, s := range secrets {
		if len(s) == 0 || slices.ContainsFunc(m.all, func(x []byte) bool { return bytes.Equal(x, s) }) {
			continue
		}
		m.all = append(m.all, bytes.Clone(s))
	}
	slices.SortStableFunc(m.all, func(a, b []byte) int { return len(b) - len(a) })
	for _, s := range m.all {
		m.byFirst[s[0]] = append(m.byFirst[s[0]], s)
	}
	return m
}

// Write masks p. It reports len(p) on success even when part of p is
// held back.
func (m *masker) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return 0, m.err
	}
	m.buf = append(m.buf, p...)
	if err := m.drain(false); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close writes out what is held back.
func (m *masker) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	return m.drain(true)
}

// drain writes out everything that can no longer become part of a secret;
// at EOF, everything.
func (m *masker) drain(eof bool) error {
	buf := m.buf
	out := m.out[:0]
	lit, i := 0, 0 // buf[lit:i] is plain text not yet copied to out
	for i < len(buf) {
		full, pending := m.matchAt(buf[i:])
		if pending && !eof {
			break // buf[i:] may still grow into a secret
		}
		if full > 0 {
			out = append(out, buf[lit:i]...)
			out = append(out, concealed...)
			i += full
			lit = i
			continue
		}
		i++
	}
	out = append(out, buf[lit:i]...)
	m.buf = append(buf[:0], buf[i:]...)
	m.out = out
	if len(out) == 0 {
		return nil
	}
	if _, err := m.w.Write(out); err != nil {
		m.err = err
		return err
	}
	return nil
}

// matchAt looks at the secrets that could start at the beginning of rest:
// full is the length of the longest one that does, pending says that a
// longer one might, given more input.
func (m *masker) matchAt(rest []byte) (full int, pending bool) {
	for _, s := range m.byFirst[rest[0]] { // longest first
		if len(s) > len(rest) {
			pending = pending || bytes.HasPrefix(s, rest)
			continue
		}
		if bytes.HasPrefix(rest, s) {
			return len(s), pending
		}
	}
	return 0, pending
}

// minMaskLen is the shortest value `secrethost run` masks (redact.RunMinLen).
const minMaskLen = redact.RunMinLen

// maskTargets lists what to mask for one secret value: the value itself,
// trimmed of surrounding whitespace, and each line of a multi-line value
// (with and without surrounding whitespace), since output is often printed
// and prefixed line by line (docker compose up does so). Pieces shorter
// than minMaskLen are left out; short reports that the value itself was
// (a blank or empty value is not worth a warning).
func maskTargets(v string) (targets [][]byte, short bool) {
	add := func(s string) {
		if len(s) >= minMaskLen {
			targets = append(targets, []byte(s))
		}
	}
	t := strings.TrimSpace(v)
	if len(t) < minMaskLen {
		return nil, t != ""
	}
	add(v)
	if t != v {
		add(t)
	}
	if strings.ContainsAny(t, "\n\r") {
		for _, line := range strings.FieldsFunc(t, func(r rune) bool { return r == '\n' || r == '\r' }) {
			add(line)
			if lt := strings.TrimSpace(line); lt != line {
				add(lt)
			}
		}
	}
	return targets, false
}
