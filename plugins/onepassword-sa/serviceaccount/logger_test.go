package serviceaccount

import (
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/internal/syncbuf"
)

// TestNewLogsThroughTheGivenLogger: the provider logs through the logger
// it is made with (main passes the one plugin.ServeFactory configured),
// not through a process-wide logger of its own; nil means no log.
// Configure checks the token's format offline and loads no SDK core.
func TestNewLogsThroughTheGivenLogger(t *testing.T) {
	var buf syncbuf.Buffer
	p := New(hclog.New(&hclog.LoggerOptions{Name: "given", Level: hclog.Debug, Output: &buf}))
	token := wellFormedFakeToken("my.1password.com")
	configure(t, p, map[string]string{AttrToken: token})
	if log := buf.String(); !strings.Contains(log, "given: configured") {
		t.Errorf("Configure's debug line did not reach the given logger:\n%s", log)
	}
	noToken(t, buf.String())
	if strings.Contains(buf.String(), token) {
		t.Errorf("the log contains the token:\n%s", buf.String())
	}
	configure(t, New(nil), map[string]string{AttrToken: token})
}
