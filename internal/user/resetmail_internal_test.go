package user

import (
	"bytes"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCodeSealer(t *testing.T) {
	t.Parallel()
	s, err := newCodeSealer("a secret of at least thirty-two bytes")
	require.NoError(t, err)
	id := uuid.New()
	sealed, err := s.seal(id, "042917")
	require.NoError(t, err)
	assert.False(t, bytes.Contains(sealed, []byte("042917")), "sealed, not stored")
	again, err := s.seal(id, "042917")
	require.NoError(t, err)
	assert.NotEqual(t, sealed, again, "a fresh nonce each time")

	code, err := s.open(id, sealed)
	require.NoError(t, err)
	assert.Equal(t, "042917", code)

	_, err = s.open(uuid.New(), sealed)
	assert.Error(t, err, "bound to its row: another row's id does not open it")
	other, err := newCodeSealer("another secret of thirty-two bytes or more")
	require.NoError(t, err)
	_, err = other.open(id, sealed)
	assert.Error(t, err, "another secret does not open it")
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	_, err = s.open(id, tampered)
	assert.Error(t, err)
	_, err = s.open(id, sealed[:3])
	assert.Error(t, err)
}
