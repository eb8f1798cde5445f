// SPDX-License-Identifier: MIT

//go:build !unix && !windows

package agent

import "errors"

func connFromFD(fd int) (stream, error) {
	return nil, errors.New("inherited descriptors are not supported on this system")
}
