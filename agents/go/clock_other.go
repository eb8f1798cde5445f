// SPDX-License-Identifier: MIT

//go:build !linux

package agent

// appliedAt is empty where memgov's clock is not CLOCK_MONOTONIC (docs/protocol.md, applied's at_us=): memgov
// then times a target by its acknowledgement.
func appliedAt() string { return "" }
