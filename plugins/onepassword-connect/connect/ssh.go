package connect

import (
	"encoding/pem"
	"strings"

	"github.com/1Password/connect-sdk-go/onepassword"
	"golang.org/x/crypto/ssh"

	"github.com/secrethost/secrethost/shared/provider"
)

// fieldTypeSSHKey is the type Connect gives an SSH key item's private key field. Connect
// stores the key as a PKCS#8 PEM block ("-----BEGIN PRIVATE KEY-----").
const fieldTypeSSHKey = "SSHKEY"

// openSSHKey converts an SSH key field's private key to the OpenSSH private-key format
// ("-----BEGIN OPENSSH PRIVATE KEY-----"), which 1Password's "?ssh-format=openssh"
// selects. The key is the same: only its encoding changes.
func openSSHKey(item *onepassword.Item, f *onepassword.ItemField) ([]byte, *failure) {
	notKey := func(why string) *failure {
		return fail(provider.CodeInvalidReference,
			"?ssh-format=openssh needs an SSH key's private key, but field %s of item %s %s",
			describeField(f), describeItem(item), why)
	}
	if !strings.EqualFold(string(f.Type), fieldTypeSSHKey) {
		return nil, notKey("has type " + string(f.Type))
	}
	// The error from the parser is not quoted: it could echo part of the key.
	key, err := ssh.ParseRawPrivateKey([]byte(f.Value))
	if err != nil {
		return nil, notKey("does not hold a private key in a format this plugin reads (PEM: PKCS#8, PKCS#1, SEC 1 or OpenSSH)")
	}
	block, err := ssh.MarshalPrivateKey(key, "")
	if err != nil {
		return nil, notKey("holds a key type that has no OpenSSH private-key format")
	}
	return pem.EncodeToMemory(block), nil
}
