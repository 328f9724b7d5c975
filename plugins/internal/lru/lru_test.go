package lru

import (
	"slices"
	"testing"
)

func keys(c *Map[string, int]) []string {
	var out []string
	c.Each(func(k string, _ int) { out = append(out, k) })
	return out
}

// TestMap: the least recently used entry goes first; Get and Put mark an
// entry used; stale entries go before live ones; Remove and RemoveIf drop.
func TestMap(t *testing.T) {
	c := New[string, int](2)
	c.Put("a", 1, nil)
	c.Put("b", 2, nil)
	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Fatalf("Get a = %d, %v", v, ok)
	}
	c.Put("c", 3, nil) // b is the least recently used
	if got := keys(c); !slices.Equal(got, []string{"c", "a"}) {
		t.Fatalf("after c: %v", got)
	}
	c.Put("a", 10, nil) // replaces, marks used
	if v, _ := c.Get("a"); v != 10 || c.Len() != 2 {
		t.Fatalf("replace: a = %d, len %d", v, c.Len())
	}
	c.Put("d", 4, func(k string, _ int) bool { return k == "a" }) // a is stale, c stays
	if got := keys(c); !slices.Equal(got, []string{"d", "c"}) {
		t.Fatalf("after d with a stale: %v", got)
	}
	c.Remove("c")
	c.RemoveIf(func(_ string, v int) bool { return v == 4 })
	if _, ok := c.Get("d"); ok || c.Len() != 0 {
		t.Fatalf("after Remove and RemoveIf: %v", keys(c))
	}
}
