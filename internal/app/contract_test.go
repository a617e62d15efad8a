package app_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/platform/openapi"
)

// TestEveryRouteIsDeclared: every route under /api/v1 is a typed handler that says what it does,
// who may call it (consistently with its middleware), so that the document, the contract check
// and the authorization suite cover a new route without anyone remembering to add it.
func TestEveryRouteIsDeclared(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	routes, err := env.App.Routes()
	require.NoError(t, err)
	assert.Empty(t, openapi.Lint(routes, "/api/v1/"))
}

// TestTheDocumentIsValidOpenAPI validates the served document against the OpenAPI 3.1
// specification (apptest's contract check refuses to start on an invalid one, too).
func TestTheDocumentIsValidOpenAPI(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	apptest.ContractOf(t, env.App) // fails the test on an invalid document
	res := env.Get(t, "/openapi.json", "")
	require.Equal(t, 200, res.Status)
}
