package analytics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/analytics/internal/store"
	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// Reports a shop may export.
const (
	ReportSales       = "sales"
	ReportPerformance = "performance"
)

// Export statuses: pending until its job has written the whole file, then ready; failed when
// every attempt of the job failed.
const (
	ExportPending = "pending"
	ExportReady   = "ready"
	ExportFailed  = "failed"
)

// Export is a report written into a file by a River job, kept until ExpiresAt. Only the user
// who asked for it, and admins, may see it.
type Export struct {
	ID     uuid.UUID `json:"id"`
	ShopID uuid.UUID `json:"shop_id"`
	Report string    `json:"report" validate:"oneof=sales performance"`
	Format string    `json:"format" validate:"oneof=json csv xlsx pdf"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Status string    `json:"status" validate:"oneof=pending ready failed"`
	// Rows and SizeBytes are the file's, once it is ready.
	Rows      *int64     `json:"rows,omitempty"`
	SizeBytes *int64     `json:"size_bytes,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ReadyAt   *time.Time `json:"ready_at,omitempty"`
	ExpiresAt time.Time  `json:"expires_at"`
	// URL is where its status is read; DownloadURL where its file is, once it is ready.
	URL         string `json:"url"`
	DownloadURL string `json:"download_url,omitempty"`
}

// ExportInput asks for a report's export, whatever its size.
type ExportInput struct {
	Report string `json:"report" validate:"required,oneof=sales performance"`
	Format string `json:"format" validate:"required,oneof=json csv xlsx pdf"`
	From   string `json:"from,omitempty" validate:"omitempty,datetime=2006-01-02"`
	To     string `json:"to,omitempty" validate:"omitempty,datetime=2006-01-02"`
}

// ExportFile is a ready export's file.
type ExportFile struct {
	ContentType string
	Filename    string
	Content     []byte
}

// exportPath is an export's place in the API.
func exportPath(shopID, id uuid.UUID) string {
	return "/api/v1/shops/" + shopID.String() + "/reports/exports/" + id.String()
}

func exportOf(r store.AnalyticsExport) Export {
	e := Export{ID: r.ID, ShopID: r.ShopID, Report: r.Report, Format: r.Format, From: r.FromDay.Time.Format(time.DateOnly),
		To: r.ToDay.Time.Format(time.DateOnly), Status: r.Status, Rows: r.RowCount, SizeBytes: r.SizeBytes,
		CreatedAt: r.CreatedAt.UTC(), ReadyAt: r.ReadyAt, ExpiresAt: r.ExpiresAt.UTC(), URL: exportPath(r.ShopID, r.ID)}
	if e.ReadyAt != nil {
		e.ReadyAt = ptr(e.ReadyAt.UTC())
	}
	if r.Status == ExportReady {
		e.DownloadURL = e.URL + "/file"
	}
	return e
}

// SalesOf answers a shop's sales report, every row of it; or, when the range has more orders
// than the report answers at once (Config.InlineRows), the export that will hold them, started
// now (or the caller's same export still in progress).
func (s *Service) SalesOf(ctx context.Context, p auth.Principal, shopID uuid.UUID, r Range, format string) (SalesReport, *Export, error) {
	if err := s.authorize(ctx, p, shopID); err != nil {
		return SalesReport{}, nil, err
	}
	from, to := r.dates()
	n, err := s.readQ.CountSalesRows(ctx, store.CountSalesRowsParams{ShopID: shopID, FromDay: from, ToDay: to})
	if err != nil {
		return SalesReport{}, nil, fmt.Errorf("analytics sales count: %w", err)
	}
	if n > int64(s.cfg.InlineRows) {
		e, err := s.startExport(ctx, p, shopID, ReportSales, format, r)
		return SalesReport{}, &e, err
	}
	rep, err := s.sales(ctx, shopID, r, s.cfg.InlineRows)
	return rep, nil, err
}

// StartExport starts the export of a report, whatever its size: the shop's owner or an admin
// may; the caller's same export still in progress is answered instead of a second one.
func (s *Service) StartExport(ctx context.Context, p auth.Principal, shopID uuid.UUID, in ExportInput) (Export, error) {
	if err := s.authorize(ctx, p, shopID); err != nil {
		return Export{}, err
	}
	r, err := s.CheckRange(RangeInput{From: in.From, To: in.To}, time.Now())
	if err != nil {
		return Export{}, err
	}
	return s.startExport(ctx, p, shopID, in.Report, in.Format, r)
}

// startExport records the export and queues its job in one transaction, under the caller's
// lock, so that two requests at once cannot both pass the limit of exports in progress.
func (s *Service) startExport(ctx context.Context, p auth.Principal, shopID uuid.UUID, report, format string, r Range) (Export, error) {
	if s.jobs == nil || s.bus == nil {
		return Export{}, errors.New("analytics: exports need the job runner and the event bus")
	}
	from, to := r.dates()
	var out Export
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		if err := q.LockUser(ctx, "analytics.exports:"+p.UserID.String()); err != nil {
			return fmt.Errorf("analytics export lock: %w", err)
		}
		same, err := q.SamePendingExport(ctx, store.SamePendingExportParams{RequestedBy: p.UserID, ShopID: shopID,
			Report: report, Format: format, FromDay: from, ToDay: to})
		if err == nil {
			out = exportOf(same)
			return nil
		}
		if !pgdb.IsNoRows(err) {
			return fmt.Errorf("analytics export: %w", err)
		}
		n, err := q.PendingExports(ctx, p.UserID)
		if err != nil {
			return fmt.Errorf("analytics export count: %w", err)
		}
		if n >= int64(s.cfg.ExportsPerUser) {
			return &apperr.Error{Code: apperr.TooManyRequests, RetryAfter: 10 * time.Second,
				Message: fmt.Sprintf("at most %d exports in progress at once per user: wait for one to be ready", s.cfg.ExportsPerUser)}
		}
		row, err := q.InsertExport(ctx, store.InsertExportParams{ID: uuid.New(), ShopID: shopID, RequestedBy: p.UserID,
			Report: report, Format: format, FromDay: from, ToDay: to, ExpiresAt: time.Now().Add(s.cfg.ExportTTL)})
		if err != nil {
			return fmt.Errorf("analytics export insert: %w", err)
		}
		if err := s.jobs.InsertTx(ctx, tx, exportArgs{ExportID: row.ID}, &river.InsertOpts{MaxAttempts: exportAttempts}); err != nil {
			return err
		}
		out = exportOf(row)
		return nil
	})
	return out, err
}

// visibleExport is an export that p may see: the one who asked for it while they still own the
// shop, or an admin. Anyone else, like an expired export, is not found: an export's existence
// is nobody else's business.
func (s *Service) visibleExport(ctx context.Context, p auth.Principal, shopID, id uuid.UUID) (store.AnalyticsExport, error) {
	// On the primary: the one who just asked reads their own write.
	row, err := s.q.GetExport(ctx, store.GetExportParams{ID: id, ShopID: shopID})
	if pgdb.IsNoRows(err) {
		return row, apperr.NotFoundf("export")
	}
	if err != nil {
		return row, fmt.Errorf("analytics export get: %w", err)
	}
	if p.IsAdmin() {
		return row, nil
	}
	if row.RequestedBy != p.UserID {
		return row, apperr.NotFoundf("export")
	}
	if err := s.authorize(ctx, p, shopID); err != nil {
		if apperr.Is(err, apperr.Forbidden) {
			return row, apperr.NotFoundf("export")
		}
		return row, err
	}
	return row, nil
}

// ExportOf answers an export's status.
func (s *Service) ExportOf(ctx context.Context, p auth.Principal, shopID, id uuid.UUID) (Export, error) {
	row, err := s.visibleExport(ctx, p, shopID, id)
	if err != nil {
		return Export{}, err
	}
	return exportOf(row), nil
}

// FileOf answers a ready export's file; one still being written is a conflict to retry.
func (s *Service) FileOf(ctx context.Context, p auth.Principal, shopID, id uuid.UUID) (ExportFile, error) {
	row, err := s.visibleExport(ctx, p, shopID, id)
	if err != nil {
		return ExportFile{}, err
	}
	switch row.Status {
	case ExportPending:
		return ExportFile{}, &apperr.Error{Code: apperr.Conflict, RetryAfter: 5 * time.Second,
			Message: "the export is still being written: try again shortly"}
	case ExportFailed:
		return ExportFile{}, apperr.New(apperr.Conflict, "the export failed: ask for the report again")
	}
	f, err := s.q.ExportFile(ctx, id)
	if pgdb.IsNoRows(err) {
		return ExportFile{}, apperr.NotFoundf("export") // expired between the two reads
	}
	if err != nil {
		return ExportFile{}, fmt.Errorf("analytics export file: %w", err)
	}
	return ExportFile{ContentType: f.ContentType, Filename: f.Filename, Content: f.Content}, nil
}

// exportAttempts is how many times an export's job runs before the export is failed: a report
// that cannot be written five times over will not be the sixth.
const exportAttempts = 5

// exportTimeout bounds one run of an export's job: the largest report (a year of a busy shop)
// as a PDF takes well under it.
const exportTimeout = 10 * time.Minute

// exportBusyWait is how long an export's job waits when this process renders as many exports
// as it may (Config.ExportWorkers).
const exportBusyWait = 5 * time.Second

// exportArgs is the job that writes an export's file. It carries only the export's ID: the
// export's row says what to write, and no token or caller ever rides in a job.
type exportArgs struct {
	ExportID uuid.UUID `json:"export_id"`
}

// Kind implements river.JobArgs.
func (exportArgs) Kind() string { return "analytics_export" }

type exportWorker struct {
	river.WorkerDefaults[exportArgs]
	s *Service
}

// Timeout gives a large report the time it needs.
func (w *exportWorker) Timeout(*river.Job[exportArgs]) time.Duration { return exportTimeout }

// Work writes the export once; its last failed attempt marks the export failed, so that it no
// longer counts against the user's exports in progress.
func (w *exportWorker) Work(ctx context.Context, job *river.Job[exportArgs]) error {
	err := w.s.writeExport(ctx, job.Args.ExportID)
	if err != nil && job.Attempt >= job.MaxAttempts {
		if ferr := w.s.q.MarkExportFailed(context.WithoutCancel(ctx), job.Args.ExportID); ferr != nil {
			return fmt.Errorf("%w; and marking it failed: %w", err, ferr)
		}
	}
	return err
}

// writeExport renders the export's report and stores its file. The file, the status `ready`
// and the event that tells the requester are one transaction, taken under the export's row
// lock after rendering: a run that crashes leaves nothing, and of two runs the second finds the
// export ready and does nothing.
func (s *Service) writeExport(ctx context.Context, id uuid.UUID) error {
	row, err := s.q.ExportByID(ctx, id)
	if pgdb.IsNoRows(err) {
		return nil // expired and swept
	}
	if err != nil {
		return fmt.Errorf("analytics export read: %w", err)
	}
	if row.Status != ExportPending {
		return nil
	}
	select {
	case s.renders <- struct{}{}:
		defer func() { <-s.renders }()
	default:
		return river.JobSnooze(exportBusyWait)
	}
	file, rows, err := s.render(ctx, row)
	if err != nil {
		return err
	}
	return pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		cur, err := q.LockExport(ctx, id)
		if pgdb.IsNoRows(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("analytics export lock: %w", err)
		}
		if cur.Status != ExportPending {
			return nil
		}
		if err := q.InsertExportFile(ctx, store.InsertExportFileParams{ExportID: id, ContentType: file.ContentType,
			Filename: file.Filename, Content: file.Content}); err != nil {
			return fmt.Errorf("analytics export file: %w", err)
		}
		if err := q.MarkExportReady(ctx, store.MarkExportReadyParams{ID: id, RowCount: ptr(rows),
			SizeBytes: ptr(int64(len(file.Content))), ExpiresAt: time.Now().Add(s.cfg.ExportTTL)}); err != nil {
			return fmt.Errorf("analytics export ready: %w", err)
		}
		return s.bus.Publish(ctx, tx, events.AnalyticsExportReady{ExportID: id.String(), ShopID: row.ShopID.String(),
			UserID: row.RequestedBy.String(), Report: row.Report, Format: row.Format, Rows: rows,
			URL: exportPath(row.ShopID, id) + "/file", At: time.Now().UTC()})
	})
}

// render writes an export's report in its format and counts its rows.
func (s *Service) render(ctx context.Context, row store.AnalyticsExport) (ExportFile, int64, error) {
	r := Range{From: row.FromDay.Time, To: row.ToDay.Time, Granularity: ByDay}
	var (
		table Table
		whole any
		rows  int64
	)
	switch row.Report {
	case ReportSales:
		rep, err := s.sales(ctx, row.ShopID, r, math.MaxInt)
		if err != nil {
			return ExportFile{}, 0, err
		}
		table, whole, rows = SalesTable(rep), rep, int64(len(rep.Rows))
	case ReportPerformance:
		rep, err := s.performance(ctx, row.ShopID, r)
		if err != nil {
			return ExportFile{}, 0, err
		}
		table, whole = PerformanceTable(rep), rep
		rows = int64(len(table.Rows))
	default:
		return ExportFile{}, 0, river.JobCancel(fmt.Errorf("analytics export %s: no report %q", row.ID, row.Report))
	}
	f := ExportFile{Filename: row.Report + "-" + row.FromDay.Time.Format(time.DateOnly) + "-" +
		row.ToDay.Time.Format(time.DateOnly) + "." + row.Format}
	var err error
	if row.Format == FormatJSON {
		f.ContentType = "application/json"
		f.Content, err = json.Marshal(whole)
	} else {
		f.ContentType = mediaTypes[row.Format]
		f.Content, err = table.Write(row.Format)
	}
	if err != nil {
		return ExportFile{}, 0, fmt.Errorf("analytics export %s: %w", row.ID, err)
	}
	return f, rows, nil
}

// SweepExports deletes the exports past their time, with their files, and answers how many.
func (s *Service) SweepExports(ctx context.Context) (int64, error) {
	n, err := s.q.DeleteExpiredExports(ctx)
	if err != nil {
		return 0, fmt.Errorf("analytics export sweep: %w", err)
	}
	return n, nil
}

// exportSweepEvery is how often expired exports are deleted: an export outlives its time by at
// most this, and never shows meanwhile (every read skips it).
const exportSweepEvery = 15 * time.Minute

type exportSweepArgs struct{}

// Kind implements river.JobArgs.
func (exportSweepArgs) Kind() string { return "analytics_export_sweep" }

// exportSweepWorker deletes expired exports; running it twice deletes nothing more.
type exportSweepWorker struct {
	river.WorkerDefaults[exportSweepArgs]
	s *Service
}

func (w *exportSweepWorker) Work(ctx context.Context, _ *river.Job[exportSweepArgs]) error {
	_, err := w.s.SweepExports(ctx)
	return err
}
