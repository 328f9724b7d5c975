package serviceaccount

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/secrethost/secrethost/plugins/internal/lru"
	"github.com/secrethost/secrethost/shared/provider"
)

// cache is a TTL cache of resolved secrets bounded by entry count, evicting
// the least recently used entry when full. Keys are canonical references
// (opref's String form), so two spellings of one reference share an entry.
// Only successful lookups are stored: an error is never cached.
type cache struct {
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	items *lru.Map[string, entry]
}

type entry struct {
	value   string
	expires time.Time
}

func newCache(ttl time.Duration, max int, now func() time.Time) *cache {
	return &cache{ttl: ttl, now: now, items: lru.New[string, entry](max)}
}

func (c *cache) get(key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items.Get(key)
	if !ok {
		return "", false
	}
	if !c.now().Before(e.expires) {
		c.items.Remove(key)
		return "", false
	}
	return e.value, true
}

// put stores value; when the cache is full, expired entries go first, then
// the least recently used.
func (c *cache) put(key, value string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	c.items.Put(key, entry{value: value, expires: now.Add(c.ttl)}, func(_ string, e entry) bool {
		return !now.Before(e.expires)
	})
}

// len is the number of entries, live or not yet noticed to be expired.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.items.Len()
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
