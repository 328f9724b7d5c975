package host

import (
	"fmt"
	"io"
	"log"

	"github.com/hashicorp/go-hclog"
)

// scrubLogger is the logger of one provider instance: whatever goes through
// it (the host's own lines, go-plugin's, the plugin's forwarded logs and
// stderr) has the instance's secrets replaced, in the message, in the
// logger's name (go-plugin names a sub-logger after the plugin binary) and in
// every argument.
type scrubLogger struct {
	hclog.Logger
	secrets func() []string
}

func (l *scrubLogger) wrap(inner hclog.Logger) hclog.Logger {
	return &scrubLogger{Logger: inner, secrets: l.secrets}
}

func (l *scrubLogger) args(args []any) []any {
	secrets := l.secrets()
	if len(secrets) == 0 || len(args) == 0 {
		return args
	}
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = scrubArg(a, secrets)
	}
	return out
}

func scrubArg(a any, secrets []string) any {
	var s string
	switch v := a.(type) {
	case nil, bool, int, int64, int32, uint, uint64, uint32, float64, hclog.Format:
		return a
	case string:
		s = v
	case error:
		s = v.Error()
	case fmt.Stringer:
		s = v.String()
	default:
		s = fmt.Sprintf("%v", v)
	}
	if c := scrub(s, secrets); c != s {
		return c
	}
	return a
}

func (l *scrubLogger) Log(level hclog.Level, msg string, args ...any) {
	l.Logger.Log(level, scrub(msg, l.secrets()), l.args(args)...)
}
func (l *scrubLogger) Trace(msg string, args ...any) { l.Log(hclog.Trace, msg, args...) }
func (l *scrubLogger) Debug(msg string, args ...any) { l.Log(hclog.Debug, msg, args...) }
func (l *scrubLogger) Info(msg string, args ...any)  { l.Log(hclog.Info, msg, args...) }
func (l *scrubLogger) Warn(msg string, args ...any)  { l.Log(hclog.Warn, msg, args...) }
func (l *scrubLogger) Error(msg string, args ...any) { l.Log(hclog.Error, msg, args...) }

func (l *scrubLogger) ImpliedArgs() []any { return l.args(l.Logger.ImpliedArgs()) }

func (l *scrubLogger) With(args ...any) hclog.Logger { return l.wrap(l.Logger.With(l.args(args)...)) }

func (l *scrubLogger) Named(name string) hclog.Logger {
	return l.wrap(l.Logger.Named(scrub(name, l.secrets())))
}

func (l *scrubLogger) ResetNamed(name string) hclog.Logger {
	return l.wrap(l.Logger.ResetNamed(scrub(name, l.secrets())))
}

func (l *scrubLogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(l.StandardWriter(opts), "", 0)
}

func (l *scrubLogger) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	return &scrubWriter{w: l.Logger.StandardWriter(opts), secrets: l.secrets}
}

// scrubWriter scrubs each write; standard loggers write whole lines.
type scrubWriter struct {
	w       io.Writer
	secrets func() []string
}

func (w *scrubWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(w.w, scrub(string(p), w.secrets())); err != nil {
		return 0, err
	}
	return len(p), nil
}
