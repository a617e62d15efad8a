package media

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/media/internal/store"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/eventbus"
	"github.com/goshop/goshop/internal/platform/jobs"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// Config are the media context's limits.
type Config struct {
	// ImageMaxBytes and VideoMaxBytes bound an upload of each kind, enforced as it streams in.
	ImageMaxBytes, VideoMaxBytes int64
	// MaxPixels and MaxSide bound an image's canvas, read from its header before decoding.
	MaxPixels int64
	MaxSide   int
	// MaxPerOwner bounds the media of one product or review (a Limited guard may bound its
	// owners' further).
	MaxPerOwner int
	// UploadsPerUser and Uploads bound the uploads in progress at once, of one user (429) and
	// of this process (503): each holds a decoded image or a temporary file.
	UploadsPerUser, Uploads int
	// DeleteGrace is how long a deleted owner's files stay before they are purged.
	DeleteGrace time.Duration
	// UnattachedTTL is how long an upload may wait for an owner before it is swept away.
	UnattachedTTL time.Duration
}

// Service holds the rules of the media context. Other contexts call it through interfaces of
// their own (Upload, List, ListMany, Delete, DeleteAll need no principal: the caller has
// settled who may); its routes go through Add, Arrange and Remove, which ask the owner kind's
// Guard.
type Service struct {
	pool *pgxpool.Pool
	q    *store.Queries
	// readQ runs the public reads that tolerate a little lag: a read replica when one is set.
	readQ   *store.Queries
	jobs    *jobs.Runner
	storage Storage
	cfg     Config
	tools   videoTools
	log     *slog.Logger

	guardsMu sync.RWMutex
	guards   map[events.MediaOwnerKind]Guard

	slots   chan struct{}
	usersMu sync.Mutex
	users   map[uuid.UUID]int
}

// NewService builds the media service, registers its River workers (poster frames, purges,
// the sweeper) and subscribes it to product.deleted and review.deleted.
func NewService(pool *pgxpool.Pool, bus *eventbus.Bus, runner *jobs.Runner, storage Storage, cfg Config, log *slog.Logger) *Service {
	s := &Service{pool: pool, q: newStore(pool), readQ: newStore(pool), jobs: runner, storage: storage, cfg: cfg, tools: findVideoTools(), log: log,
		guards: map[events.MediaOwnerKind]Guard{}, slots: make(chan struct{}, cfg.Uploads), users: map[uuid.UUID]int{}}
	river.AddWorker(runner.Workers, &posterWorker{s: s})
	river.AddWorker(runner.Workers, &purgeWorker{s: s})
	river.AddWorker(runner.Workers, &sweepWorker{s: s})
	runner.AddPeriodic(river.NewPeriodicJob(river.PeriodicInterval(15*time.Minute),
		func() (river.JobArgs, *river.InsertOpts) { return sweepArgs{}, nil }, nil))
	eventbus.On(bus, "media.product_deleted", s.productDeleted)
	eventbus.On(bus, "media.review_deleted", s.reviewDeleted)
	return s
}

// SetGuard sets who may change the media of an owner kind; a kind without a guard takes no
// uploads through the routes.
func (s *Service) SetGuard(kind events.MediaOwnerKind, g Guard) {
	s.guardsMu.Lock()
	defer s.guardsMu.Unlock()
	s.guards[kind] = g
}

// VideoTools reports whether ffprobe and ffmpeg were found: without them videos are kept with
// no duration and no poster frame.
func (s *Service) VideoTools() (ffprobe, ffmpeg bool) {
	return s.tools.ffprobe != "", s.tools.ffmpeg != ""
}

func (s *Service) guard(kind events.MediaOwnerKind) Guard {
	s.guardsMu.RLock()
	defer s.guardsMu.RUnlock()
	return s.guards[kind]
}

// limit is how many items an owner of kind may have: MaxPerOwner, or less where its guard says.
func (s *Service) limit(kind events.MediaOwnerKind) int {
	if g, ok := s.guard(kind).(Limited); ok {
		return min(s.cfg.MaxPerOwner, g.MaxMedia())
	}
	return s.cfg.MaxPerOwner
}

// Authorize checks that p may change the owner's media, with the owner kind's guard.
func (s *Service) Authorize(ctx context.Context, p auth.Principal, owner Owner) error {
	g := s.guard(owner.Kind)
	if g == nil {
		return apperr.New(apperr.Forbidden, "media of a %s cannot be changed here", owner.Kind)
	}
	return g.CanManageMedia(ctx, p, owner.ID)
}

// Add uploads an item for an owner p may change: Upload with the uploader's details.
func (s *Service) Add(ctx context.Context, p auth.Principal, owner Owner, filename string, d Details, r io.Reader) (Item, error) {
	if err := s.Authorize(ctx, p, owner); err != nil {
		return Item{}, err
	}
	return s.upload(ctx, owner, p.UserID, filename, d, r)
}

// Upload checks, re-encodes and stores an image or video for owner (owner.ID uuid.Nil: for an
// owner that does not exist yet, given later with Attach, or swept away after UnattachedTTL).
// The type is read from the bytes: JPEG, PNG and WebP images, MP4 and WebM videos; anything
// else, a name whose extension says another type, a damaged image or one over the pixel
// limits is a validation error and nothing is stored.
func (s *Service) Upload(ctx context.Context, owner Owner, uploader uuid.UUID, filename string, r io.Reader) (Item, error) {
	return s.upload(ctx, owner, uploader, filename, Details{}, r)
}

// stored is what an upload leaves in storage, so that a failure can take it back.
type stored struct{ keys []string }

func (s *Service) upload(ctx context.Context, owner Owner, uploader uuid.UUID, filename string, d Details, r io.Reader) (Item, error) {
	release, err := s.acquire(uploader)
	if err != nil {
		return Item{}, err
	}
	defer release()
	if !StorableName(filename) {
		return Item{}, apperr.Field("file", "its name must be UTF-8 text without NUL characters")
	}
	head, body, err := readHead(r)
	if err != nil {
		return Item{}, err
	}
	contentType, kind, err := sniff(head)
	if err != nil {
		return Item{}, err
	}
	if err := checkExtension(filename, contentType); err != nil {
		return Item{}, err
	}
	if kind == KindVideo && d.Primary {
		return Item{}, apperr.Field("is_primary", "only an image can be the primary one")
	}
	var owned *uuid.UUID
	limit := s.limit(owner.Kind)
	if owner.ID != uuid.Nil {
		owned = &owner.ID
		n, err := s.q.CountLive(ctx, store.CountLiveParams{OwnerKind: owner.Kind, OwnerID: owned})
		if err != nil {
			return Item{}, err
		}
		if n >= int64(limit) {
			return Item{}, tooMany(owner.Kind, limit)
		}
	}
	var (
		files  []file
		finish store.FinishParams
	)
	switch kind {
	case KindImage:
		data, err := readCapped(body, s.cfg.ImageMaxBytes, "images")
		if err != nil {
			return Item{}, err
		}
		img, err := processImage(data, s.cfg.MaxPixels, s.cfg.MaxSide)
		if err != nil {
			return Item{}, err
		}
		files = append(files, file{name: "original" + img.ext, data: img.data, contentType: img.contentType})
		for _, t := range img.thumbs {
			files = append(files, file{name: fmt.Sprintf("w%d%s", t.width, img.ext), data: t.data, contentType: img.contentType, width: t.width})
		}
		finish = store.FinishParams{ContentType: img.contentType, Width: int32(img.width), Height: int32(img.height)}
	case KindVideo:
		tmp, size, err := spool(ctx, body, s.cfg.VideoMaxBytes)
		if err != nil {
			return Item{}, err
		}
		defer os.Remove(tmp)
		info, err := s.tools.probe(ctx, tmp)
		if err != nil {
			return Item{}, err
		}
		ext := ".mp4"
		if contentType == "video/webm" {
			ext = ".webm"
		}
		files = append(files, file{name: "original" + ext, path: tmp, size: size, contentType: contentType})
		finish = store.FinishParams{ContentType: contentType, Width: int32(info.width), Height: int32(info.height),
			DurationMs: info.durationMS, Codec: info.codec}
	}

	id, err := s.q.CreatePending(ctx, store.CreatePendingParams{OwnerKind: owner.Kind, OwnerID: owned, UploaderID: uploader,
		Kind: string(kind), ContentType: contentType, FileKey: ""})
	if err != nil {
		return Item{}, err
	}
	var done stored
	undo := func() {
		// Best effort: what is left is the sweeper's, as the row stays unattached.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		s.removeFiles(uctx, done.keys)
		if err := s.q.DeleteRow(uctx, id); err != nil {
			s.log.WarnContext(uctx, "media: undo an upload", "media_id", id, "err", err)
		}
	}
	var thumbs []storedThumb
	for _, f := range files {
		key := id.String() + "/" + f.name
		if err := s.put(ctx, key, f); err != nil {
			undo()
			return Item{}, err
		}
		done.keys = append(done.keys, key)
		if f.width > 0 {
			thumbs = append(thumbs, storedThumb{Width: f.width, Key: key})
		} else {
			finish.FileKey = key
			finish.Bytes = f.bytes()
		}
	}
	finish.ID = id
	finish.Thumbnails, _ = json.Marshal(append([]storedThumb{}, thumbs...))
	finish.Alt = strings.TrimSpace(d.Alt)
	var row store.MediaItem
	err = pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		if owned != nil {
			if err := q.LockOwner(ctx, store.LockOwnerParams{OwnerKind: string(owner.Kind), OwnerID: owner.ID.String()}); err != nil {
				return err
			}
			n, err := q.CountLive(ctx, store.CountLiveParams{OwnerKind: owner.Kind, OwnerID: owned})
			if err != nil {
				return err
			}
			if n >= int64(limit) {
				return tooMany(owner.Kind, limit)
			}
			next, err := q.NextPosition(ctx, store.NextPositionParams{OwnerKind: owner.Kind, OwnerID: owned})
			if err != nil {
				return err
			}
			finish.Position = next
			if d.Position != nil && int32(*d.Position) < next {
				finish.Position = int32(*d.Position)
				if err := q.MakeRoom(ctx, store.MakeRoomParams{OwnerKind: owner.Kind, OwnerID: owned, Position: finish.Position,
					MovedID: id}); err != nil {
					return err
				}
			}
			if kind == KindImage {
				has, err := q.HasPrimary(ctx, store.HasPrimaryParams{OwnerKind: owner.Kind, OwnerID: owned})
				if err != nil {
					return err
				}
				if d.Primary && has {
					if err := q.ClearPrimary(ctx, store.ClearPrimaryParams{OwnerKind: owner.Kind, OwnerID: owned}); err != nil {
						return err
					}
				}
				finish.IsPrimary = d.Primary || !has
			}
		}
		row, err = q.Finish(ctx, finish)
		if err != nil {
			return err
		}
		if kind == KindVideo && s.tools.ffmpeg != "" {
			return s.jobs.InsertTx(ctx, tx, posterArgs{MediaID: id}, nil)
		}
		return nil
	})
	if err != nil {
		undo()
		return Item{}, err
	}
	return s.item(ctx, row)
}

func tooMany(kind events.MediaOwnerKind, limit int) error {
	return apperr.New(apperr.Conflict, "a %s may have at most %d images and videos: delete one first", kind, limit)
}

// UploadsInProgress is how many uploads this process is receiving now (each holds a slot).
func (s *Service) UploadsInProgress() int { return len(s.slots) }

// acquire takes an upload slot of the user and of the process, or refuses: 429 when the user
// has too many uploads in progress, 503 when the process has.
func (s *Service) acquire(user uuid.UUID) (func(), error) {
	s.usersMu.Lock()
	if s.users[user] >= s.cfg.UploadsPerUser {
		s.usersMu.Unlock()
		return nil, &apperr.Error{Code: apperr.TooManyRequests, RetryAfter: time.Second,
			Message: fmt.Sprintf("at most %d uploads at once per user: wait for one to finish", s.cfg.UploadsPerUser)}
	}
	s.users[user]++
	s.usersMu.Unlock()
	leave := func() {
		s.usersMu.Lock()
		if s.users[user]--; s.users[user] <= 0 {
			delete(s.users, user)
		}
		s.usersMu.Unlock()
	}
	select {
	case s.slots <- struct{}{}:
		return func() { <-s.slots; leave() }, nil
	default:
		leave()
		return nil, &apperr.Error{Code: apperr.Unavailable, RetryAfter: time.Second,
			Message: "the server is busy with other uploads: try again shortly"}
	}
}

// file is one file an upload stores: in memory (images) or spooled to disk (videos).
type file struct {
	name        string
	data        []byte
	path        string
	size        int64
	contentType string
	width       int // of a thumbnail
}

func (f file) bytes() int64 {
	if f.path != "" {
		return f.size
	}
	return int64(len(f.data))
}

func (s *Service) put(ctx context.Context, key string, f file) error {
	if f.path == "" {
		return s.storage.Put(ctx, key, bytes.NewReader(f.data), int64(len(f.data)), f.contentType)
	}
	fh, err := os.Open(f.path)
	if err != nil {
		return fmt.Errorf("media: reopen the upload: %w", err)
	}
	defer fh.Close()
	return s.storage.Put(ctx, key, fh, f.size, f.contentType)
}

// storedThumb is a thumbnail as the row keeps it.
type storedThumb struct {
	Width int    `json:"width"`
	Key   string `json:"key"`
}

// readCapped reads r whole, refusing it (413) past max bytes: it stops reading there.
func readCapped(r io.Reader, max int64, what string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, apperr.New(apperr.PayloadTooLarge, "%s may be at most %d bytes", what, max)
	}
	return data, nil
}

// spool copies a video to a temporary file (ffprobe and ffmpeg read files), refusing it past max.
func spool(ctx context.Context, r io.Reader, max int64) (string, int64, error) {
	f, err := os.CreateTemp("", "goshop-upload-*")
	if err != nil {
		return "", 0, fmt.Errorf("media: spool: %w", err)
	}
	n, err := io.Copy(f, ctxReader{ctx, io.LimitReader(r, max+1)})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > max {
		err = apperr.New(apperr.PayloadTooLarge, "videos may be at most %d bytes", max)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", 0, err
	}
	return f.Name(), n, nil
}

// extensions are the file name endings that name a type: a name that says one type while the
// bytes are another is refused, as a client that mislabels a file has something wrong.
var extensions = map[string]string{
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".jpe": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
	".mp4": "video/mp4", ".m4v": "video/mp4", ".webm": "video/webm", ".gif": "image/gif", ".zip": "application/zip",
	".heic": "image/heic", ".mov": "video/quicktime", ".bmp": "image/bmp", ".tif": "image/tiff", ".tiff": "image/tiff",
}

func checkExtension(filename, contentType string) error {
	ext := strings.ToLower(path.Ext(filename))
	if want, ok := extensions[ext]; ok && want != contentType {
		return apperr.Field("file", fmt.Sprintf("is named %s but its bytes are %s: name it after what it is", ext, contentType))
	}
	return nil
}

// StorableName says whether a file name can be kept: UTF-8 without NUL, at most 255 bytes.
func StorableName(name string) bool {
	return len(name) <= 255 && !strings.ContainsRune(name, 0) && strings.ToValidUTF8(name, "") == name
}

// List returns an owner's media in their order.
func (s *Service) List(ctx context.Context, owner Owner) ([]Item, error) {
	m, err := s.ListMany(ctx, owner.Kind, []uuid.UUID{owner.ID})
	if err != nil {
		return nil, err
	}
	if m[owner.ID] == nil {
		return []Item{}, nil
	}
	return m[owner.ID], nil
}

// UseReads sends the lag-tolerant reads (ListManyPublic) to db, pgdb.Reads over a replica.
func (s *Service) UseReads(db pgdb.DBTX) { s.readQ = newStore(db) }

// ListMany returns the media of many owners of one kind in one query (a page of products).
func (s *Service) ListMany(ctx context.Context, kind events.MediaOwnerKind, ids []uuid.UUID) (map[uuid.UUID][]Item, error) {
	return s.listMany(ctx, s.q, kind, ids)
}

// ListManyPublic is ListMany for a public page, which may be served a moment late: it reads
// from the replica when one is set.
func (s *Service) ListManyPublic(ctx context.Context, kind events.MediaOwnerKind, ids []uuid.UUID) (map[uuid.UUID][]Item, error) {
	return s.listMany(ctx, s.readQ, kind, ids)
}

func (s *Service) listMany(ctx context.Context, q *store.Queries, kind events.MediaOwnerKind, ids []uuid.UUID) (map[uuid.UUID][]Item, error) {
	if len(ids) == 0 {
		return map[uuid.UUID][]Item{}, nil
	}
	rows, err := q.ListOwned(ctx, store.ListOwnedParams{OwnerKind: kind, OwnerIds: ids})
	if err != nil {
		return nil, err
	}
	return s.byOwner(ctx, rows)
}

// QueueListMany queues ListMany's read on b, for a caller that reads several contexts in one
// round trip (a public product page): b goes where its sender sends it, the replica for a
// public page. Once b is sent, done gets the media by owner.
func (s *Service) QueueListMany(ctx context.Context, b *pgdb.Batch, kind events.MediaOwnerKind, ids []uuid.UUID,
	done func(map[uuid.UUID][]Item, error) error) {
	pgdb.Queue(b, func(db pgdb.DBTX) ([]store.MediaItem, error) {
		return newStore(db).ListOwned(ctx, store.ListOwnedParams{OwnerKind: kind, OwnerIds: ids})
	}, func(rows []store.MediaItem, err error) error {
		if err != nil {
			return done(nil, err)
		}
		return done(s.byOwner(ctx, rows))
	})
}

// byOwner shows rows, grouped by their owner.
func (s *Service) byOwner(ctx context.Context, rows []store.MediaItem) (map[uuid.UUID][]Item, error) {
	out := map[uuid.UUID][]Item{}
	for _, r := range rows {
		it, err := s.item(ctx, r)
		if err != nil {
			return nil, err
		}
		out[*r.OwnerID] = append(out[*r.OwnerID], it)
	}
	return out, nil
}

// item shows a row with its files' URLs.
func (s *Service) item(ctx context.Context, r store.MediaItem) (Item, error) {
	it := Item{ID: r.ID, Kind: Kind(r.Kind), Width: int(r.Width), Height: int(r.Height), DurationMS: r.DurationMs,
		Alt: r.Alt, Position: int(r.Position), IsPrimary: r.IsPrimary, CreatedAt: r.CreatedAt.UTC(), Thumbnails: []Thumbnail{}}
	var err error
	if it.URL, err = s.storage.URL(ctx, r.FileKey); err != nil {
		return Item{}, err
	}
	var thumbs []storedThumb
	_ = json.Unmarshal(r.Thumbnails, &thumbs) // written by upload only, always an array
	for _, t := range thumbs {
		u, err := s.storage.URL(ctx, t.Key)
		if err != nil {
			return Item{}, err
		}
		it.Thumbnails = append(it.Thumbnails, Thumbnail{Width: t.Width, URL: u})
	}
	if r.PosterKey != nil {
		u, err := s.storage.URL(ctx, *r.PosterKey)
		if err != nil {
			return Item{}, err
		}
		it.PosterURL = &u
	}
	return it, nil
}

// owned loads an owner's live item (not found when it is another owner's or gone).
func (s *Service) owned(ctx context.Context, q *store.Queries, owner Owner, id uuid.UUID) (store.MediaItem, error) {
	r, err := q.Get(ctx, id)
	if pgdb.IsNoRows(err) || err == nil && (r.OwnerKind != owner.Kind || r.OwnerID == nil || *r.OwnerID != owner.ID ||
		r.DeletedAt != nil || r.AttachedAt == nil) {
		return r, apperr.NotFoundf("media")
	}
	return r, err
}

// Arrange changes an item's alt text, position or primary flag, for someone p may.
func (s *Service) Arrange(ctx context.Context, p auth.Principal, owner Owner, id uuid.UUID, a Arrangement) (Item, error) {
	if err := s.Authorize(ctx, p, owner); err != nil {
		return Item{}, err
	}
	var row store.MediaItem
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		if err := q.LockOwner(ctx, store.LockOwnerParams{OwnerKind: string(owner.Kind), OwnerID: owner.ID.String()}); err != nil {
			return err
		}
		r, err := s.owned(ctx, q, owner, id)
		if err != nil {
			return err
		}
		params := store.ArrangeParams{ID: id, Alt: r.Alt, Position: r.Position, IsPrimary: r.IsPrimary}
		if a.Alt != nil {
			params.Alt = strings.TrimSpace(*a.Alt)
		}
		if a.Position != nil && int32(*a.Position) != r.Position {
			params.Position = int32(*a.Position)
			if err := q.MakeRoom(ctx, store.MakeRoomParams{OwnerKind: owner.Kind, OwnerID: &owner.ID, Position: params.Position,
				MovedID: id}); err != nil {
				return err
			}
		}
		if a.IsPrimary != nil && *a.IsPrimary != r.IsPrimary {
			switch {
			case *a.IsPrimary && Kind(r.Kind) != KindImage:
				return apperr.Field("is_primary", "only an image can be the primary one")
			case *a.IsPrimary:
				if err := q.ClearPrimary(ctx, store.ClearPrimaryParams{OwnerKind: owner.Kind, OwnerID: &owner.ID}); err != nil {
					return err
				}
				params.IsPrimary = true
			default:
				return apperr.Field("is_primary", "make another image the primary one instead")
			}
		}
		row, err = q.Arrange(ctx, params)
		return err
	})
	if err != nil {
		return Item{}, err
	}
	return s.item(ctx, row)
}

// Remove deletes an item, for someone p may.
func (s *Service) Remove(ctx context.Context, p auth.Principal, owner Owner, id uuid.UUID) error {
	if err := s.Authorize(ctx, p, owner); err != nil {
		return err
	}
	return s.Delete(ctx, owner, id)
}

// Delete deletes one of an owner's items: it is gone from the owner's media at once and its
// files are purged by a job; the first image left becomes primary if it was.
func (s *Service) Delete(ctx context.Context, owner Owner, id uuid.UUID) error {
	return pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		if err := q.LockOwner(ctx, store.LockOwnerParams{OwnerKind: string(owner.Kind), OwnerID: owner.ID.String()}); err != nil {
			return err
		}
		now := time.Now()
		_, err := q.MarkDeleted(ctx, store.MarkDeletedParams{ID: id, OwnerKind: owner.Kind, OwnerID: &owner.ID, PurgeAfter: &now})
		if pgdb.IsNoRows(err) {
			return apperr.NotFoundf("media")
		}
		if err != nil {
			return err
		}
		if err := q.PromoteFirstImage(ctx, store.PromoteFirstImageParams{OwnerKind: owner.Kind, OwnerID: &owner.ID}); err != nil {
			return err
		}
		return s.jobs.InsertTx(ctx, tx, purgeArgs{MediaID: id}, nil)
	})
}

// DeleteAll deletes every item of an owner (a deleted product or review): they leave its media
// at once, and their files are purged after DeleteGrace. Running it twice changes nothing.
func (s *Service) DeleteAll(ctx context.Context, owner Owner) error {
	return pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		after := time.Now().Add(s.cfg.DeleteGrace)
		rows, err := q.MarkOwnerDeleted(ctx, store.MarkOwnerDeletedParams{OwnerKind: owner.Kind, OwnerID: &owner.ID, PurgeAfter: &after})
		if err != nil {
			return err
		}
		params := make([]river.InsertManyParams, len(rows))
		for i, r := range rows {
			params[i] = river.InsertManyParams{Args: purgeArgs{MediaID: r.ID}, InsertOpts: &river.InsertOpts{ScheduledAt: *r.PurgeAfter}}
		}
		return s.jobs.InsertManyTx(ctx, tx, params)
	})
}

// Attach gives an owner the uploads its uploader made without one (Upload with uuid.Nil), in
// the caller's transaction when tx is not nil; IDs that are not such uploads of uploader are
// a validation error and nothing is attached.
func (s *Service) Attach(ctx context.Context, tx pgx.Tx, owner Owner, uploader uuid.UUID, ids []uuid.UUID) error {
	if len(ids) == 0 {
		return nil
	}
	q := s.q
	if tx != nil {
		q = newStore(tx)
	}
	got, err := q.Attach(ctx, store.AttachParams{OwnerID: &owner.ID, Ids: ids, OwnerKind: owner.Kind, UploaderID: uploader})
	if err != nil {
		return err
	}
	if len(got) != len(uniq(ids)) {
		return apperr.Field("media_ids", "must be your own uploads, not yet attached to anything")
	}
	return nil
}

func uniq(ids []uuid.UUID) map[uuid.UUID]bool {
	m := make(map[uuid.UUID]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// productDeleted deletes a deleted product's media (after the grace period).
func (s *Service) productDeleted(ctx context.Context, _ string, ev events.ProductDeleted) error {
	return s.ownerDeleted(ctx, events.MediaOwnerProduct, ev.ProductID)
}

// reviewDeleted deletes a deleted review's photos and videos (after the grace period).
func (s *Service) reviewDeleted(ctx context.Context, _ string, ev events.ReviewDeleted) error {
	return s.ownerDeleted(ctx, events.MediaOwnerReview, ev.ReviewID)
}

// ownerDeleted deletes the media of an owner whose deletion an event told of; an event naming
// no owner is cancelled, as retrying it would not help.
func (s *Service) ownerDeleted(ctx context.Context, kind events.MediaOwnerKind, rawID string) error {
	id, err := uuid.Parse(rawID)
	if err != nil {
		return river.JobCancel(fmt.Errorf("media: %s deleted with id %q: %w", kind, rawID, err))
	}
	return s.DeleteAll(ctx, Owner{Kind: kind, ID: id})
}

// keysOf lists every file an item may have, the poster included even before the row says so
// (a poster job may have stored it and failed before recording it).
func keysOf(r store.MediaItem) []string {
	keys := []string{r.ID.String() + "/poster.jpg"}
	if r.FileKey != "" {
		keys = append(keys, r.FileKey)
	}
	var thumbs []storedThumb
	_ = json.Unmarshal(r.Thumbnails, &thumbs)
	for _, t := range thumbs {
		keys = append(keys, t.Key)
	}
	return keys
}

func (s *Service) removeFiles(ctx context.Context, keys []string) {
	for _, k := range keys {
		if err := s.storage.Delete(ctx, k); err != nil {
			s.log.WarnContext(ctx, "media: remove a file", "key", k, "err", err)
		}
	}
}

// purge removes a deleted or abandoned item's files, then its row; a second run finds nothing.
func (s *Service) purge(ctx context.Context, r store.MediaItem) error {
	for _, k := range keysOf(r) {
		if err := s.storage.Delete(ctx, k); err != nil {
			return err
		}
	}
	return s.q.DeleteRow(ctx, r.ID)
}

// Sweep purges, a batch at a time, uploads never attached within UnattachedTTL and deleted
// items whose grace period is over (their own purge job does that too; the sweep catches any
// that was lost). It returns how many it purged.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	total := 0
	for {
		rows, err := s.q.Stale(ctx, store.StaleParams{UnattachedBefore: time.Now().Add(-s.cfg.UnattachedTTL), Max: 200})
		if err != nil {
			return total, err
		}
		for _, r := range rows {
			if err := s.purge(ctx, r); err != nil {
				return total, err
			}
		}
		total += len(rows)
		if len(rows) < 200 {
			return total, nil
		}
	}
}

func newStore(db store.DBTX) *store.Queries { return store.New(pgdb.Named("media", db)) }
