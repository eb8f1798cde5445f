// SPDX-License-Identifier: MIT

//go:build !linux

package agent

import "testing"

func clockForTest(t *testing.T) uint64 { return 0 }

// checkAppliedAt: elsewhere an applied carries no at_us=.
func checkAppliedAt(t *testing.T, ack *message, before, after uint64) {
	t.Helper()
	if v, ok := ack.get("at_us"); ok {
		t.Errorf("applied at_us=%s where the clock is not memgov's", v)
	}
}
