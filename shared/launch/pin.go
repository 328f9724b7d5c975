package launch

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrPinnedScript: a pinned plugin is a #! script, which cannot run from the
// sealed copy the pin was checked against.
var ErrPinnedScript = errors.New("a pinned plugin must be a compiled executable, not a #! script")

// verified is a pinned plugin's binary, checked against its pin, in a form
// that cannot change any more before it is executed.
type verified struct {
	execPath string   // what to execute
	file     *os.File // keeps execPath valid; closed once the plugin started
}

func (v *verified) Close() {
	if v != nil && v.file != nil {
		v.file.Close()
	}
}

// checkPin hashes what r yields and compares it with pin. head is the first
// bytes, to recognise a script.
func checkPin(r io.Reader, pin []byte) error {
	h := sha256.New()
	head := make([]byte, 2)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return err
	}
	h.Write(head[:n])
	if _, err := io.Copy(h, r); err != nil {
		return err
	}
	if sum := h.Sum(nil); !bytes.Equal(sum, pin) {
		return fmt.Errorf("%w (its sha256 is %s)", ErrChecksum, hex.EncodeToString(sum))
	}
	if bytes.Equal(head[:n], []byte("#!")) {
		// The interpreter would open the script again by name after our
		// check (and from a close-on-exec copy it cannot open it at all).
		return ErrPinnedScript
	}
	return nil
}
