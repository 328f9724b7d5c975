package sa

import "github.com/secrethost/secrethost/plugins/onepassword-sa/sa/satest"

// Helpers shared with the end-to-end tests (e2e/onepassword-sa).
var (
	wellFormedFakeToken = satest.WellFormedFakeToken
	skipIfReachable     = satest.SkipIfReachable
)
