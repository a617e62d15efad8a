package auth

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newPrincipal() Principal {
	return Principal{UserID: uuid.New(), SessionID: uuid.New(), Roles: []string{RoleUser}}
}

// TestVerifiedTokensAreRemembered: a second Verify of the same token answers from the cache with
// the same principal; a principal the caller extends never changes what the next caller gets;
// a forged or foreign token is never taken from the cache.
func TestVerifiedTokensAreRemembered(t *testing.T) {
	t.Parallel()
	tok := NewTokens("a-secret-of-thirty-two-bytes-long!", "goshop", time.Minute)
	p := newPrincipal()
	raw, err := tok.Issue(p)
	require.NoError(t, err)

	first, err := tok.Verify(raw)
	require.NoError(t, err)
	assert.Equal(t, p, first)
	assert.Equal(t, 1, tok.verified.Len())

	first.Roles = append(first.Roles, RoleAdmin)
	again, err := tok.Verify(raw)
	require.NoError(t, err)
	assert.Equal(t, []string{RoleUser}, again.Roles, "an append by one caller reached the cache")

	other := NewTokens("another-secret-of-thirty-two-bytes", "goshop", time.Minute)
	_, err = other.Verify(raw)
	require.Error(t, err, "a token signed with another secret")
	_, err = tok.Verify(raw[:len(raw)-2] + "xx")
	require.Error(t, err, "a token with a changed signature")
}

// TestCachedTokenStillExpires: a remembered token stops being accepted when it expires (past
// the leeway every token gets).
func TestCachedTokenStillExpires(t *testing.T) {
	t.Parallel()
	tok := NewTokens("a-secret-of-thirty-two-bytes-long!", "goshop", time.Minute)
	p := newPrincipal()
	raw, err := tok.Issue(p)
	require.NoError(t, err)
	_, err = tok.Verify(raw)
	require.NoError(t, err)
	// Move the remembered expiry and the token's own into the past, as time passing would.
	v, ok := tok.verified.Get(raw)
	require.True(t, ok)
	v.expires = time.Now().Add(-time.Second)
	tok.verified.Add(raw, v)
	expired := NewTokens("a-secret-of-thirty-two-bytes-long!", "goshop", -time.Minute)
	old, err := expired.Issue(p)
	require.NoError(t, err)
	_, err = tok.Verify(old)
	require.Error(t, err, "an expired token")
	_, err = tok.Verify(raw)
	require.NoError(t, err, "a cached entry past its time is verified again, and this token is still valid")
}

// BenchmarkVerify compares a token's first verification with the following ones.
func BenchmarkVerify(b *testing.B) {
	tok := NewTokens("a-secret-of-thirty-two-bytes-long!", "goshop", time.Hour)
	raw, err := tok.Issue(newPrincipal())
	require.NoError(b, err)
	b.Run("uncached", func(b *testing.B) {
		for b.Loop() {
			tok.verified.Purge()
			if _, err := tok.Verify(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := tok.Verify(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}
