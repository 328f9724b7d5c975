package providertest

import (
	"testing"
)

// record runs every check of the kit against s with recorders and returns
// them by check name.
func record(t *testing.T, s Suite) map[string]*recorder {
	t.Helper()
	if err := s.validate(); err != nil {
		t.Fatalf("invalid Suite: %v", err)
	}
	out := map[string]*recorder{}
	for _, c := range checks {
		out[c.name] = recordFunc(t, func(r testing.TB) { c.run(r, s) })
	}
	return out
}

// recordFunc runs f with a recorder (the one RunChecks uses) and returns
// it once f and its cleanups have ended.
func recordFunc(t *testing.T, f func(testing.TB)) *recorder {
	return runRecorded(t.Context(), t.Name(), f)
}
