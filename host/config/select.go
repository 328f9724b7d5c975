package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// selection picks the active providers.
type selection struct {
	providers []*provider
	filename  string
	attr      *hcl.Attribute // the top-level select; nil when absent or null
	value     string
	sensitive bool
}

func (s *selection) run() ([]*provider, error) {
	available := s.available()
	if s.attr == nil {
		active := s.enabled(s.providers)
		if len(active) > 0 {
			return active, nil
		}
		msg := "no provider is configured: " + s.filename + " has no provider blocks"
		if len(s.providers) > 0 {
			msg = "no provider is enabled in " + s.filename + "; disabled: " + list(s.providers)
		}
		return nil, s.err(ErrNoActiveProvider, available, msg)
	}

	selector := selectorName(s.attr)
	if s.value == "" {
		msg := fmt.Sprintf("nothing selects a provider: %s is empty; set it to one of: %s", selector, strings.Join(available, ", "))
		if len(available) == 0 {
			msg = fmt.Sprintf("nothing selects a provider: %s is empty, and %s has no provider blocks", selector, s.filename)
		}
		return nil, s.err(ErrNoProvider, available, msg)
	}

	var matching []*provider
	for _, p := range s.providers {
		if p.Select == s.value {
			matching = append(matching, p)
		}
	}
	if len(matching) == 0 {
		avail := strings.Join(available, ", ")
		if len(available) == 0 {
			avail = "none (" + s.filename + " has no provider blocks)"
		}
		msg := fmt.Sprintf("unknown provider %q in %s; available: %s", s.value, selector, avail)
		if s.sensitive {
			msg = fmt.Sprintf("unknown provider in %s (%s); available: %s", selector, hiddenSelector, avail)
		}
		return nil, s.err(ErrUnknownProvider, available, msg)
	}
	active := s.enabled(matching)
	if len(active) == 0 {
		shown := strconv.Quote(s.value)
		if s.sensitive {
			shown = "a provider (" + hiddenSelector + ")"
		}
		return nil, s.err(ErrNoActiveProvider, available,
			fmt.Sprintf("%s selects %s, but no provider for it is enabled; disabled: %s", selector, shown, list(matching)))
	}
	return active, nil
}

func (s *selection) err(sentinel error, available []string, msg string) *SelectionError {
	pos := s.filename + ":1:1"
	selector := ""
	if s.attr != nil {
		pos = posOf(s.attr.Range)
		selector = selectorName(s.attr)
	}
	return &SelectionError{Err: sentinel, Selector: selector, Available: available, Pos: pos, msg: msg}
}

// HiddenSelect stands, in SelectionError.Available and in messages, for a
// provider's select value that was read with env() or file().
const HiddenSelect = "(a select value read with env() or file(), not shown)"

func (s *selection) available() []string {
	var out []string
	for _, p := range s.providers {
		v := p.Select
		if p.IsSecret("select") {
			v = HiddenSelect
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

func (s *selection) enabled(ps []*provider) []*provider {
	var out []*provider
	for _, p := range ps {
		if p.enabled {
			out = append(out, p)
		}
	}
	return out
}

// list renders "a (file:3:1), b (file:9:1)".
func list(ps []*provider) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Name + " (" + p.Pos + ")"
	}
	return strings.Join(parts, ", ")
}

// selectorName describes where the select value comes from: the variable
// name for `select = env("NAME", ...)`, else the attribute and its position.
func selectorName(attr *hcl.Attribute) string {
	if call, ok := attr.Expr.(*hclsyntax.FunctionCallExpr); ok && call.Name == "env" && len(call.Args) > 0 {
		if v, diags := call.Args[0].Value(nil); !diags.HasErrors() && v.IsKnown() && !v.IsNull() && v.Type() == cty.String {
			return v.AsString()
		}
	}
	return "select (" + posOf(attr.Range) + ")"
}

// hiddenSelector replaces the selected value in messages when it was read
// with env() or file(), like every such value: SECRET_PROVIDER usually holds
// a provider name, but a secret may end up in the wrong variable, and a
// message cannot tell.
const hiddenSelector = "its value, read with env() or file(), is not shown"
