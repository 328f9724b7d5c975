package attrs

import (
	"strings"
	"testing"
)

var known = []string{"SECRET_PROVIDER_CONNECT_HOST", "OP_CONNECT_HOST", "SECRET_PROVIDER_CONNECT_TOKEN", "request_timeout", "max_retries"}

func TestClosest(t *testing.T) {
	for name, want := range map[string]string{
		"SECRET_PROVIDER_CONNECT_HOTS": "SECRET_PROVIDER_CONNECT_HOST",
		"SECRET_PROVIDER_CONECT_TOKEN": "SECRET_PROVIDER_CONNECT_TOKEN",
		"REQUEST_TIMEOUT":              "request_timeout",
		"request_timout":               "request_timeout",
		"max_retris":                   "max_retries",
		"dir":                          "",
		"something_else_entirely_here": "",
	} {
		if got := Closest(name, known); got != want {
			t.Errorf("Closest(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestCheck(t *testing.T) {
	if err := Check(map[string]string{"OP_CONNECT_HOST": "x"}, known); err != nil {
		t.Errorf("known key: %v", err)
	}
	err := Check(map[string]string{"SECRET_PROVIDER_CONNECT_HOTS": "value-0815", "zzz": "v"}, known)
	if err == nil {
		t.Fatal("unknown keys accepted")
	}
	msg := err.Error()
	for _, want := range []string{`"SECRET_PROVIDER_CONNECT_HOTS" (did you mean SECRET_PROVIDER_CONNECT_HOST?)`, `"zzz"`, "attributes"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	if strings.Contains(msg, "value-0815") {
		t.Errorf("message shows a value: %s", msg)
	}
}
