package user

import (
	"testing"

	"github.com/alexedwards/argon2id"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDummyHashCostsWhatARealOneDoes: the dummy an unknown email is checked against is made
// without hashing, yet it carries the same costs as a stored hash (so the check takes as long)
// and matches nothing, not even the empty password.
func TestDummyHashCostsWhatARealOneDoes(t *testing.T) {
	t.Parallel()
	params := *argon2id.DefaultParams
	params.Memory = 8192
	dummy, err := dummyHash(&params)
	require.NoError(t, err)
	got, salt, key, err := argon2id.DecodeHash(dummy)
	require.NoError(t, err)
	assert.Equal(t, params.Memory, got.Memory)
	assert.Equal(t, params.Iterations, got.Iterations)
	assert.Equal(t, params.Parallelism, got.Parallelism)
	assert.Len(t, salt, int(params.SaltLength))
	assert.Len(t, key, int(params.KeyLength))
	for _, pw := range []string{"", "not a password anyone has", "password"} {
		ok, err := argon2id.ComparePasswordAndHash(pw, dummy)
		require.NoError(t, err)
		assert.False(t, ok, "%q matched the dummy", pw)
	}
	other, err := dummyHash(&params)
	require.NoError(t, err)
	assert.NotEqual(t, dummy, other, "each process draws its own salt and key")
}
