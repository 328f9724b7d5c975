package bounded

import (
	"errors"
	"strings"
	"testing"
)

func TestReadAll(t *testing.T) {
	if b, err := ReadAll(strings.NewReader("abcd"), 4); err != nil || string(b) != "abcd" {
		t.Fatalf("at the limit: %q, %v", b, err)
	}
	if b, err := ReadAll(strings.NewReader("abcde"), 4); !errors.Is(err, ErrTooLarge) || b != nil {
		t.Fatalf("over the limit: %q, %v", b, err)
	}
}
