// SPDX-License-Identifier: MIT

package agent

import (
	"strconv"
	"syscall"
	"unsafe"
)

// appliedAt is the at_us= of an applied: CLOCK_MONOTONIC in microseconds,
// memgov's clock on Linux, so memgov can time a target to the moment the
// runtime had it rather than to when its own loop read the answer.
func appliedAt() string {
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 1 /* CLOCK_MONOTONIC */, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return ""
	}
	return " at_us=" + strconv.FormatUint(uint64(ts.Sec)*1000000+uint64(ts.Nsec)/1000, 10)
}
