package user

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/platform/mail"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/user/internal/store"
)

// A password-reset code is mailed by a River job that carries only the code's row id: River
// keeps a job's arguments, in plain text, for a day after it ran, and anyone who reads river_job
// (an operator, a backup, a dashboard) would read live codes there. The code waits in its row
// sealed with AES-256-GCM under a key derived from the configured secret, is opened at send
// time, and is cleared once sent, used, replaced or expired.

// resetCodeKeyInfo names the key derived from the secret, so it differs from every other use of
// that secret (token signatures, OTP hashes).
const resetCodeKeyInfo = "goshop user: reset code awaiting mail, v1"

// codeSealer seals reset codes, each bound to its row's id so a sealed code cannot be moved to
// another row.
type codeSealer struct{ aead cipher.AEAD }

func newCodeSealer(secret string) (codeSealer, error) {
	key, err := hkdf.Key(sha256.New, []byte(secret), nil, resetCodeKeyInfo, 32)
	if err != nil {
		return codeSealer{}, fmt.Errorf("user: reset code key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return codeSealer{}, fmt.Errorf("user: reset code cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return codeSealer{}, fmt.Errorf("user: reset code cipher: %w", err)
	}
	return codeSealer{aead: aead}, nil
}

// seal answers nonce || ciphertext.
func (c codeSealer) seal(id uuid.UUID, code string) ([]byte, error) {
	nonce := make([]byte, c.aead.NonceSize(), c.aead.NonceSize()+len(code)+c.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("user: random: %w", err)
	}
	return c.aead.Seal(nonce, nonce, []byte(code), id[:]), nil
}

func (c codeSealer) open(id uuid.UUID, sealed []byte) (string, error) {
	n := c.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("user: sealed reset code too short")
	}
	code, err := c.aead.Open(nil, sealed[:n], sealed[n:], id[:])
	if err != nil {
		return "", fmt.Errorf("user: open reset code: %w", err)
	}
	return string(code), nil
}

// queueResetCodeMailTx stores the code sealed in its new row and queues the job that mails it,
// both in tx.
func (s *Service) queueResetCodeMailTx(ctx context.Context, tx pgx.Tx, q *store.Queries, userID uuid.UUID, code string) error {
	id := uuid.New()
	sealed, err := s.codes.seal(id, code)
	if err != nil {
		return err
	}
	if err := q.CreatePasswordOTP(ctx, store.CreatePasswordOTPParams{ID: id, UserID: userID, OtpHash: s.otpHash(userID, code),
		CodeSealed: sealed, ExpiresAt: time.Now().Add(s.cfg.OTPTTL)}); err != nil {
		return fmt.Errorf("user: create reset code: %w", err)
	}
	return s.jobs.InsertTx(ctx, tx, resetCodeMailArgs{OTPID: id}, &river.InsertOpts{MaxAttempts: 10})
}

// resetCodeMailArgs mails the reset code of one row: an id, never the code.
type resetCodeMailArgs struct {
	OTPID uuid.UUID `json:"otp_id"`
}

func (resetCodeMailArgs) Kind() string { return "user_reset_code_mail" }

type resetCodeMailWorker struct {
	river.WorkerDefaults[resetCodeMailArgs]
	s *Service
}

// Work opens the code, renders the message and sends it, then forgets the code. Run twice, it
// sends nothing the second time once the first cleared the code; a code already used, replaced
// or expired is forgotten unsent.
func (w *resetCodeMailWorker) Work(ctx context.Context, job *river.Job[resetCodeMailArgs]) error {
	id := job.Args.OTPID
	row, err := w.s.q.ResetCodeToMail(ctx, id)
	if pgdb.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("user: load reset code: %w", err)
	}
	left := time.Until(row.ExpiresAt)
	if row.ConsumedAt != nil || left <= 0 {
		return w.forget(ctx, id)
	}
	code, err := w.s.codes.open(id, row.CodeSealed)
	if err != nil { // sealed under another secret: no retry can open it
		return river.JobCancel(errors.Join(err, w.forget(ctx, id)))
	}
	err = w.s.mail.Send(ctx, mail.Message{
		ID:      "goshop-reset-" + id.String(), // one Message-ID however often the job runs
		To:      row.Email,
		Subject: "Your GoShop password reset code",
		Body: fmt.Sprintf("Your GoShop code is %s. It expires in %d minutes.\n"+
			"If you did not ask to reset your password, ignore this email.", code, max(1, int(left.Round(time.Minute).Minutes()))),
	})
	if errors.Is(err, mail.ErrUnavailable) { // mail turned off since the code was made
		return river.JobCancel(errors.Join(err, w.forget(ctx, id)))
	}
	if err != nil {
		return fmt.Errorf("user: send reset code: %w", err)
	}
	return w.forget(ctx, id)
}

func (w *resetCodeMailWorker) forget(ctx context.Context, id uuid.UUID) error {
	if err := w.s.q.ForgetResetCode(ctx, id); err != nil {
		return fmt.Errorf("user: forget reset code: %w", err)
	}
	return nil
}
