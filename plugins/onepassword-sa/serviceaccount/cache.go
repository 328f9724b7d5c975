package serviceaccount

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/secrethost/secrethost/shared/provider"
)

// cache is a TTL cache of resolved secrets bounded by entry count, evicting
// the least recently used entry when full. Keys are canonical references
// (opref's String form), so two spellings of one reference share an entry.
// Only successful lookups are stored: an error is never cached.
type cache struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu    sync.Mutex
	order *list.List // of *entry, most recently used first
	items map[string]*list.Element
}

type entry struct {
	key, value string
	expires    time.Time
}

func newCache(ttl time.Duration, max int, now func() time.Time) *cache {
	return &cache{ttl: ttl, max: max, now: now, order: list.New(), items: map[string]*list.Element{}}
}

// get returns the live value for key and marks it recently used. An
// expired entry is removed and reported as a miss.
func (c *cache) get(key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return "", false
	}
	e := el.Value.(*entry)
	if !c.now().Before(e.expires) {
		c.order.Remove(el)
		delete(c.items, key)
		return "", false
	}
	c.order.MoveToFront(el)
	return e.value, true
}

// put stores value for key for one TTL from now, evicting the least
// recently used entries beyond the size bound. Expired entries are dropped
// first, so an eviction never removes a live entry while a dead one stays.
func (c *cache) put(key, value string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	expires := c.now().Add(c.ttl)
	if el, ok := c.items[key]; ok {
		e := el.Value.(*entry)
		e.value, e.expires = value, expires
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(&entry{key: key, value: value, expires: expires})
	if c.order.Len() > c.max {
		c.dropExpired()
	}
	for c.order.Len() > c.max {
		c.remove(c.order.Back())
	}
}

func (c *cache) dropExpired() {
	now := c.now()
	for el := c.order.Back(); el != nil; {
		prev := el.Prev()
		if !now.Before(el.Value.(*entry).expires) {
			c.remove(el)
		}
		el = prev
	}
}

func (c *cache) remove(el *list.Element) {
	c.order.Remove(el)
	delete(c.items, el.Value.(*entry).key)
}

// len is the number of entries, live or not yet noticed to be expired.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// outcome is what one reference's lookup produced: a value, or an error
// whose Reference the caller fills in (one outcome may serve several
// spellings of a reference).
type outcome struct {
	value string
	err   *provider.Error
}

// fetchFunc looks up keys in one backend call and returns an outcome for
// every key.
type fetchFunc func(ctx context.Context, keys []string) map[string]outcome

// group shares in-flight lookups: a key already being fetched is not
// fetched again, its caller waits for the running fetch. Unlike
// x/sync/singleflight, which runs one function per key, a group fetches a
// caller's missing keys together, so a batch stays one backend call.
type group struct {
	mu       sync.Mutex
	inflight map[string]*flight
}

// flight is one backend call for a set of keys.
type flight struct {
	keys    []string
	done    chan struct{}
	results map[string]outcome // set before done is closed
	cancel  context.CancelFunc

	waiters int // callers still waiting; guarded by group.mu
}

func newGroup() *group { return &group{inflight: map[string]*flight{}} }

// do returns an outcome for each key. Keys in flight are joined; the rest
// are fetched with one call to fetch. cached, called under the group's
// lock, lets a key stored by a fetch that completed a moment ago be served
// without another call; store runs before a fetch leaves the in-flight set.
//
// The fetch runs on a context detached from the caller's cancellation, and
// is cancelled only when every caller waiting on it has given up: one
// impatient caller must not fail the others' lookup.
func (g *group) do(ctx context.Context, keys []string, fetch fetchFunc,
	cached func(string) (string, bool), store func(map[string]outcome)) map[string]outcome {
	out := make(map[string]outcome, len(keys))
	waitOn := map[*flight]bool{}
	var lead []string

	g.mu.Lock()
	for _, k := range keys {
		if f, ok := g.inflight[k]; ok {
			waitOn[f] = true
			continue
		}
		if v, ok := cached(k); ok {
			out[k] = outcome{value: v}
			continue
		}
		lead = append(lead, k)
	}
	if len(lead) > 0 {
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		f := &flight{keys: lead, done: make(chan struct{}), cancel: cancel}
		for _, k := range lead {
			g.inflight[k] = f
		}
		waitOn[f] = true
		go g.run(fctx, f, fetch, store)
	}
	for f := range waitOn {
		f.waiters++
	}
	g.mu.Unlock()

	for f := range waitOn {
		select {
		case <-f.done:
			for _, k := range keys {
				if r, ok := f.results[k]; ok {
					out[k] = r
				}
			}
		case <-ctx.Done():
		}
		g.leave(f)
	}
	for _, k := range keys {
		if _, ok := out[k]; !ok {
			out[k] = outcome{err: provider.Errorf(provider.CodeUnavailable, "", "gave up waiting for 1Password: %v", ctx.Err())}
		}
	}
	return out
}

// leave records that a caller stopped waiting on f, and cancels f's fetch
// when nobody waits any more.
func (g *group) leave(f *flight) {
	g.mu.Lock()
	f.waiters--
	last := f.waiters == 0
	g.mu.Unlock()
	if last {
		f.cancel()
	}
}

func (g *group) run(ctx context.Context, f *flight, fetch fetchFunc, store func(map[string]outcome)) {
	var res map[string]outcome
	defer func() {
		if r := recover(); r != nil {
			res = map[string]outcome{}
			for _, k := range f.keys {
				res[k] = outcome{err: provider.Errorf(provider.CodeInternal, "", "lookup failed: %v", fmt.Sprint(r))}
			}
		}
		g.mu.Lock()
		for _, k := range f.keys {
			if g.inflight[k] == f {
				delete(g.inflight, k)
			}
		}
		f.results = res
		g.mu.Unlock()
		close(f.done)
		f.cancel()
	}()
	res = fetch(ctx, f.keys)
	store(res)
}

// waiting reports how many callers wait on the fetch of key (0 when it is
// not in flight). For tests and debugging.
func (g *group) waiting(key string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f, ok := g.inflight[key]; ok {
		return f.waiters
	}
	return 0
}
