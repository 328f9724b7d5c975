package attrs

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestValues(t *testing.T) {
	const secret = "ops_looks-like-a-token"
	cfg := map[string]string{"B": " true ", "D": "5m", "I": "7", "BAD": secret, "BLANK": "  "}
	if b, err := Bool(cfg, "B", false); err != nil || !b {
		t.Errorf("Bool = %v, %v", b, err)
	}
	if d, err := Duration(cfg, "D", 0); err != nil || d != 5*time.Minute {
		t.Errorf("Duration = %v, %v", d, err)
	}
	if n, err := Int(cfg, "I", 0, 1, 10); err != nil || n != 7 {
		t.Errorf("Int = %v, %v", n, err)
	}
	if n, err := Int(cfg, "BLANK", 3, 1, 10); err != nil || n != 3 {
		t.Errorf("blank Int = %v, %v; want the default", n, err)
	}
	if _, err := Int(cfg, "I", 0, 8, math.MaxInt); err == nil || !strings.Contains(err.Error(), "I = 7 is out of range: it must be at least 8") {
		t.Errorf("out of range: %v", err)
	}
	for name, err := range map[string]error{
		"bool":     func() error { _, err := Bool(cfg, "BAD", false); return err }(),
		"duration": func() error { _, err := Duration(cfg, "BAD", 0); return err }(),
		"int":      func() error { _, err := Int(cfg, "BAD", 0, 0, 1); return err }(),
	} {
		if err == nil || !strings.Contains(err.Error(), "BAD is not a") || strings.Contains(err.Error(), secret) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
