// SPDX-License-Identifier: MIT

//go:build unix

package agent

import (
	"errors"
	"net"
	"os"
	"syscall"
)

// connFromFD wraps an inherited descriptor, which must be a stream socket.
// The descriptor itself is closed; the connection holds a close-on-exec copy.
func connFromFD(fd int) (stream, error) {
	typ, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TYPE)
	if err != nil {
		return nil, err
	}
	if typ != syscall.SOCK_STREAM {
		return nil, errors.New("not a stream socket")
	}
	f := os.NewFile(uintptr(fd), "memgov")
	defer f.Close()
	return net.FileConn(f)
}
