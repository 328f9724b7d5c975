package host

import (
	"slices"
	"testing"
)

// TestProxyCredentials: which parts of a proxy setting are secrets.
func TestProxyCredentials(t *testing.T) {
	cases := []struct {
		raw       string
		want      []string // among the secrets
		none      bool     // no secret at all
		notSecret []string // never a secret on its own
	}{
		{raw: "http://proxy.internal:3128", none: true},
		{raw: "proxy.internal:3128", none: true},
		{raw: "https://proxy.internal", none: true},
		{raw: "http://deploy:s3cret-pw@proxy:3128", want: []string{"http://deploy:s3cret-pw@proxy:3128", "deploy:s3cret-pw", "s3cret-pw"}, notSecret: []string{"deploy", "proxy"}},
		{raw: " http://deploy:s3cret-pw@proxy:3128\n", want: []string{"http://deploy:s3cret-pw@proxy:3128", "s3cret-pw"}},
		{raw: "deploy:s3cret-pw@proxy:3128", want: []string{"deploy:s3cret-pw@proxy:3128", "s3cret-pw"}},
		{raw: "http://deploy:p%40ss%2Fw0rd@proxy:3128", want: []string{"deploy:p%40ss%2Fw0rd", "p@ss/w0rd", "p%40ss%2Fw0rd", "deploy:p@ss/w0rd"}},
		{raw: "http://tok3n-as-user@proxy:3128", want: []string{"http://tok3n-as-user@proxy:3128", "tok3n-as-user"}},
		{raw: "http://%zz:pw@proxy", want: []string{"http://%zz:pw@proxy"}},
		{raw: "::not a url at all::", want: []string{"::not a url at all::"}},
	}
	for _, c := range cases {
		got := proxyCredentials(c.raw)
		if c.none {
			if len(got) != 0 {
				t.Errorf("%q: secrets %q, want none", c.raw, got)
			}
			continue
		}
		for _, w := range c.want {
			if !slices.Contains(got, w) {
				t.Errorf("%q: secrets %q lack %q", c.raw, got, w)
			}
		}
		for _, n := range c.notSecret {
			if slices.Contains(got, n) {
				t.Errorf("%q: %q should not be a secret on its own", c.raw, n)
			}
		}
	}
}
