// Package lru is the bounded least-recently-used map the 1Password plugins
// keep their memories in: the Connect plugin's title-to-ID guesses and the
// service-account plugin's value cache. It is not safe for concurrent use;
// each user holds it under its own lock, with whatever else that lock
// guards.
package lru

import "container/list"

// Map holds at most Max entries; putting one more drops the least recently
// used.
type Map[K comparable, V any] struct {
	max   int
	order *list.List // of *entry[K, V], most recently used first
	m     map[K]*list.Element
}

type entry[K comparable, V any] struct {
	key K
	val V
}

// New returns an empty map of at most max entries.
func New[K comparable, V any](max int) *Map[K, V] {
	return &Map[K, V]{max: max, order: list.New(), m: map[K]*list.Element{}}
}

// Get returns the value of k and marks it used.
func (c *Map[K, V]) Get(k K) (V, bool) {
	el, ok := c.m[k]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*entry[K, V]).val, true
}

// Put sets the value of k, marks it used, and, when the map has grown
// beyond its bound, drops the least recently used entries; before that,
// stale (when not nil) is offered the chance to name entries to drop
// first, oldest first.
func (c *Map[K, V]) Put(k K, v V, stale func(K, V) bool) {
	if el, ok := c.m[k]; ok {
		el.Value.(*entry[K, V]).val = v
		c.order.MoveToFront(el)
		return
	}
	c.m[k] = c.order.PushFront(&entry[K, V]{key: k, val: v})
	if c.order.Len() > c.max && stale != nil {
		c.RemoveIf(stale)
	}
	for c.order.Len() > c.max {
		c.remove(c.order.Back())
	}
}

// Remove drops k.
func (c *Map[K, V]) Remove(k K) {
	if el, ok := c.m[k]; ok {
		c.remove(el)
	}
}

// RemoveIf drops every entry for which drop is true, oldest first.
func (c *Map[K, V]) RemoveIf(drop func(K, V) bool) {
	for el := c.order.Back(); el != nil; {
		prev := el.Prev()
		if e := el.Value.(*entry[K, V]); drop(e.key, e.val) {
			c.remove(el)
		}
		el = prev
	}
}

// Len is the number of entries.
func (c *Map[K, V]) Len() int { return c.order.Len() }

// Each calls f for every entry, most recently used first, without marking
// any used.
func (c *Map[K, V]) Each(f func(K, V)) {
	for el := c.order.Front(); el != nil; el = el.Next() {
		e := el.Value.(*entry[K, V])
		f(e.key, e.val)
	}
}

func (c *Map[K, V]) remove(el *list.Element) {
	c.order.Remove(el)
	delete(c.m, el.Value.(*entry[K, V]).key)
}
