package launch

import (
	"bytes"
	"strings"
	"sync"
)

// tail keeps the last n lines written to it: the plugin's own words about
// why it died, for the start-up error. onLine, when set, also receives each
// line as it completes (stderrLog forwards them to the logger), so the
// plugin's stderr is split into lines in this one place.
type tail struct {
	mu     sync.Mutex
	n      int
	lines  []string
	part   []byte
	onLine func(line string)
}

func newTail(n int) *tail { return &tail{n: n} }

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.part = append(t.part, b...)
	for {
		i := bytes.IndexByte(t.part, '\n')
		if i < 0 {
			break
		}
		t.push(string(t.part[:i]))
		t.part = t.part[i+1:]
	}
	if len(t.part) > 4096 { // a line without end: keep it bounded
		t.push(string(t.part))
		t.part = nil
	}
	return len(b), nil
}

func (t *tail) push(line string) {
	line = strings.TrimRight(line, "\r")
	if line == "" {
		return
	}
	if t.onLine != nil {
		t.onLine(line)
	}
	t.lines = append(t.lines, line)
	if len(t.lines) > t.n {
		t.lines = t.lines[len(t.lines)-t.n:]
	}
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := t.lines
	if len(t.part) > 0 {
		lines = append(append([]string(nil), lines...), string(t.part))
	}
	return strings.Join(lines, "\n")
}
