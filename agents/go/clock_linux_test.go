// SPDX-License-Identifier: MIT

package agent

import (
	"strconv"
	"strings"
	"testing"
)

// clockForTest reads the clock applied's at_us= is on.
func clockForTest(t *testing.T) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimPrefix(appliedAt(), " at_us="), 10, 64)
	if err != nil {
		t.Fatalf("appliedAt() = %q: %v", appliedAt(), err)
	}
	return v
}

// checkAppliedAt: on Linux an applied carries at_us=, taken between memgov's send and its arrival.
func checkAppliedAt(t *testing.T, ack *message, before, after uint64) {
	t.Helper()
	if at := u64(t, ack, "at_us"); at < before || at > after {
		t.Errorf("applied at_us=%d, not between the send (%d) and the arrival (%d)", at, before, after)
	}
}
