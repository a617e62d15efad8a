//go:build !linux

package realtime

import "syscall"

// unsent cannot be told off Linux; the write timeout alone then catches a follower that
// does not read.
func unsent(syscall.RawConn) (int, bool) { return 0, false }
