//go:build linux

package procmem

import (
	"bufio"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
)

// ReleaseStartup returns the heap that start-up left behind to the system and drops this
// process's mappings of its own executable's read-only pages (code, constants, function
// tables). Start-up runs code that never runs again (migrations, the router and its OpenAPI
// document, templates), and the kernel maps the binary in 64 KiB runs around every page it
// touches, so most of the binary ends up counted in the resident set. The pages stay in the
// page cache: what is used again comes back on its next touch, a minor fault, no disk read.
// Only read-only, file-backed mappings are touched (MADV_DONTNEED on a written private page
// would lose it). It answers how many bytes of mappings it dropped.
func ReleaseStartup() (int64, error) {
	debug.FreeOSMemory()
	exe, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("procmem: executable: %w", err)
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, fmt.Errorf("procmem: maps: %w", err)
	}
	defer f.Close()
	var dropped int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 00400000-01979000 r-xp 00000000 08:01 1234   /path/to/goshop
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != exe || fields[1][1] == 'w' || fields[1][3] != 'p' {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, uintptr(start), uintptr(end-start), syscall.MADV_DONTNEED); errno != 0 {
			return dropped, fmt.Errorf("procmem: madvise %s: %w", fields[0], errno)
		}
		dropped += int64(end - start)
	}
	return dropped, sc.Err()
}
