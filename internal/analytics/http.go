package analytics

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
)

// Handler serves the analytics routes.
type Handler struct {
	svc   *Service
	authn *auth.Authenticator
}

// NewHandler returns the analytics HTTP handler.
func NewHandler(svc *Service, authn *auth.Authenticator) *Handler {
	return &Handler{svc: svc, authn: authn}
}

// Report file formats (?format=) and their media types.
const (
	FormatJSON = "json"
	FormatCSV  = "csv"
	FormatXLSX = "xlsx"
	FormatPDF  = "pdf"
)

var mediaTypes = map[string]string{
	FormatCSV:  "text/csv; charset=utf-8",
	FormatXLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	FormatPDF:  "application/pdf",
}

// fileTypes are the media types of the report files, for the document.
var fileTypes = []string{mediaTypes[FormatCSV], mediaTypes[FormatXLSX], mediaTypes[FormatPDF]}

// Routes mounts the shop analytics and report routes under /shops/{id}.
func (h *Handler) Routes(r chi.Router) {
	const ok = http.StatusOK
	r.Group(func(r chi.Router) {
		r.Use(h.authn.Required)
		r.Method(http.MethodGet, "/shops/{id}/analytics/revenue", httpx.WithID(ok, "id", "shop", h.revenue).
			Doc("A shop's revenue (gross, discounts, refunds, commission, net) by day, week or month, beside the period before").
			For(httpx.ShopOwner).Params(rangeQuery{}).Can(apperr.Forbidden))
		r.Method(http.MethodGet, "/shops/{id}/analytics/orders", httpx.WithID(ok, "id", "shop", h.orders).
			Doc("A shop's orders by status, average order value, cancellation and return rates, beside the period before").
			For(httpx.ShopOwner).Params(rangeQuery{}).Can(apperr.Forbidden))
		r.Method(http.MethodGet, "/shops/{id}/analytics/products", httpx.WithID(ok, "id", "shop", h.products).
			Doc("A shop's best sellers by units and revenue, their views and conversion, and its low-stock variants").
			For(httpx.ShopOwner).Params(productsQuery{}).Can(apperr.Forbidden))
		r.Method(http.MethodGet, "/shops/{id}/reports/sales", httpx.Documented[httpx.Empty, SalesReport](ok, h.salesReport).
			ID("id", "shop").Doc("A shop's sales report: the orders placed in a range line by line; ?format=csv, xlsx or pdf gives a file; "+
			"past ANALYTICS_EXPORT_INLINE_ROWS orders, 202 with the export that will hold them").
			For(httpx.ShopOwner).Params(reportQuery{}).AlsoAnswers(fileTypes...).Or(http.StatusAccepted, Export{}).
			Can(apperr.Forbidden, apperr.TooManyRequests))
		r.Method(http.MethodGet, "/shops/{id}/reports/performance", httpx.Documented[httpx.Empty, PerformanceReport](ok, h.performanceReport).
			ID("id", "shop").Doc("A shop's performance report: times to confirm and ship, on-time delivery, returns, rating; ?format=csv, xlsx or pdf gives a file").
			For(httpx.ShopOwner).Params(reportQuery{}).AlsoAnswers(fileTypes...).Can(apperr.Forbidden))
		r.Method(http.MethodPost, "/shops/{id}/reports/exports", httpx.WithIDBody(http.StatusAccepted, "id", "shop", h.startExport).
			Doc("Export a shop's report, whatever its size, into a file written by a job; the answer says where to follow it").
			For(httpx.ShopOwner).Can(apperr.Forbidden, apperr.TooManyRequests))
		r.Method(http.MethodGet, "/shops/{id}/reports/exports/{export_id}", httpx.WithID(ok, "id", "shop", h.export).
			ID("export_id", "export").Doc("An export's status, and its download link once it is ready (only for who asked, and admins)").
			For(httpx.ShopOwner))
		r.Method(http.MethodGet, "/shops/{id}/reports/exports/{export_id}/file", httpx.Documented[httpx.Empty, json.RawMessage](ok, h.exportFile).
			ID("id", "shop").ID("export_id", "export").Doc("Download a ready export's file, in its format (409 while it is being written)").
			For(httpx.ShopOwner).AlsoAnswers(fileTypes...).Can(apperr.Conflict))
	})
}

// rangeQuery names a date range and how to cut it.
type rangeQuery struct {
	From        string `query:"from" validate:"omitempty,datetime=2006-01-02" doc:"first day, YYYY-MM-DD in the marketplace's time zone (default 29 days before to)"`
	To          string `query:"to" validate:"omitempty,datetime=2006-01-02" doc:"last day, included (default today); at most 366 days after from"`
	Granularity string `query:"granularity" validate:"omitempty,oneof=day week month" doc:"how the series is cut: day (default), week (from Monday) or month"`
}

func (q rangeQuery) input() RangeInput {
	return RangeInput{From: q.From, To: q.To, Granularity: q.Granularity}
}

// productsQuery is a range and how many best sellers to list.
type productsQuery struct {
	rangeQuery
	Limit int `query:"limit" validate:"omitempty,min=1,max=100" doc:"how many best sellers and low-stock variants to list (default 10)"`
}

// reportQuery is a range and the answer's format.
type reportQuery struct {
	rangeQuery
	Format string `query:"format" validate:"omitempty,oneof=json csv xlsx pdf" doc:"json (default), csv (UTF-8 with a byte-order mark, for spreadsheets), xlsx or pdf"`
}

func (h *Handler) rangeOf(q rangeQuery) (Range, error) {
	return h.svc.CheckRange(q.input(), time.Now())
}

func (h *Handler) revenue(r *http.Request, id uuid.UUID) (Comparison[Money], error) {
	q, err := httpx.QueryOf[rangeQuery](r)
	if err != nil {
		return Comparison[Money]{}, err
	}
	rg, err := h.rangeOf(q)
	if err != nil {
		return Comparison[Money]{}, err
	}
	return h.svc.Revenue(r.Context(), auth.Of(r), id, rg)
}

func (h *Handler) orders(r *http.Request, id uuid.UUID) (Comparison[OrderStats], error) {
	q, err := httpx.QueryOf[rangeQuery](r)
	if err != nil {
		return Comparison[OrderStats]{}, err
	}
	rg, err := h.rangeOf(q)
	if err != nil {
		return Comparison[OrderStats]{}, err
	}
	return h.svc.Orders(r.Context(), auth.Of(r), id, rg)
}

func (h *Handler) products(r *http.Request, id uuid.UUID) (Products, error) {
	q, err := httpx.QueryOf[productsQuery](r)
	if err != nil {
		return Products{}, err
	}
	rg, err := h.rangeOf(q.rangeQuery)
	if err != nil {
		return Products{}, err
	}
	limit := q.Limit
	if limit == 0 {
		limit = 10
	}
	return h.svc.ProductsOf(r.Context(), auth.Of(r), id, rg, limit)
}

// report reads a report route's shop, range and format.
func (h *Handler) report(r *http.Request) (uuid.UUID, Range, string, error) {
	id, err := httpx.UUIDParam(r, "id", "shop")
	if err != nil {
		return uuid.Nil, Range{}, "", err
	}
	q, err := httpx.QueryOf[reportQuery](r)
	if err != nil {
		return uuid.Nil, Range{}, "", err
	}
	rg, err := h.rangeOf(q.rangeQuery)
	if q.Format == "" {
		q.Format = FormatJSON
	}
	return id, rg, q.Format, err
}

func (h *Handler) salesReport(w http.ResponseWriter, r *http.Request) {
	id, rg, format, err := h.report(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	rep, exp, err := h.svc.SalesOf(r.Context(), auth.Of(r), id, rg, format)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	if exp != nil {
		w.Header().Set("Location", exp.URL)
		httpx.JSON(w, http.StatusAccepted, exp)
		return
	}
	if format == FormatJSON {
		httpx.JSON(w, http.StatusOK, rep)
		return
	}
	file(w, r, "sales", rep.From, rep.To, format, SalesTable(rep))
}

func (h *Handler) performanceReport(w http.ResponseWriter, r *http.Request) {
	id, rg, format, err := h.report(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	rep, err := h.svc.PerformanceOf(r.Context(), auth.Of(r), id, rg)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	if format == FormatJSON {
		httpx.JSON(w, http.StatusOK, rep)
		return
	}
	file(w, r, "performance", rep.Current.From, rep.Current.To, format, PerformanceTable(rep))
}

// file writes a report's table as a download in format.
func file(w http.ResponseWriter, r *http.Request, name, from, to, format string, t Table) {
	body, err := t.Write(format)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", mediaTypes[format])
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+"-"+from+"-"+to+"."+format+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func (h *Handler) startExport(r *http.Request, id uuid.UUID, in ExportInput) (Export, error) {
	return h.svc.StartExport(r.Context(), auth.Of(r), id, in)
}

func (h *Handler) export(r *http.Request, id uuid.UUID) (Export, error) {
	exportID, err := httpx.UUIDParam(r, "export_id", "export")
	if err != nil {
		return Export{}, err
	}
	return h.svc.ExportOf(r.Context(), auth.Of(r), id, exportID)
}

// exportFile writes a ready export's file as a download; it is private to who asked, so no
// shared cache may keep it.
func (h *Handler) exportFile(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.UUIDParam(r, "id", "shop")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	exportID, err := httpx.UUIDParam(r, "export_id", "export")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	f, err := h.svc.FileOf(r.Context(), auth.Of(r), id, exportID)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", f.ContentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+f.Filename+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(f.Content)))
	w.Header().Set("Cache-Control", "private, no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(f.Content)
}
