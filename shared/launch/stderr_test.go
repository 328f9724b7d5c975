package launch

import (
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/internal/syncbuf"
)

// TestStderrLevels: each line of a plugin's stderr is logged at its level:
// hclog JSON at its @level, whatever the types of its fields; "[LEVEL]"
// prefixes; other plain text at debug, except a Go panic or fatal error,
// which is logged at error from its first line on (as go-plugin's own
// parser did), so that a crashing plugin's reason shows at the default
// level.
func TestStderrLevels(t *testing.T) {
	var out syncbuf.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: &out, DisableTime: true})
	s := newStderrLog(logger, "/plugins/p", 20)
	for _, l := range []string{
		"plain start-up text",
		`{"@level":"error","@message":42}`,
		`{"@level":"info","@message":"json-info","@timestamp":"not a time","k":"v"}`,
		`{"@message":"no level"}`,
		"[WARN] prefixed warning",
		"panic: runtime error: index out of range [3] with length 3",
		"",
		"goroutine 1 [running]:",
		"main.main()",
		`{"@level":"info","@message":"json after the panic"}`,
		"[DEBUG] prefixed after the panic",
	} {
		if _, err := s.Write([]byte(l + "\n")); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"[DEBUG] p: plain start-up text",
		"[ERROR] p: 42",
		"[INFO]  p: json-info: k=v",
		"[DEBUG] p: no level",
		"[WARN]  p: prefixed warning",
		"[ERROR] p: panic: runtime error: index out of range [3] with length 3",
		"[ERROR] p: goroutine 1 [running]:",
		"[ERROR] p: main.main()",
		"[INFO]  p: json after the panic",
		"[DEBUG] p: prefixed after the panic",
	}
	got := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("logged\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
