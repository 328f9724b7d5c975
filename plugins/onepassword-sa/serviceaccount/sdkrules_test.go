package serviceaccount

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	onepassword "github.com/1password/onepassword-sdk-go"

	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/plugins/internal/opref"
)

// sdkCorpus is every reference the side-by-side test checks: the corpus of
// plugins/internal/opref (structure, attributes, ssh-format, characters,
// percent-encoding, case, whitespace) and opref's fuzz corpus.
func sdkCorpus(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join(testbin.Root(), "plugins", "internal", "opref", "testdata")
	b, err := os.ReadFile(filepath.Join(dir, "sdkcorpus.json"))
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	if err := json.Unmarshal(b, &refs); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "fuzz", "FuzzParse", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fuzz corpus: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if q, ok := strings.CutPrefix(line, "string("); ok {
				s, err := strconv.Unquote(strings.TrimSuffix(q, ")"))
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				refs = append(refs, s)
			}
		}
	}
	return refs
}

// TestRulesAgreeWithSDK runs the SDK's own validator and opref.ValidateSDK
// side by side over the corpus and fails on any disagreement, in verdict
// or in reason. It loads the SDK's core once.
func TestRulesAgreeWithSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the 1Password SDK's WebAssembly core; skipped with -short")
	}
	refs := sdkCorpus(t)
	if len(refs) < 100 {
		t.Fatalf("corpus has %d references, want at least 100", len(refs))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	if err := loadCore(ctx); err != nil {
		t.Fatal(err)
	}
	accepted := 0
	for _, ref := range refs {
		sdkErr := onepassword.Secrets.ValidateSecretReference(ctx, ref)
		ours := opref.ValidateSDK(ref)
		if (sdkErr == nil) != (ours == nil) {
			t.Errorf("%q: SDK says %v, ours %v", ref, sdkErr, ours)
			continue
		}
		if sdkErr == nil {
			accepted++
			continue
		}
		want := strings.TrimPrefix(sdkErr.Error(), "the secret reference could not be parsed: ")
		want = strings.TrimSuffix(want, "}")
		if ours.Error() != want {
			t.Errorf("%q: SDK's reason %q, ours %q", ref, want, ours.Error())
		}
	}
	t.Logf("%d references, %d accepted by both", len(refs), accepted)
}
