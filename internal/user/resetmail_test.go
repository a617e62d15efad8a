package user_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

func TestResetCodeStaysOutOfJobArguments(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := context.Background()
	u := env.Register(t, "Job Reader")
	require.Equal(t, http.StatusAccepted, env.Post(t, "/auth/forgot-password", "", map[string]any{"email": u.Email}).Status)
	code := otpFrom(t, env, u.Email, 1)

	var otpID string
	require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT o.id::text FROM users.password_otps o JOIN users.users u ON u.id = o.user_id
		WHERE u.email = $1`, u.Email).Scan(&otpID))
	apptest.Eventually(t, func() bool {
		var left int
		require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT count(*) FROM users.password_otps WHERE code_sealed IS NOT NULL`).Scan(&left))
		return left == 0
	}, "the sealed code is forgotten once mailed")

	rows, err := env.App.Pool.Query(ctx, `SELECT kind, args::text FROM river_job`)
	require.NoError(t, err)
	defer rows.Close()
	mailJobs := 0
	for rows.Next() {
		var kind, args string
		require.NoError(t, rows.Scan(&kind, &args))
		assert.NotContains(t, args, code, "job %s carries the code", kind)
		if kind == "user_reset_code_mail" {
			mailJobs++
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(args), &m))
			assert.Equal(t, map[string]any{"otp_id": otpID}, m, "the mail job carries an id and nothing else")
		}
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, 1, mailJobs)

	res := env.Post(t, "/auth/verify-otp", "", map[string]any{"email": u.Email, "otp": code})
	require.Equal(t, http.StatusOK, res.Status, "the mailed code is the right one: %s", res.Body)
	res = env.Post(t, "/auth/reset-password", "", map[string]any{"reset_token": res.Map(t)["reset_token"], "new_password": "sealed-and-sent"})
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	assert.Equal(t, http.StatusOK, env.Post(t, "/auth/login", "", map[string]any{"email": u.Email, "password": "sealed-and-sent"}).Status)
	assert.True(t, strings.Contains(env.Mailbox.To(u.Email)[0].Body, "expires in 10 minutes"), "rendered at send time: %s",
		env.Mailbox.To(u.Email)[0].Body)
}
