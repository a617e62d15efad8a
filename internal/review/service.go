package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/eventbus"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/review/internal/store"
)

// Service holds the rules of the review context.
type Service struct {
	pool *pgxpool.Pool
	q    *store.Queries
	// readQ runs the public reads that tolerate a little lag (an anonymous visitor's review
	// pages, the rating distribution, sentiment and a shop's public summary): a read replica when
	// one is configured (UseReads). A signed-in reader stays on the primary and so sees their own
	// review at once, as do the jobs that copy ratings.
	readQ     *store.Queries
	bus       *eventbus.Bus
	purchases Purchases
	shops     Shops
	media     Gallery
	cfg       Config
}

// NewService builds the review service: purchases answers what a buyer had delivered (the order
// context), shops who owns a shop.
func NewService(pool *pgxpool.Pool, bus *eventbus.Bus, purchases Purchases, shops Shops, cfg Config) *Service {
	return &Service{pool: pool, q: newStore(pool), readQ: newStore(pool), bus: bus, purchases: purchases, shops: shops, cfg: cfg}
}

// UseReads sends the public reads to db, a pgdb.Reads over a replica.
func (s *Service) UseReads(db pgdb.DBTX) { s.readQ = store.New(readOnly{pgdb.Named("review", db)}) }

// readOnly is the public reads' store connection: reads only, so no bulk copy.
type readOnly struct{ pgdb.DBTX }

func (readOnly) CopyFrom(context.Context, pgx.Identifier, []string, pgx.CopyFromSource) (int64, error) {
	return 0, errors.New("review: no bulk copy on the read pool")
}

// queriesFor is where p's reads go: an anonymous visitor's to the public reads, a signed-in
// reader's to the primary, where their own writes are.
func (s *Service) queriesFor(p *auth.Principal) *store.Queries {
	if p == nil {
		return s.readQ
	}
	return s.q
}

// SetMedia gives the reviews the media context, which keeps their photos and videos (nil:
// reviews show none).
func (s *Service) SetMedia(g Gallery) { s.media = g }

// MaxMedia is how many photos and videos a review may carry (REVIEW_MAX_MEDIA): with
// CanManageMedia it makes the Service the review kind's media guard.
func (s *Service) MaxMedia() int { return s.cfg.MaxMedia }

// Input is a review's rating and text.
type Input struct {
	Rating  int    `json:"rating" validate:"required,min=1,max=5"`
	Comment string `json:"comment" validate:"max=5000"`
}

// ProductInput reviews a product bought and delivered. The purchase is found from the product:
// the buyer's first delivered item of it not yet reviewed, or the one order_id or order_item_id
// names.
type ProductInput struct {
	Input
	OrderID     *uuid.UUID `json:"order_id,omitempty"`
	OrderItemID *uuid.UUID `json:"order_item_id,omitempty"`
}

// OrderInput reviews a shop for one of its delivered orders.
type OrderInput struct {
	Input
	OrderID uuid.UUID `json:"order_id" validate:"required"`
}

// targetShopProducts is the summary row of a shop's products taken together.
const targetShopProducts events.ReviewTarget = "shop_products"

var errNotBought = apperr.New(apperr.Forbidden, "only the buyer of a delivered order may review it")

// ReviewProduct writes the caller's review of a product delivered to them, once per order item.
func (s *Service) ReviewProduct(ctx context.Context, p auth.Principal, productID uuid.UUID, in ProductInput) (Review, error) {
	items, err := s.purchases.DeliveredItems(ctx, p.UserID, in.OrderID, &productID)
	if err != nil {
		return Review{}, err
	}
	var candidates []DeliveredItem
	for _, it := range items {
		if in.OrderItemID == nil || *in.OrderItemID == it.ItemID {
			candidates = append(candidates, it)
		}
	}
	if len(candidates) == 0 {
		return Review{}, apperr.New(apperr.Forbidden, "only a buyer to whom this product was delivered may review it")
	}
	for _, it := range candidates {
		r, err := s.create(ctx, p, events.ReviewOfProduct, productID, it, in.Input)
		if err == nil || !isConflict(err) {
			return r, err
		}
	}
	return Review{}, apperr.New(apperr.Conflict, "you have already reviewed this product for each delivery of it")
}

// ReviewShop writes the caller's review of a shop for one of its orders delivered to them, once
// per order.
func (s *Service) ReviewShop(ctx context.Context, p auth.Principal, shopID uuid.UUID, in OrderInput) (Review, error) {
	it, err := s.deliveredOrder(ctx, p, in.OrderID)
	if err != nil {
		return Review{}, err
	}
	if it.ShopID != shopID {
		return Review{}, apperr.New(apperr.Forbidden, "that order is not of this shop")
	}
	return s.create(ctx, p, events.ReviewOfShop, shopID, it, in.Input)
}

// ReviewDelivery writes the caller's review of the shipper who delivered their order, once per order.
func (s *Service) ReviewDelivery(ctx context.Context, p auth.Principal, orderID uuid.UUID, in Input) (Review, error) {
	it, err := s.deliveredOrder(ctx, p, orderID)
	if err != nil {
		return Review{}, err
	}
	if it.ShipperID == nil {
		return Review{}, apperr.New(apperr.Conflict, "the shop delivered this order itself: there is no shipper to rate")
	}
	return s.create(ctx, p, events.ReviewOfDelivery, *it.ShipperID, it, in)
}

func (s *Service) deliveredOrder(ctx context.Context, p auth.Principal, orderID uuid.UUID) (DeliveredItem, error) {
	items, err := s.purchases.DeliveredItems(ctx, p.UserID, &orderID, nil)
	if err != nil {
		return DeliveredItem{}, err
	}
	if len(items) == 0 {
		return DeliveredItem{}, errNotBought
	}
	return items[0], nil
}

// written is what the rules make of a review's text when it is written or edited.
type written struct {
	comment string
	flags   []string
	status  string
	sent    Sentiment
	aspects []byte
}

// readText trims a review's text, runs the moderation rules (flagged: held for a moderator)
// and reads its sentiment.
func readText(text string) written {
	w := written{comment: strings.TrimSpace(text), status: StatusApproved}
	w.flags = moderate(w.comment)
	if len(w.flags) > 0 {
		w.status = StatusPending
	}
	w.sent = analyze(w.comment)
	w.aspects, _ = json.Marshal(w.sent.Aspects)
	return w
}

// required trims a text field that must not be blank.
func required(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", apperr.Field(field, "is required")
	}
	return v, nil
}

func isConflict(err error) bool { return apperr.Is(err, apperr.Conflict) }

func isNotFound(err error) bool { return apperr.Is(err, apperr.NotFound) }

// create inserts a review, published at once unless the rules flag it, and counts it.
func (s *Service) create(ctx context.Context, p auth.Principal, target events.ReviewTarget, targetID uuid.UUID, it DeliveredItem, in Input) (Review, error) {
	w := readText(in.Comment)
	params := store.CreateReviewParams{Target: string(target), TargetID: targetID, AuthorID: p.UserID, OrderID: it.OrderID,
		ShopID: it.ShopID, DeliveredAt: it.DeliveredAt, Rating: int16(in.Rating), Comment: w.comment, Status: w.status, Flags: w.flags,
		SentimentScore: float32(w.sent.Score), SentimentLabel: w.sent.Label, Aspects: w.aspects}
	if target == events.ReviewOfProduct {
		params.OrderItemID, params.ProductID, params.VariantID, params.VariantName = &it.ItemID, &it.ProductID, &it.VariantID, it.VariantName
	}
	if target == events.ReviewOfDelivery {
		params.ShipperID = it.ShipperID
	}
	var row store.ReviewReview
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		var err error
		row, err = q.CreateReview(ctx, params)
		if pgdb.IsNoRows(err) {
			return apperr.New(apperr.Conflict, "this purchase already has your review")
		}
		if err != nil {
			return err
		}
		if err := s.setAspects(ctx, q, row.ID, w.sent.Aspects); err != nil {
			return err
		}
		if row, err = s.recount(ctx, tx, q, row); err != nil {
			return err
		}
		return s.bus.Publish(ctx, tx, events.ReviewCreated{ReviewID: row.ID.String(), Target: target, TargetID: targetID.String(),
			AuthorID: p.UserID.String(), ShopID: row.ShopID.String(), Rating: in.Rating, Status: row.Status, At: row.CreatedAt})
	})
	if err != nil {
		return Review{}, err
	}
	return s.toReview(row, &p), nil
}

func (s *Service) setAspects(ctx context.Context, q *store.Queries, id uuid.UUID, aspects map[string]float64) error {
	if err := q.ClearAspects(ctx, id); err != nil {
		return err
	}
	if len(aspects) == 0 {
		return nil
	}
	names := make([]string, 0, len(aspects))
	for a := range aspects {
		names = append(names, a)
	}
	sort.Strings(names)
	scores := make([]float64, len(names))
	for i, a := range names {
		scores[i] = aspects[a]
	}
	return q.AddAspects(ctx, store.AddAspectsParams{ReviewID: id, Aspects: names, Scores: scores})
}

// recount moves the review's summary row by the difference between what it holds for the review
// and what it should (the rating of a published, live review; nothing otherwise), in the
// caller's transaction, and publishes the target's new rating. A review that holds what it
// should changes nothing.
func (s *Service) recount(ctx context.Context, tx pgx.Tx, q *store.Queries, row store.ReviewReview) (store.ReviewReview, error) {
	var want *int16
	if row.Status == StatusApproved && row.DeletedAt == nil {
		r := row.Rating
		want = &r
	}
	if (want == nil) == (row.CountedRating == nil) && (want == nil || *want == *row.CountedRating) {
		return row, nil
	}
	var d [6]int32
	if row.CountedRating != nil {
		d[*row.CountedRating]--
	}
	if want != nil {
		d[*want]++
	}
	sum, err := q.AdjustSummary(ctx, store.AdjustSummaryParams{Target: row.Target, TargetID: row.TargetID,
		D1: d[1], D2: d[2], D3: d[3], D4: d[4], D5: d[5]})
	if err != nil {
		return row, err
	}
	if err := q.SetCounted(ctx, store.SetCountedParams{ID: row.ID, CountedRating: want}); err != nil {
		return row, err
	}
	row.CountedRating = want
	if events.ReviewTarget(row.Target) == events.ReviewOfProduct {
		if _, err := q.AdjustSummary(ctx, store.AdjustSummaryParams{Target: string(targetShopProducts), TargetID: row.ShopID,
			D1: d[1], D2: d[2], D3: d[3], D4: d[4], D5: d[5]}); err != nil {
			return row, err
		}
	}
	r := toRating(sum)
	switch events.ReviewTarget(row.Target) {
	case events.ReviewOfProduct:
		return row, s.bus.Publish(ctx, tx, events.ProductRatingChanged{ProductID: row.TargetID.String(), ShopID: row.ShopID.String(),
			Rating: r.Average, ReviewCount: r.Count, Version: r.Version, At: sum.UpdatedAt})
	case events.ReviewOfShop:
		return row, s.bus.Publish(ctx, tx, events.ShopRatingChanged{ShopID: row.TargetID.String(), Rating: r.Average,
			ReviewCount: r.Count, Version: r.Version, At: sum.UpdatedAt})
	}
	return row, nil
}

// Edit changes the caller's review within the edit window; the new text goes through the
// moderation rules again, so an edited review may wait for a moderator.
func (s *Service) Edit(ctx context.Context, p auth.Principal, id uuid.UUID, in Input) (Review, error) {
	w := readText(in.Comment)
	var row store.ReviewReview
	err := s.locked(ctx, p, id, func(q *store.Queries, tx pgx.Tx, cur store.ReviewReview) error {
		if cur.AuthorID != p.UserID {
			return apperr.New(apperr.Forbidden, "only its author may edit a review")
		}
		if time.Now().After(s.editableUntil(cur)) {
			return apperr.New(apperr.Conflict, "reviews may be edited for %d days after they are written", s.cfg.EditDays)
		}
		if err := q.EditReview(ctx, store.EditReviewParams{ID: id, Rating: int16(in.Rating), Comment: w.comment, Status: w.status,
			Flags: w.flags, SentimentScore: float32(w.sent.Score), SentimentLabel: w.sent.Label, Aspects: w.aspects}); err != nil {
			return err
		}
		if err := s.setAspects(ctx, q, id, w.sent.Aspects); err != nil {
			return err
		}
		var err error
		if row, err = q.GetReview(ctx, id); err != nil {
			return err
		}
		row, err = s.recount(ctx, tx, q, row)
		return err
	})
	if err != nil {
		return Review{}, err
	}
	return s.shown(ctx, row, &p)
}

// Delete removes a review (its author or an admin may): it is kept, hidden, and no longer counted.
func (s *Service) Delete(ctx context.Context, p auth.Principal, id uuid.UUID) error {
	return s.locked(ctx, p, id, func(q *store.Queries, tx pgx.Tx, cur store.ReviewReview) error {
		if cur.AuthorID != p.UserID && !p.IsAdmin() {
			return apperr.New(apperr.Forbidden, "only its author or an admin may delete a review")
		}
		if err := q.SoftDelete(ctx, id); err != nil {
			return err
		}
		now := time.Now().UTC()
		cur.DeletedAt = &now
		if _, err := s.recount(ctx, tx, q, cur); err != nil {
			return err
		}
		return s.bus.Publish(ctx, tx, events.ReviewDeleted{ReviewID: id.String(), At: now})
	})
}

// Approve publishes a review the rules held (admins only).
func (s *Service) Approve(ctx context.Context, p auth.Principal, id uuid.UUID) (Review, error) {
	return s.moderateAs(ctx, p, id, StatusApproved, "")
}

// RejectInput says why a review is rejected; its author is told.
type RejectInput struct {
	Reason string `json:"reason" validate:"required,max=500"`
}

// Reject takes a review down, pending or published, with a reason (admins only).
func (s *Service) Reject(ctx context.Context, p auth.Principal, id uuid.UUID, in RejectInput) (Review, error) {
	reason, err := required("reason", in.Reason)
	if err != nil {
		return Review{}, err
	}
	return s.moderateAs(ctx, p, id, StatusRejected, reason)
}

func (s *Service) moderateAs(ctx context.Context, p auth.Principal, id uuid.UUID, to, reason string) (Review, error) {
	if !p.IsAdmin() {
		return Review{}, apperr.New(apperr.Forbidden, "only an admin may moderate reviews")
	}
	var row store.ReviewReview
	err := s.locked(ctx, p, id, func(q *store.Queries, tx pgx.Tx, cur store.ReviewReview) error {
		switch {
		case cur.Status == to:
			return apperr.New(apperr.Conflict, "the review is %s already", to)
		case to == StatusApproved && cur.Status != StatusPending:
			return apperr.New(apperr.Conflict, "only a pending review can be approved")
		}
		if err := q.Moderate(ctx, store.ModerateParams{ID: id, Status: to, RejectReason: reason, ModeratedBy: &p.UserID}); err != nil {
			return err
		}
		var err error
		if row, err = q.GetReview(ctx, id); err != nil {
			return err
		}
		if row, err = s.recount(ctx, tx, q, row); err != nil {
			return err
		}
		now := time.Now().UTC()
		if to == StatusApproved {
			return s.bus.Publish(ctx, tx, events.ReviewApproved{ReviewID: id.String(), AuthorID: row.AuthorID.String(),
				ShopID: row.ShopID.String(), At: now})
		}
		return s.bus.Publish(ctx, tx, events.ReviewRejected{ReviewID: id.String(), AuthorID: row.AuthorID.String(), Reason: reason, At: now})
	})
	if err != nil {
		return Review{}, err
	}
	return s.shown(ctx, row, &p)
}

// ReportInput says what is wrong with a review.
type ReportInput struct {
	Reason string `json:"reason" validate:"required,max=500"`
}

// Report is a user's report of a review.
type Report struct {
	ReviewID uuid.UUID `json:"review_id"`
	Reason   string    `json:"reason"`
	// Held says the reports have sent the review back to moderation.
	Held bool `json:"held"`
}

// Report records the caller's report of a published review, once per user; enough reports
// (REVIEW_REPORT_THRESHOLD) send it back to moderation, uncounted until an admin decides.
func (s *Service) Report(ctx context.Context, p auth.Principal, id uuid.UUID, in ReportInput) (Report, error) {
	reason, err := required("reason", in.Reason)
	if err != nil {
		return Report{}, err
	}
	out := Report{ReviewID: id, Reason: reason}
	err = s.locked(ctx, p, id, func(q *store.Queries, tx pgx.Tx, cur store.ReviewReview) error {
		if cur.Status != StatusApproved {
			return apperr.NotFoundf("review")
		}
		if cur.AuthorID == p.UserID {
			return apperr.New(apperr.Forbidden, "you cannot report your own review")
		}
		n, err := q.AddReport(ctx, store.AddReportParams{ReviewID: id, UserID: p.UserID, Reason: reason})
		if err != nil {
			return err
		}
		if n == 0 {
			return apperr.New(apperr.Conflict, "you have reported this review already")
		}
		count, err := q.CountReport(ctx, id)
		if err != nil {
			return err
		}
		if int(count) < s.cfg.ReportThreshold {
			return nil
		}
		if err := q.HoldForReports(ctx, id); err != nil {
			return err
		}
		cur.Status, out.Held = StatusPending, true
		_, err = s.recount(ctx, tx, q, cur)
		return err
	})
	return out, err
}

// ReplyInput is a shop's answer to a review.
type ReplyInput struct {
	Text string `json:"text" validate:"required,max=2000"`
}

// Reply answers a published review of the shop or of its products, once; the shop's owner (or an
// admin) may.
func (s *Service) Reply(ctx context.Context, p auth.Principal, id uuid.UUID, in ReplyInput) (Review, error) {
	text, err := required("text", in.Text)
	if err != nil {
		return Review{}, err
	}
	var row store.ReviewReview
	err = s.locked(ctx, p, id, func(q *store.Queries, tx pgx.Tx, cur store.ReviewReview) error {
		if cur.Status != StatusApproved {
			return apperr.NotFoundf("review")
		}
		owner, err := s.shops.ShopOwner(ctx, cur.ShopID)
		if err != nil && !isNotFound(err) {
			return err
		}
		if owner != p.UserID && !p.IsAdmin() {
			return apperr.New(apperr.Forbidden, "only the shop's owner may reply to its reviews")
		}
		if events.ReviewTarget(cur.Target) == events.ReviewOfDelivery {
			return apperr.New(apperr.Conflict, "a delivery review rates the shipper: the shop does not reply to it")
		}
		n, err := q.SetReply(ctx, store.SetReplyParams{ID: id, Reply: &text, RepliedBy: &p.UserID})
		if err != nil {
			return err
		}
		if n == 0 {
			return apperr.New(apperr.Conflict, "the shop has replied to this review already")
		}
		if row, err = q.GetReview(ctx, id); err != nil {
			return err
		}
		return s.bus.Publish(ctx, tx, events.ReviewReplied{ReviewID: id.String(), AuthorID: row.AuthorID.String(),
			ShopID: row.ShopID.String(), At: *row.RepliedAt})
	})
	if err != nil {
		return Review{}, err
	}
	return s.shown(ctx, row, &p)
}

// locked runs fn in a transaction holding the review's row lock; a review the caller may not see
// is not found.
func (s *Service) locked(ctx context.Context, p auth.Principal, id uuid.UUID, fn func(q *store.Queries, tx pgx.Tx, cur store.ReviewReview) error) error {
	return pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		cur, err := q.LockReview(ctx, id)
		if pgdb.IsNoRows(err) {
			return apperr.NotFoundf("review")
		}
		if err != nil {
			return err
		}
		if !s.visible(ctx, cur, &p) {
			return apperr.NotFoundf("review")
		}
		return fn(q, tx, cur)
	})
}

// visible says whether p may see a live review: anyone a published one, its author and admins
// any, the shop's owner those of its shop.
func (s *Service) visible(ctx context.Context, r store.ReviewReview, p *auth.Principal) bool {
	if r.DeletedAt != nil {
		return false
	}
	if r.Status == StatusApproved || p != nil && (p.UserID == r.AuthorID || p.IsAdmin()) {
		return true
	}
	if p == nil {
		return false
	}
	owner, err := s.shops.ShopOwner(ctx, r.ShopID)
	return err == nil && owner == p.UserID
}

// Get returns a review the caller may see.
func (s *Service) Get(ctx context.Context, p *auth.Principal, id uuid.UUID) (Review, error) {
	row, err := s.visibleRow(ctx, p, id)
	if err != nil {
		return Review{}, err
	}
	return s.shown(ctx, row, p)
}

// visibleRow reads a review p may see; any other is not found.
func (s *Service) visibleRow(ctx context.Context, p *auth.Principal, id uuid.UUID) (store.ReviewReview, error) {
	row, err := s.queriesFor(p).GetReview(ctx, id)
	if err != nil {
		return row, pgdb.NotFound(err, "review")
	}
	if !s.visible(ctx, row, p) {
		return row, apperr.NotFoundf("review")
	}
	return row, nil
}

func (s *Service) editableUntil(r store.ReviewReview) time.Time {
	return r.CreatedAt.Add(time.Duration(s.cfg.EditDays) * 24 * time.Hour).UTC()
}

// toReview shapes a row for viewer: the moderation flags only for its author and admins.
func (s *Service) toReview(r store.ReviewReview, viewer *auth.Principal) Review {
	out := Review{ID: r.ID, AuthorID: r.AuthorID, Target: events.ReviewTarget(r.Target), TargetID: r.TargetID, OrderID: r.OrderID,
		ProductID: r.ProductID, ShopID: r.ShopID, ShipperID: r.ShipperID, Rating: int(r.Rating), Comment: r.Comment,
		Media: []Media{}, VerifiedPurchase: true,
		Purchase: Purchase{OrderID: r.OrderID, OrderItemID: r.OrderItemID, VariantID: r.VariantID, VariantName: r.VariantName,
			DeliveredAt: r.DeliveredAt.UTC()},
		Status:        r.Status,
		Sentiment:     Sentiment{Score: float64(r.SentimentScore), Label: r.SentimentLabel, Aspects: map[string]float64{}},
		EditableUntil: s.editableUntil(r), EditedAt: utc(r.EditedAt), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	_ = json.Unmarshal(r.Aspects, &out.Sentiment.Aspects)
	if viewer != nil && (viewer.UserID == r.AuthorID || viewer.IsAdmin()) {
		out.Flags, out.RejectReason = r.Flags, r.RejectReason
	}
	if r.Reply != nil && r.RepliedBy != nil && r.RepliedAt != nil {
		out.Reply = &Reply{Text: *r.Reply, By: *r.RepliedBy, At: r.RepliedAt.UTC()}
	}
	return out
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func toRating(r store.ReviewRatingSummary) Rating {
	stars := []int32{r.Star1, r.Star2, r.Star3, r.Star4, r.Star5}
	out := Rating{Target: events.ReviewTarget(r.Target), TargetID: r.TargetID, Stars: map[string]int{}, Version: r.Version}
	sum := 0
	for i, n := range stars {
		out.Stars[strconv.Itoa(i+1)] = int(n)
		out.Count += int(n)
		sum += (i + 1) * int(n)
	}
	if out.Count > 0 {
		out.Average = math.Round(float64(sum)/float64(out.Count)*100) / 100
	}
	return out
}

// newStore returns the review store on db, the pool or a transaction, its errors naming the
// query that failed (pgdb.Named; the bulk copy's too).
func newStore(db store.DBTX) *store.Queries {
	return store.New(copyDB{DBTX: pgdb.Named("review", db), raw: db})
}

// copyDB adds the bulk seeder's COPY to a named store connection.
type copyDB struct {
	pgdb.DBTX
	raw store.DBTX
}

func (c copyDB) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	n, err := c.raw.CopyFrom(ctx, table, cols, src)
	if err != nil {
		err = fmt.Errorf("review: CopyReviews: %w", err)
	}
	return n, err
}
