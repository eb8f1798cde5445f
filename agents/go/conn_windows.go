// SPDX-License-Identifier: MIT

//go:build windows

package agent

import (
	"errors"
	"os"
	"syscall"
)

// connFromFD wraps the handle memgov left for this process: on Windows,
// MEMGOV_FD holds the value of an inherited handle to the client end of a
// named pipe (docs/protocol.md, "Transport"), which must be a pipe. It is made
// non-inheritable, as close-on-exec on Unix, so that programs this one starts
// do not hold the channel open.
func connFromFD(fd int) (stream, error) {
	h := syscall.Handle(uintptr(fd))
	typ, err := syscall.GetFileType(h)
	if err != nil {
		return nil, err
	}
	if typ != syscall.FILE_TYPE_PIPE {
		return nil, errors.New("not a pipe")
	}
	if err := syscall.SetHandleInformation(h, syscall.HANDLE_FLAG_INHERIT, 0); err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(h), "memgov"), nil
}
