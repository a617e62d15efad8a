package shop

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/shop/internal/store"
)

// Campaign statuses: draft -> scheduled -> active -> ended, and cancelled from draft or
// scheduled. Time moves scheduled to active and active to ended; the owner may too.
const (
	CampaignDraft     = "draft"
	CampaignScheduled = "scheduled"
	CampaignActive    = "active"
	CampaignEnded     = "ended"
	CampaignCancelled = "cancelled"
)

// campaignMoves lists the moves an owner may make.
var campaignMoves = map[string][]string{
	CampaignDraft:     {CampaignScheduled, CampaignCancelled},
	CampaignScheduled: {CampaignActive, CampaignCancelled},
	CampaignActive:    {CampaignEnded},
}

// VariantRef is what campaigns need to know of a catalog variant.
type VariantRef struct {
	ProductID uuid.UUID
	ShopID    uuid.UUID
	Price     int64 // the regular price, before any sale
}

// Campaign is a time-boxed sale with campaign prices and limited campaign stock.
type Campaign struct {
	ID          uuid.UUID      `json:"id"`
	ShopID      uuid.UUID      `json:"shop_id"`
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Kind        string         `json:"kind"`
	Status      string         `json:"status"`
	StartsAt    time.Time      `json:"starts_at"`
	EndsAt      time.Time      `json:"ends_at"`
	Currency    string         `json:"currency"`
	Items       []CampaignItem `json:"items"`
	CreatedAt   time.Time      `json:"created_at"`
	UpdatedAt   time.Time      `json:"updated_at"`
}

// CampaignItem is one variant on sale in a campaign.
type CampaignItem struct {
	VariantID     uuid.UUID `json:"variant_id"`
	ProductID     uuid.UUID `json:"product_id"`
	CampaignPrice int64     `json:"campaign_price"`
	RegularPrice  int64     `json:"regular_price"`
	CampaignStock int32     `json:"campaign_stock"`
	Sold          int32     `json:"sold"`
	Remaining     int32     `json:"remaining"`
}

// CampaignInput creates a campaign (as a draft).
type CampaignInput struct {
	Name        string              `json:"name" validate:"required,max=120"`
	Description string              `json:"description" validate:"max=2000"`
	Kind        string              `json:"kind" validate:"omitempty,oneof=flash_sale seasonal clearance"`
	StartsAt    time.Time           `json:"starts_at" validate:"required"`
	EndsAt      time.Time           `json:"ends_at" validate:"required"`
	Items       []CampaignItemInput `json:"items" validate:"required,min=1,max=200,dive"`
}

// CampaignItemInput puts one variant on sale.
type CampaignItemInput struct {
	VariantID     uuid.UUID `json:"variant_id" validate:"required"`
	CampaignPrice int64     `json:"campaign_price" validate:"required,gt=0"`
	CampaignStock int32     `json:"campaign_stock" validate:"required,gt=0,max=1000000"`
}

// CreateCampaign makes a draft campaign in a shop the caller manages. Each variant must belong
// to the shop and be cheaper in the campaign than its regular price.
func (s *Service) CreateCampaign(ctx context.Context, p auth.Principal, shopID uuid.UUID, in CampaignInput) (Campaign, error) {
	in.Name = strings.TrimSpace(in.Name)
	if in.Kind == "" {
		in.Kind = "flash_sale"
	}
	switch {
	case in.Name == "":
		return Campaign{}, apperr.Field("name", "is required")
	case !in.EndsAt.After(in.StartsAt):
		return Campaign{}, apperr.Field("ends_at", "must be after starts_at")
	case !in.EndsAt.After(time.Now()):
		return Campaign{}, apperr.Field("ends_at", "must be in the future")
	}
	refs := make([]VariantRef, len(in.Items))
	seen := map[uuid.UUID]bool{}
	for i, it := range in.Items {
		field := fmt.Sprintf("items[%d]", i)
		if seen[it.VariantID] {
			return Campaign{}, apperr.Field(field+".variant_id", "appears twice")
		}
		seen[it.VariantID] = true
		ref, err := s.products.VariantOf(ctx, it.VariantID)
		if apperr.Is(err, apperr.NotFound) || (err == nil && ref.ShopID != shopID) {
			return Campaign{}, apperr.Field(field+".variant_id", "is not a product variant of this shop")
		}
		if err != nil {
			return Campaign{}, err
		}
		if it.CampaignPrice >= ref.Price {
			return Campaign{}, apperr.Field(field+".campaign_price", "must be below the regular price "+formatVND(ref.Price))
		}
		refs[i] = ref
	}
	var c store.ShopCampaign
	var items []store.ShopCampaignItem
	err := s.managed(ctx, p, shopID, "create its campaigns", func(q *store.Queries, _ pgx.Tx) error {
		var err error
		c, err = q.CreateCampaign(ctx, store.CreateCampaignParams{ShopID: shopID, Name: in.Name, Description: strings.TrimSpace(in.Description),
			Kind: in.Kind, StartsAt: in.StartsAt, EndsAt: in.EndsAt})
		if err != nil {
			return err
		}
		for i, it := range in.Items {
			row, err := q.AddCampaignItem(ctx, store.AddCampaignItemParams{CampaignID: c.ID, VariantID: it.VariantID,
				ProductID: refs[i].ProductID, CampaignPrice: it.CampaignPrice, RegularPrice: refs[i].Price, CampaignStock: it.CampaignStock})
			if err != nil {
				return err
			}
			items = append(items, row)
		}
		return nil
	})
	if err != nil {
		return Campaign{}, err
	}
	return toCampaign(c, items), nil
}

// Campaigns lists a shop's campaigns: all of them for its managers, scheduled and active ones
// for buyers.
func (s *Service) Campaigns(ctx context.Context, p *auth.Principal, shopID uuid.UUID, page httpx.Page) (httpx.List[Campaign], error) {
	manager, err := s.isManager(ctx, p, shopID)
	if err != nil {
		return httpx.List[Campaign]{}, err
	}
	cur, has, err := httpx.KeysetOf(page)
	if err != nil {
		return httpx.List[Campaign]{}, err
	}
	rows, err := s.q.ListCampaigns(ctx, store.ListCampaignsParams{ShopID: shopID, OnlyPublic: !manager, HasCursor: has,
		BeforeStarts: cur.At, BeforeID: cur.ID, Lim: int32(page.Limit + 1)})
	if err != nil {
		return httpx.List[Campaign]{}, err
	}
	out := make([]Campaign, len(rows))
	for i, r := range rows {
		items, err := s.q.CampaignItems(ctx, r.ID)
		if err != nil {
			return httpx.List[Campaign]{}, err
		}
		out[i] = toCampaign(r, items)
	}
	return httpx.Paginate(out, page.Limit, func(c Campaign) any { return httpx.Keyset{At: c.StartsAt, ID: c.ID} }), nil
}

// SetCampaignStatus makes an owner's move. Scheduling queues River jobs that start and end the
// campaign on time; activating a scheduled campaign starts it now; ending stops it now.
func (s *Service) SetCampaignStatus(ctx context.Context, p auth.Principal, shopID, id uuid.UUID, to string) (Campaign, error) {
	var c store.ShopCampaign
	err := s.managed(ctx, p, shopID, "change its campaigns", func(q *store.Queries, tx pgx.Tx) error {
		cur, err := q.LockCampaign(ctx, id)
		if pgdb.IsNoRows(err) || (err == nil && cur.ShopID != shopID) {
			return apperr.NotFoundf("campaign")
		}
		if err != nil {
			return err
		}
		if !allowed(cur.Status, to) {
			return apperr.New(apperr.Conflict, "a %s campaign cannot become %s", cur.Status, to)
		}
		now := time.Now()
		if to == CampaignScheduled || to == CampaignActive {
			if !cur.EndsAt.After(now) {
				return apperr.New(apperr.Conflict, "the campaign's end has passed")
			}
			items, err := q.CampaignItems(ctx, id)
			if err != nil {
				return err
			}
			vids := make([]uuid.UUID, len(items))
			for i, it := range items {
				vids[i] = it.VariantID
			}
			n, err := q.OverlappingCampaignItems(ctx, store.OverlappingCampaignItemsParams{VariantIds: vids, CampaignID: id,
				StartsAt: cur.StartsAt, EndsAt: cur.EndsAt})
			if err != nil {
				return err
			}
			if n > 0 {
				return apperr.New(apperr.Conflict, "a variant of this campaign is already in another campaign at that time")
			}
		}
		// Scheduling a campaign whose start has come starts it at once.
		if to == CampaignScheduled && !now.Before(cur.StartsAt) {
			to = CampaignActive
		}
		c, err = s.moveCampaign(ctx, tx, q, cur, to)
		if err != nil {
			return err
		}
		if cur.Status == CampaignDraft {
			return s.scheduleTransitions(ctx, tx, c)
		}
		return nil
	})
	if err != nil {
		return Campaign{}, err
	}
	items, err := s.q.CampaignItems(ctx, c.ID)
	if err != nil {
		return Campaign{}, err
	}
	return toCampaign(c, items), nil
}

func allowed(from, to string) bool {
	for _, m := range campaignMoves[from] {
		if m == to {
			return true
		}
	}
	return false
}

func (s *Service) moveCampaign(ctx context.Context, tx pgx.Tx, q *store.Queries, cur store.ShopCampaign, to string) (store.ShopCampaign, error) {
	c, err := q.SetCampaignStatus(ctx, store.SetCampaignStatusParams{ID: cur.ID, Status: to})
	if err != nil {
		return c, err
	}
	items, err := q.CampaignItems(ctx, c.ID)
	if err != nil {
		return c, err
	}
	evItems := make([]events.CampaignItem, len(items))
	for i, it := range items {
		evItems[i] = events.CampaignItem{ProductID: it.ProductID.String(), VariantID: it.VariantID.String(),
			Price: it.CampaignPrice, Stock: int(it.CampaignStock), Sold: int(it.Sold)}
	}
	return c, s.bus.Publish(ctx, tx, events.CampaignStatusChanged{CampaignID: c.ID.String(), ShopID: c.ShopID.String(),
		From: cur.Status, To: to, Items: evItems, At: time.Now().UTC()})
}

// scheduleTransitions queues the start and the end of a campaign in the same transaction that
// schedules it.
func (s *Service) scheduleTransitions(ctx context.Context, tx pgx.Tx, c store.ShopCampaign) error {
	if err := s.jobs.InsertTx(ctx, tx, campaignTransitionArgs{CampaignID: c.ID, To: CampaignActive},
		&river.InsertOpts{ScheduledAt: c.StartsAt}); err != nil {
		return err
	}
	return s.jobs.InsertTx(ctx, tx, campaignTransitionArgs{CampaignID: c.ID, To: CampaignEnded},
		&river.InsertOpts{ScheduledAt: c.EndsAt})
}

// campaignTransitionArgs moves a campaign when its time comes.
type campaignTransitionArgs struct {
	CampaignID uuid.UUID `json:"campaign_id"`
	To         string    `json:"to"`
}

func (campaignTransitionArgs) Kind() string { return "shop_campaign_transition" }

type campaignTransitionWorker struct {
	river.WorkerDefaults[campaignTransitionArgs]
	svc *Service
}

// Work is idempotent: a campaign already moved (by its owner, or by an earlier attempt) or
// whose time has not come (it is rescheduled) is left alone.
func (w *campaignTransitionWorker) Work(ctx context.Context, job *river.Job[campaignTransitionArgs]) error {
	s := w.svc
	return pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		cur, err := q.LockCampaign(ctx, job.Args.CampaignID)
		if pgdb.IsNoRows(err) {
			return nil
		}
		if err != nil {
			return err
		}
		// A job a hair early (clocks, rounding) moves the campaign anyway: a snoozed job waits for
		// River's scheduler, which could let the end overtake the start.
		now := time.Now().Add(time.Second)
		switch {
		case job.Args.To == CampaignActive && cur.Status == CampaignScheduled:
			if now.Before(cur.StartsAt) {
				return river.JobSnooze(cur.StartsAt.Sub(now))
			}
		case job.Args.To == CampaignEnded && (cur.Status == CampaignActive || cur.Status == CampaignScheduled):
			if now.Before(cur.EndsAt) {
				return river.JobSnooze(cur.EndsAt.Sub(now))
			}
		default:
			return nil
		}
		_, err = s.moveCampaign(ctx, tx, q, cur, job.Args.To)
		return err
	})
}

// CampaignOffer is a variant's campaign price while its campaign runs.
type CampaignOffer struct {
	CampaignID uuid.UUID
	Price      int64
	Remaining  int32
	EndsAt     time.Time
}

// CampaignOffer returns the running campaign offer for a variant, if any (ok false otherwise).
// The cart prices lines with it.
// tx may be nil (the pool); checkout passes its transaction so it never needs a second connection.
func (s *Service) CampaignOffer(ctx context.Context, tx pgx.Tx, variantID uuid.UUID) (CampaignOffer, bool, error) {
	row, err := s.queries(tx).ActiveCampaignItem(ctx, variantID)
	if pgdb.IsNoRows(err) {
		return CampaignOffer{}, false, nil
	}
	if err != nil {
		return CampaignOffer{}, false, err
	}
	left := row.CampaignStock - row.Sold
	if left <= 0 {
		return CampaignOffer{}, false, nil
	}
	return CampaignOffer{CampaignID: row.CampaignID, Price: row.CampaignPrice, Remaining: left, EndsAt: row.EndsAt}, true, nil
}

// ReturnCampaignStockTx gives campaign stock back when an order is cancelled.
func (s *Service) ReturnCampaignStockTx(ctx context.Context, tx pgx.Tx, campaignID, variantID uuid.UUID, qty int32) error {
	return newStore(tx).ReturnCampaignStock(ctx, store.ReturnCampaignStockParams{Qty: qty, CampaignID: campaignID, VariantID: variantID})
}

func toCampaign(c store.ShopCampaign, items []store.ShopCampaignItem) Campaign {
	out := Campaign{ID: c.ID, ShopID: c.ShopID, Name: c.Name, Description: c.Description, Kind: c.Kind, Status: c.Status,
		StartsAt: c.StartsAt.UTC(), EndsAt: c.EndsAt.UTC(), Currency: c.Currency, CreatedAt: c.CreatedAt.UTC(),
		UpdatedAt: c.UpdatedAt.UTC(), Items: make([]CampaignItem, len(items))}
	for i, it := range items {
		out.Items[i] = CampaignItem{VariantID: it.VariantID, ProductID: it.ProductID, CampaignPrice: it.CampaignPrice,
			RegularPrice: it.RegularPrice, CampaignStock: it.CampaignStock, Sold: it.Sold, Remaining: it.CampaignStock - it.Sold}
	}
	return out
}

// LiveCampaignPrices returns, for those of the variants in a running campaign with stock left,
// the campaign price (the lowest when several run): what search takes as their price now.
func (s *Service) LiveCampaignPrices(ctx context.Context, variantIDs []uuid.UUID) (map[uuid.UUID]int64, error) {
	rows, err := s.q.LiveCampaignPrices(ctx, variantIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]int64, len(rows))
	for _, r := range rows {
		out[r.VariantID] = r.CampaignPrice
	}
	return out, nil
}
