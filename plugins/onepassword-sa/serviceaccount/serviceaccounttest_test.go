package serviceaccount

import "github.com/secrethost/secrethost/plugins/onepassword-sa/serviceaccount/serviceaccounttest"

// Helpers shared with the end-to-end tests (e2e/onepassword-sa).
var (
	wellFormedFakeToken = serviceaccounttest.WellFormedFakeToken
	skipIfReachable     = serviceaccounttest.SkipIfReachable
)
