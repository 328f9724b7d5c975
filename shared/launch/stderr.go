package launch

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// go-plugin v1.8.0 parses the plugin's stderr itself and asserts that
// "@message" is a string: a plugin writing {"@level":"error","@message":42}
// panicked the whole host. So go-plugin gets, for the plugin's stderr, a
// logger at level Off (it then skips its parser), and stderrLog parses and
// forwards the lines here, where nothing a plugin writes can panic.

// quietStderr is the logger handed to go-plugin: itself for go-plugin's own
// lines, but its sub-loggers other than "stdio" (go-plugin names the one for
// the plugin's stderr after the path it executes, which for a pinned plugin
// is a sealed copy's) are switched off.
type quietStderr struct{ hclog.Logger }

func (q quietStderr) Named(name string) hclog.Logger {
	if name != "stdio" {
		return offLogger{hclog.NewNullLogger()}
	}
	return q.Logger.Named(name)
}

// offLogger logs nothing and says so: go-plugin tests GetLevel() == Off.
type offLogger struct{ hclog.Logger }

func (offLogger) GetLevel() hclog.Level { return hclog.Off }

// stderrLog receives the plugin's stderr, one line per Write from go-plugin
// (plus the newline), keeps the tail for start-up errors and forwards each
// line to the logger: hclog JSON lines at their level, other lines at debug
// (or at the level of a "[ERROR]"-style prefix).
type stderrLog struct {
	*tail
	logger hclog.Logger
	// inPanic: a plain line began a Go panic or fatal error, so this and
	// every later untagged line (the stack trace) is logged at error, as
	// go-plugin's parser did: the reason a plugin crashed must show at the
	// default level. Only forward uses it, under the tail's lock.
	inPanic bool
}

func newStderrLog(logger hclog.Logger, path string, lines int) *stderrLog {
	s := &stderrLog{tail: newTail(lines), logger: logger.Named(filepath.Base(path))}
	s.tail.onLine = s.forward
	return s
}

// forward logs one line of the plugin's stderr (trimmed, never empty).
func (s *stderrLog) forward(line string) {
	level, msg, args, untagged := parseLine([]byte(line))
	if untagged && (strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ")) {
		s.inPanic = true
	}
	if untagged && s.inPanic {
		level = hclog.Error
	}
	s.logger.Log(level, msg, args...)
}

// parseLine reads one stderr line; it never fails and never panics.
// untagged: the line is plain text without a level prefix.
func parseLine(line []byte) (level hclog.Level, msg string, args []any, untagged bool) {
	var raw map[string]any
	if line[0] == '{' && json.Unmarshal(line, &raw) == nil {
		level := hclog.Debug
		if l, ok := raw["@level"].(string); ok {
			if lv := hclog.LevelFromString(l); lv != hclog.NoLevel {
				level = lv
			}
		}
		msg := text(raw["@message"])
		keys := make([]string, 0, len(raw))
		for k := range raw {
			switch k {
			case "@level", "@message", "@timestamp", "@module", "@caller":
				continue
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		args := make([]any, 0, 2*len(keys))
		for _, k := range keys {
			args = append(args, k, text(raw[k]))
		}
		return level, msg, args, false
	}
	s := string(line)
	for _, p := range []struct {
		prefix string
		level  hclog.Level
	}{{"[TRACE]", hclog.Trace}, {"[DEBUG]", hclog.Debug}, {"[INFO]", hclog.Info}, {"[WARN]", hclog.Warn}, {"[ERROR]", hclog.Error}} {
		if strings.HasPrefix(s, p.prefix) {
			return p.level, strings.TrimSpace(strings.TrimPrefix(s, p.prefix)), nil, false
		}
	}
	return hclog.Debug, s, nil, true
}

// text renders a JSON value as a string: strings as they are, anything
// else as its JSON text.
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	}
}
