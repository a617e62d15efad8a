package media

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/media/internal/store"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// posterArgs is the job that makes a video's poster frame with ffmpeg.
type posterArgs struct {
	MediaID uuid.UUID `json:"media_id"`
}

// Kind implements river.JobArgs.
func (posterArgs) Kind() string { return "media.poster" }

type posterWorker struct {
	river.WorkerDefaults[posterArgs]
	s *Service
}

// Timeout gives ffmpeg time for a large video on a slow disk.
func (w *posterWorker) Timeout(*river.Job[posterArgs]) time.Duration { return 2 * time.Minute }

// Work makes the poster once: a video that has one, or is gone, is left alone.
func (w *posterWorker) Work(ctx context.Context, job *river.Job[posterArgs]) error {
	return w.s.makePoster(ctx, job.Args.MediaID)
}

func (s *Service) makePoster(ctx context.Context, id uuid.UUID) error {
	r, err := s.q.Get(ctx, id)
	if pgdb.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if r.DeletedAt != nil || r.PosterKey != nil || r.Kind != string(KindVideo) || s.tools.ffmpeg == "" {
		return nil
	}
	dir, err := os.MkdirTemp("", "goshop-poster-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	video := filepath.Join(dir, "video")
	src, err := s.storage.Open(ctx, r.FileKey)
	if apperr.Is(err, apperr.NotFound) {
		return nil // purged meanwhile
	}
	if err != nil {
		return err
	}
	err = copyToFile(video, src)
	_ = src.Close()
	if err != nil {
		return err
	}
	out := filepath.Join(dir, "poster.jpg")
	if err := s.tools.poster(ctx, video, out, r.DurationMs); err != nil {
		// A video ffprobe read but ffmpeg cannot take a frame of: keep it without a poster.
		s.log.WarnContext(ctx, "media: no poster frame", "media_id", id, "err", err)
		return nil
	}
	key := id.String() + "/poster.jpg"
	f, err := os.Open(out)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if err := s.storage.Put(ctx, key, f, st.Size(), "image/jpeg"); err != nil {
		return err
	}
	return s.q.SetPoster(ctx, store.SetPosterParams{ID: id, PosterKey: &key})
}

func copyToFile(path string, r io.Reader) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// purgeArgs is the job that removes a deleted item's files and row.
type purgeArgs struct {
	MediaID uuid.UUID `json:"media_id"`
}

// Kind implements river.JobArgs.
func (purgeArgs) Kind() string { return "media.purge" }

type purgeWorker struct {
	river.WorkerDefaults[purgeArgs]
	s *Service
}

// Work purges the item when it is deleted and its grace period is over; a second run finds no
// row and does nothing.
func (w *purgeWorker) Work(ctx context.Context, job *river.Job[purgeArgs]) error {
	r, err := w.s.q.Get(ctx, job.Args.MediaID)
	if pgdb.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if r.DeletedAt == nil || r.PurgeAfter == nil {
		return nil
	}
	if wait := time.Until(*r.PurgeAfter); wait > 0 {
		return river.JobSnooze(wait)
	}
	if err := w.s.purge(ctx, r); err != nil {
		return fmt.Errorf("media: purge %s: %w", r.ID, err)
	}
	return nil
}

// sweepArgs is the periodic job that runs Sweep.
type sweepArgs struct{}

// Kind implements river.JobArgs.
func (sweepArgs) Kind() string { return "media.sweep" }

type sweepWorker struct {
	river.WorkerDefaults[sweepArgs]
	s *Service
}

// Work sweeps; it is idempotent, as what it purges is gone once purged.
func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[sweepArgs]) error {
	_, err := w.s.Sweep(ctx)
	return err
}
