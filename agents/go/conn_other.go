// SPDX-License-Identifier: MIT

//go:build !unix

package agent

import (
	"errors"
	"net"
)

func connFromFD(fd int) (net.Conn, error) {
	return nil, errors.New("inherited descriptors are not supported on this system")
}
