//go:build linux

package procmem_test

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/platform/procmem"
)

// rssFile reads how much of this process's resident set is file-backed, in KiB.
func rssFile(t *testing.T) int {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "RssFile:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}

// TestReleaseStartupDropsTheBinarysPagesAndKeepsRunning: the executable's read-only pages leave
// the resident set, and the code they held still runs (it comes back from the page cache).
func TestReleaseStartupDropsTheBinarysPagesAndKeepsRunning(t *testing.T) {
	before := rssFile(t)
	dropped, err := procmem.ReleaseStartup()
	require.NoError(t, err)
	assert.Positive(t, dropped, "the executable's read-only mappings were found")
	after := rssFile(t)
	assert.Less(t, after, before, "file-backed resident KiB")
	t.Logf("RssFile %d KiB -> %d KiB (%d KiB of mappings dropped)", before, after, dropped/1024)
	// Code and constants are read again from the page cache.
	assert.Equal(t, "42", strconv.Itoa(42))
	assert.Less(t, rssFile(t)-after, before-after, "far from all of it comes back")
}
