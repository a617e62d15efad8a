package mail_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/platform/jobs"
	"github.com/goshop/goshop/internal/platform/mail"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/platform/testdb"
)

// flakyServer refuses the first message and takes the rest, recording every attempt.
type flakyServer struct {
	mu       sync.Mutex
	attempts []mail.Message
}

func (s *flakyServer) Send(_ context.Context, m mail.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts = append(s.attempts, m)
	if len(s.attempts) == 1 {
		return errors.New("421 try again later")
	}
	return nil
}

func (s *flakyServer) seen() []mail.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mail.Message(nil), s.attempts...)
}

// TestASentMailIsNotSentAgainWhenItsJobRunsAgain: a send job that runs again after the mail went
// out (its process was killed before River recorded the end; here River's JobRetry runs it
// again) sends nothing, and every attempt carries the same Message-ID.
func TestASentMailIsNotSentAgainWhenItsJobRunsAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := pgdb.Open(ctx, testdb.New(t), 4)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	server := &flakyServer{}
	runner := jobs.NewRunner()
	outbox := mail.NewOutbox(runner, server)
	require.NoError(t, runner.Init(pool, jobs.Options{Work: true, RetryPolicy: jobs.FixedRetry(50 * time.Millisecond),
		PollInterval: 50 * time.Millisecond}))
	require.NoError(t, runner.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = runner.Stop(ctx)
	})

	require.NoError(t, pgdb.WithTx(ctx, pool, func(tx pgx.Tx) error {
		return outbox.EnqueueTx(ctx, tx, mail.Message{To: "an@example.com", Subject: "Hello", Body: "once"})
	}))
	var id int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT id FROM river_job WHERE kind = 'mail_send'`).Scan(&id))
	finished := func(attempt int) func() bool {
		return func() bool {
			j, err := runner.Client().JobGet(ctx, id)
			return err == nil && j.State == rivertype.JobStateCompleted && j.Attempt == attempt
		}
	}
	require.Eventually(t, finished(2), 20*time.Second, 20*time.Millisecond, "refused once, then sent")

	_, err = runner.Client().JobRetry(ctx, id)
	require.NoError(t, err)
	require.Eventually(t, finished(3), 20*time.Second, 20*time.Millisecond, "the job ran again")

	got := server.seen()
	require.Len(t, got, 2, "the third run sent nothing")
	assert.NotEmpty(t, got[0].ID)
	assert.Equal(t, got[0].ID, got[1].ID, "one Message-ID for every attempt")
}
