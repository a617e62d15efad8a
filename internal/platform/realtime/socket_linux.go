package realtime

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// unsent is how many bytes the socket holds that the peer has not acknowledged (SIOCOUTQ);
// ok is false when it cannot be told.
func unsent(raw syscall.RawConn) (n int, ok bool) {
	if raw == nil {
		return 0, false
	}
	var ierr error
	if err := raw.Control(func(fd uintptr) { n, ierr = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ) }); err != nil || ierr != nil {
		return 0, false
	}
	return n, true
}
