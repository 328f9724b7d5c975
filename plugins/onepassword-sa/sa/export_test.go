package sa

// Test helpers for the external (sa_test) tests.
var (
	WellFormedFakeToken = wellFormedFakeToken
	SkipIfReachable     = skipIfReachable
)
