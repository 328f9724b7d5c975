package emulator

import (
	"errors"
	"fmt"
)

// More mutations, for tests of clients that remember what they saw (the onepassword-connect
// plugin's warm path): renaming a vault and changing what a token may read. Like PutItem and
// DeleteItem they take effect for the next request.

// RenameVault gives a vault a new name; its ID, items and grants stay.
func (s *Server) RenameVault(vaultID, name string) error {
	if name == "" {
		return errors.New("RenameVault: empty name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.byID[vaultID]
	if v == nil {
		return fmt.Errorf("RenameVault: vault %s not found", vaultID)
	}
	v.Name = name
	v.UpdatedAt = s.clock().UTC()
	return nil
}

// Revoke takes a vault out of a token's grant, as if the token had been re-issued without it.
// A token granted AllVaults keeps every vault but this one. The token itself is never part of
// an error message.
func (s *Server) Revoke(token, vaultID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.tokens[token]
	if !ok {
		return errors.New("Revoke: unknown token")
	}
	if s.byID[vaultID] == nil {
		return fmt.Errorf("Revoke: vault %s not found", vaultID)
	}
	vaults := map[string]bool{}
	if g.all {
		for id := range s.byID {
			vaults[id] = true
		}
	}
	for id := range g.vaults {
		vaults[id] = true
	}
	delete(vaults, vaultID)
	s.tokens[token] = grant{vaults: vaults}
	return nil
}
