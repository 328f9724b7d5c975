package cli

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// maskAll is the reference: leftmost-longest replacement over the whole
// input at once.
func maskAll(in []byte, secrets [][]byte) []byte {
	var out []byte
	for i := 0; i < len(in); {
		best := 0
		for _, s := range secrets {
			if len(s) > best && bytes.HasPrefix(in[i:], s) {
				best = len(s)
			}
		}
		if best > 0 {
			out = append(out, concealed...)
			i += best
			continue
		}
		out = append(out, in[i])
		i++
	}
	return out
}

// writeSplit writes in to m in random pieces (sizes 0..max).
func writeSplit(t *testing.T, r *rand.Rand, m *masker, in []byte, max int) {
	t.Helper()
	for len(in) > 0 {
		n := min(r.IntN(max+1), len(in))
		if k, err := m.Write(in[:n]); err != nil || k != n {
			t.Fatalf("Write = %d, %v", k, err)
		}
		in = in[n:]
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestMaskerRandomSplitsMatchWholeInput(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	alphabet := []byte("abcab\n$")
	for round := range 2000 {
		// Few, short, overlapping secrets over a tiny alphabet make
		// overlaps and near misses common.
		var secrets [][]byte
		for range 1 + r.IntN(4) {
			s := make([]byte, 1+r.IntN(6))
			for i := range s {
				s[i] = alphabet[r.IntN(len(alphabet))]
			}
			secrets = append(secrets, s)
		}
		in := make([]byte, r.IntN(200))
		for i := range in {
			in[i] = alphabet[r.IntN(len(alphabet))]
		}
		want := maskAll(in, secrets)
		var got bytes.Buffer
		m := newMasker(&got, secrets)
		writeSplit(t, r, m, in, 1+r.IntN(10))
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("round %d: secrets %q, input %q:\ngot  %q\nwant %q", round, secrets, in, got.Bytes(), want)
		}
	}
}

func TestMaskerByteByByte(t *testing.T) {
	secret := []byte("hunter2-s3cr3t")
	var got bytes.Buffer
	m := newMasker(&got, [][]byte{secret})
	in := []byte("password: hunter2-s3cr3t, again: hunter2-s3cr3t\nhunter2 alone\n")
	for _, c := range in {
		m.Write([]byte{c})
	}
	m.Close()
	want := "password: " + concealed + ", again: " + concealed + "\nhunter2 alone\n"
	if got.String() != want {
		t.Errorf("got %q, want %q", got.String(), want)
	}
}

func TestMaskerHoldsBackOnlyAPossiblePrefix(t *testing.T) {
	var got bytes.Buffer
	m := newMasker(&got, [][]byte{[]byte("abcdef")})
	m.Write([]byte("xxxxabc"))
	if got.String() != "xxxx" {
		t.Fatalf("after a possible prefix: wrote %q, want %q", got.String(), "xxxx")
	}
	m.Write([]byte("X"))
	if got.String() != "xxxxabcX" {
		t.Fatalf("after the prefix broke: wrote %q", got.String())
	}
	// A long line without secrets is not held back waiting for a newline.
	got.Reset()
	long := strings.Repeat("z", 10000)
	m.Write([]byte(long))
	if got.Len() != len(long) {
		t.Fatalf("held back %d bytes of a line that cannot contain the secret", len(long)-got.Len())
	}
	// At most len(longest)-1 bytes are ever held.
	got.Reset()
	m.Write([]byte("abcde"))
	if got.Len() != 0 {
		t.Fatalf("wrote %q of a prefix", got.String())
	}
	m.Close()
	if got.String() != "abcde" {
		t.Fatalf("Close flushed %q, want the held prefix", got.String())
	}
}

func TestMaskerPrefersLongestAndLeftmost(t *testing.T) {
	var got bytes.Buffer
	// "cd" lies inside "abcdef": the whole longer secret must go, not
	// "ab<mask>ef", even when "cd" arrives first.
	m := newMasker(&got, [][]byte{[]byte("cd"), []byte("abcdef")})
	m.Write([]byte("abcd"))
	m.Write([]byte("ef"))
	m.Close()
	if got.String() != concealed {
		t.Errorf("got %q", got.String())
	}
	got.Reset()
	// At EOF, a pending longer candidate gives way to the shorter match.
	m = newMasker(&got, [][]byte{[]byte("ab"), []byte("abc")})
	m.Write([]byte("xab"))
	m.Close()
	if got.String() != "x"+concealed {
		t.Errorf("got %q", got.String())
	}
}

func TestMaskerIgnoresEmptyAndDuplicateSecrets(t *testing.T) {
	var got bytes.Buffer
	m := newMasker(&got, [][]byte{{}, []byte("k"), []byte("k")})
	m.Write([]byte("okk"))
	m.Close()
	if got.String() != "o"+concealed+concealed {
		t.Errorf("got %q", got.String())
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestMaskerReportsWriteErrors(t *testing.T) {
	m := newMasker(failWriter{}, [][]byte{[]byte("s")})
	if _, err := m.Write([]byte("hello")); err == nil {
		t.Fatal("write error not reported")
	}
	if _, err := m.Write([]byte("again")); err == nil {
		t.Fatal("sticky write error not reported")
	}
}

func FuzzMasker(f *testing.F) {
	f.Add([]byte("the secret is hunter2"), []byte("hunter2"), []byte("hun"), uint64(1))
	f.Add([]byte("aaaaaaa"), []byte("aa"), []byte("aaa"), uint64(2))
	f.Fuzz(func(t *testing.T, in, s1, s2 []byte, seed uint64) {
		secrets := [][]byte{s1, s2}
		var nonEmpty [][]byte
		for _, s := range secrets {
			if len(s) > 0 {
				nonEmpty = append(nonEmpty, s)
			}
		}
		want := maskAll(in, nonEmpty)
		var got bytes.Buffer
		m := newMasker(&got, secrets)
		writeSplit(t, rand.New(rand.NewPCG(seed, seed)), m, in, 8)
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("got %q, want %q", got.Bytes(), want)
		}
	})
}
