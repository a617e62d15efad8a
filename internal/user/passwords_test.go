package user_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

// hashes reads goshop_password_hashes_total{result} off /metrics.
func hashes(t *testing.T, env *apptest.Env, result string) int {
	t.Helper()
	return int(env.Metric(t, `goshop_password_hashes_total{result="`+result+`"}`))
}

// TestPasswordHashingIsBounded runs one hash at a time with no wait for a turn: requests that
// find it busy answer the documented 503 with Retry-After, every other answer is what it would
// be without the bound, an unknown email still costs a hash, and a 503 costs the account
// nothing (it signs in right after).
func TestPasswordHashingIsBounded(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.WithEnv("PASSWORD_HASH_CONCURRENCY", "1"), apptest.WithEnv("PASSWORD_HASH_WAIT", "1ms"),
		apptest.WithEnv("PASSWORD_HASH_MEMORY_KIB", "8192"))
	users := make([]apptest.User, 4)
	for i := range users {
		users[i] = env.Register(t, fmt.Sprintf("Storm %d", i))
	}

	// An unknown email takes its turn and runs a hash, as a wrong password does.
	ran := hashes(t, env, "run")
	res := env.Post(t, "/auth/login", "", map[string]any{"email": "nobody-" + uuid.NewString()[:8] + "@example.com", "password": "whatever-123"})
	require.Equal(t, http.StatusUnauthorized, res.Status, "%s", res.Body)
	assert.Equal(t, ran+1, hashes(t, env, "run"))

	type answer struct {
		kind string
		res  *apptest.Response
	}
	var (
		mu      sync.Mutex
		answers []answer
		refused int
	)
	// Rounds of requests sent at once, until some of them found hashing busy.
	for round := 0; refused == 0; round++ {
		require.Less(t, round, 20, "no request ever found hashing busy")
		var wg sync.WaitGroup
		start := make(chan struct{})
		send := func(kind, path string, body map[string]any) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				res := env.Post(t, path, "", body)
				mu.Lock()
				answers = append(answers, answer{kind, res})
				mu.Unlock()
			}()
		}
		for _, u := range users {
			for range 3 {
				send("login", "/auth/login", map[string]any{"email": u.Email, "password": u.Password})
			}
			send("unknown", "/auth/login", map[string]any{"email": "x" + u.Email, "password": u.Password})
		}
		for i := range 2 {
			send("register", "/auth/register", map[string]any{"email": fmt.Sprintf("new-%d-%d-%s@example.com", round, i, uuid.NewString()[:8]),
				"password": "correct horse battery", "full_name": "New"})
		}
		close(start)
		wg.Wait()
		for _, a := range answers {
			if a.res.Status == http.StatusServiceUnavailable {
				refused++
			}
		}
		if refused == 0 {
			answers = answers[:0]
		}
	}

	want := map[string]int{"login": http.StatusOK, "unknown": http.StatusUnauthorized, "register": http.StatusCreated}
	for _, a := range answers {
		if a.res.Status == http.StatusServiceUnavailable {
			assert.Equal(t, "unavailable", a.res.Code(t), "%s", a.res.Body)
			assert.Equal(t, "1", a.res.Header.Get("Retry-After"), "the wait, at least a second")
			continue
		}
		assert.Equal(t, want[a.kind], a.res.Status, "%s: %s", a.kind, a.res.Body)
	}
	assert.Equal(t, refused, hashes(t, env, "refused"), "every 503 is a refused turn and nothing else")

	// No account is the worse for its refused sign-ins. A turn is given back just after its
	// answer is written, so with a 1 ms wait one of these may still find the last one held:
	// the client's answer to a 503 is to try again.
	for _, u := range users {
		var res *apptest.Response
		for try := 0; try < 20; try++ {
			if res = env.Post(t, "/auth/login", "", map[string]any{"email": u.Email, "password": u.Password}); res.Status != http.StatusServiceUnavailable {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		assert.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	}
}
