package review

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/review/internal/store"
)

// Filter narrows a list of published reviews.
type Filter struct {
	// Rating keeps the reviews of one star count.
	Rating *int
	// WithComment keeps the reviews that say something.
	WithComment bool
	// Target keeps a shop's reviews of itself (shop) or of its products (product).
	Target events.ReviewTarget
}

// page shapes a page of rows for viewer, their media fetched in one call for the whole page.
func (s *Service) page(ctx context.Context, rows []store.ReviewReview, viewer *auth.Principal, limit int) (httpx.List[Review], error) {
	out := make([]Review, len(rows))
	for i, r := range rows {
		out[i] = s.toReview(r, viewer)
	}
	list := httpx.Paginate(out, limit, func(r Review) any { return httpx.Keyset{At: r.CreatedAt, ID: r.ID} })
	return list, s.withMedia(ctx, list.Items)
}

func rating16(r *int) *int16 {
	if r == nil {
		return nil
	}
	v := int16(*r)
	return &v
}

// ProductReviews pages through a product's published reviews, newest first.
func (s *Service) ProductReviews(ctx context.Context, p *auth.Principal, productID uuid.UUID, f Filter, page httpx.Page) (httpx.List[Review], error) {
	return s.targetReviews(ctx, p, events.ReviewOfProduct, productID, f, page)
}

// ShipperReviews pages through the published reviews of a shipper's deliveries, newest first.
func (s *Service) ShipperReviews(ctx context.Context, p *auth.Principal, shipperID uuid.UUID, f Filter, page httpx.Page) (httpx.List[Review], error) {
	return s.delivery(ctx, p, &shipperID, f, page)
}

func (s *Service) targetReviews(ctx context.Context, p *auth.Principal, target events.ReviewTarget, id uuid.UUID, f Filter, page httpx.Page) (httpx.List[Review], error) {
	cur, has, err := httpx.KeysetOf(page)
	if err != nil {
		return httpx.List[Review]{}, err
	}
	rows, err := s.queriesFor(p).ListTarget(ctx, store.ListTargetParams{Target: string(target), TargetID: id, Rating: rating16(f.Rating),
		WithComment: f.WithComment, HasCursor: has, BeforeCreated: cur.At, BeforeID: cur.ID, Lim: int32(page.Limit + 1)})
	if err != nil {
		return httpx.List[Review]{}, err
	}
	return s.page(ctx, rows, p, page.Limit)
}

// ShopReviews pages through a shop's published reviews, of itself and of its products (or of one
// of the two), newest first.
func (s *Service) ShopReviews(ctx context.Context, p *auth.Principal, shopID uuid.UUID, f Filter, page httpx.Page) (httpx.List[Review], error) {
	cur, has, err := httpx.KeysetOf(page)
	if err != nil {
		return httpx.List[Review]{}, err
	}
	var target *string
	if f.Target != "" {
		t := string(f.Target)
		target = &t
	}
	rows, err := s.queriesFor(p).ListShop(ctx, store.ListShopParams{ShopID: shopID, Target: target, Rating: rating16(f.Rating), HasCursor: has,
		BeforeCreated: cur.At, BeforeID: cur.ID, Lim: int32(page.Limit + 1)})
	if err != nil {
		return httpx.List[Review]{}, err
	}
	return s.page(ctx, rows, p, page.Limit)
}

// DeliveryReviews pages through delivery reviews, newest first: a shipper's own, or for an admin
// everyone's (or one shipper's).
func (s *Service) DeliveryReviews(ctx context.Context, p auth.Principal, shipperID *uuid.UUID, f Filter, page httpx.Page) (httpx.List[Review], error) {
	switch {
	case p.IsAdmin():
	case p.Has(auth.RoleShipper) && (shipperID == nil || *shipperID == p.UserID):
		shipperID = &p.UserID
	default:
		return httpx.List[Review]{}, apperr.New(apperr.Forbidden, "only shippers (their own) and admins may list delivery reviews")
	}
	return s.delivery(ctx, &p, shipperID, f, page)
}

func (s *Service) delivery(ctx context.Context, p *auth.Principal, shipperID *uuid.UUID, f Filter, page httpx.Page) (httpx.List[Review], error) {
	cur, has, err := httpx.KeysetOf(page)
	if err != nil {
		return httpx.List[Review]{}, err
	}
	rows, err := s.queriesFor(p).ListDelivery(ctx, store.ListDeliveryParams{ShipperID: shipperID, Rating: rating16(f.Rating), HasCursor: has,
		BeforeCreated: cur.At, BeforeID: cur.ID, Lim: int32(page.Limit + 1)})
	if err != nil {
		return httpx.List[Review]{}, err
	}
	return s.page(ctx, rows, p, page.Limit)
}

// Pending pages through the reviews waiting for a moderator, oldest first (admins only).
func (s *Service) Pending(ctx context.Context, p auth.Principal, page httpx.Page) (httpx.List[Review], error) {
	if !p.IsAdmin() {
		return httpx.List[Review]{}, apperr.New(apperr.Forbidden, "only an admin may moderate reviews")
	}
	cur, has, err := httpx.KeysetOf(page)
	if err != nil {
		return httpx.List[Review]{}, err
	}
	rows, err := s.q.ListPending(ctx, store.ListPendingParams{HasCursor: has, AfterCreated: cur.At, AfterID: cur.ID,
		Lim: int32(page.Limit + 1)})
	if err != nil {
		return httpx.List[Review]{}, err
	}
	return s.page(ctx, rows, &p, page.Limit)
}

// Scope names a product or a shop, for the aggregates.
type Scope struct {
	ProductID *uuid.UUID
	ShopID    *uuid.UUID
}

func (sc Scope) check() error {
	if (sc.ProductID == nil) == (sc.ShopID == nil) {
		return apperr.Field("product_id", "give product_id or shop_id (one of them)")
	}
	return nil
}

// Verified pages through published product and shop reviews with the purchase each rests on
// (the variant bought, the delivery date), newest first, of a product or a shop or all.
func (s *Service) Verified(ctx context.Context, p *auth.Principal, sc Scope, page httpx.Page) (httpx.List[Review], error) {
	cur, has, err := httpx.KeysetOf(page)
	if err != nil {
		return httpx.List[Review]{}, err
	}
	rows, err := s.queriesFor(p).ListVerified(ctx, store.ListVerifiedParams{ProductID: sc.ProductID, ShopID: sc.ShopID, HasCursor: has,
		BeforeCreated: cur.At, BeforeID: cur.ID, Lim: int32(page.Limit + 1)})
	if err != nil {
		return httpx.List[Review]{}, err
	}
	return s.page(ctx, rows, p, page.Limit)
}

// Summary reads one target's rating summary (a row, never a scan of reviews); a target without
// counted reviews has an empty one.
func (s *Service) Summary(ctx context.Context, target events.ReviewTarget, id uuid.UUID) (Rating, error) {
	return summary(ctx, s.q, target, id)
}

// summary reads a target's rating summary through q.
func summary(ctx context.Context, q *store.Queries, target events.ReviewTarget, id uuid.UUID) (Rating, error) {
	row, err := q.GetSummary(ctx, store.GetSummaryParams{Target: string(target), TargetID: id})
	if pgdb.IsNoRows(err) {
		row, err = store.ReviewRatingSummary{Target: string(target), TargetID: id}, nil
	}
	if err != nil {
		return Rating{}, err
	}
	return toRating(row), nil
}

// Distribution is the rating of a product or a shop.
func (s *Service) Distribution(ctx context.Context, sc Scope) (Rating, error) {
	if err := sc.check(); err != nil {
		return Rating{}, err
	}
	if sc.ProductID != nil {
		return summary(ctx, s.readQ, events.ReviewOfProduct, *sc.ProductID)
	}
	return summary(ctx, s.readQ, events.ReviewOfShop, *sc.ShopID)
}

// ShipperRating is a shipper's average delivery rating and how many reviews it rests on, for the
// shipping context.
func (s *Service) ShipperRating(ctx context.Context, shipperID uuid.UUID) (average float64, count int, err error) {
	r, err := s.Summary(ctx, events.ReviewOfDelivery, shipperID)
	return r.Average, r.Count, err
}

// LabelCount is how many reviews carry a sentiment label.
type LabelCount struct {
	Label   string  `json:"label"`
	Reviews int     `json:"reviews"`
	Score   float64 `json:"score"`
}

// AspectSentiment is what buyers say of one aspect: how many speak of it, praise it and
// complain of it, and the mean score there.
type AspectSentiment struct {
	Aspect   string  `json:"aspect"`
	Mentions int     `json:"mentions"`
	Positive int     `json:"positive"`
	Negative int     `json:"negative"`
	Score    float64 `json:"score"`
	// Verdict sums it up: praised, criticised or mixed.
	Verdict string `json:"verdict"`
}

// SentimentReport aggregates the sentiment of a product's or a shop's published reviews.
type SentimentReport struct {
	ProductID *uuid.UUID        `json:"product_id,omitempty"`
	ShopID    *uuid.UUID        `json:"shop_id,omitempty"`
	Reviews   int               `json:"reviews"`
	Score     float64           `json:"score"`
	Labels    []LabelCount      `json:"labels"`
	Aspects   []AspectSentiment `json:"aspects"`
}

// SentimentOf aggregates the sentiment of a product's or a shop's published reviews, overall
// and by aspect.
func (s *Service) SentimentOf(ctx context.Context, sc Scope) (SentimentReport, error) {
	if err := sc.check(); err != nil {
		return SentimentReport{}, err
	}
	out := SentimentReport{ProductID: sc.ProductID, ShopID: sc.ShopID, Labels: []LabelCount{}, Aspects: []AspectSentiment{}}
	labels, err := s.readQ.SentimentByLabel(ctx, store.SentimentByLabelParams{ProductID: sc.ProductID, ShopID: sc.ShopID})
	if err != nil {
		return out, err
	}
	byLabel := map[string]store.SentimentByLabelRow{}
	total := 0.0
	for _, l := range labels {
		byLabel[l.SentimentLabel] = l
		out.Reviews += int(l.Reviews)
		total += l.Score * float64(l.Reviews)
	}
	for _, name := range []string{Positive, Neutral, Negative} {
		l := byLabel[name]
		out.Labels = append(out.Labels, LabelCount{Label: name, Reviews: int(l.Reviews), Score: round2(l.Score)})
	}
	if out.Reviews > 0 {
		out.Score = round2(total / float64(out.Reviews))
	}
	aspects, err := s.readQ.SentimentByAspect(ctx, store.SentimentByAspectParams{ProductID: sc.ProductID, ShopID: sc.ShopID})
	if err != nil {
		return out, err
	}
	for _, a := range aspects {
		v := "mixed"
		switch {
		case a.Negative > a.Positive && a.Score < -NeutralBand/2:
			v = "criticised"
		case a.Positive > a.Negative && a.Score > NeutralBand/2:
			v = "praised"
		}
		out.Aspects = append(out.Aspects, AspectSentiment{Aspect: a.Aspect, Mentions: int(a.Mentions), Positive: int(a.Positive),
			Negative: int(a.Negative), Score: round2(a.Score), Verdict: v})
	}
	return out, nil
}

// ShopRating is a shop's rating summary: from its shop reviews (the shop's rating), and from its
// products' reviews taken together.
type ShopRating struct {
	ShopID  uuid.UUID      `json:"shop_id"`
	Average float64        `json:"average"`
	Count   int            `json:"count"`
	Stars   map[string]int `json:"stars"`
	// Products is the rating of the shop's products taken together.
	Products Rating `json:"products"`
}

// ShopRating reads a shop's two summary rows, on the primary (the shop context copies them).
func (s *Service) ShopRating(ctx context.Context, shopID uuid.UUID) (ShopRating, error) {
	return shopRating(ctx, s.q, shopID)
}

// PublicShopRating is ShopRating for the public page, read where the public reads go (a
// replica), so it may lag a moment behind a new review.
func (s *Service) PublicShopRating(ctx context.Context, shopID uuid.UUID) (ShopRating, error) {
	return shopRating(ctx, s.readQ, shopID)
}

func shopRating(ctx context.Context, q *store.Queries, shopID uuid.UUID) (ShopRating, error) {
	own, err := summary(ctx, q, events.ReviewOfShop, shopID)
	if err != nil {
		return ShopRating{}, err
	}
	products, err := summary(ctx, q, targetShopProducts, shopID)
	if err != nil {
		return ShopRating{}, err
	}
	return ShopRating{ShopID: shopID, Average: own.Average, Count: own.Count, Stars: own.Stars, Products: products}, nil
}

// ProductRatingTx reads a product's rating (average, count) through the caller's transaction,
// for the catalog, which copies it into the product under the product's row lock.
func (s *Service) ProductRatingTx(ctx context.Context, tx pgx.Tx, productID uuid.UUID) (float64, int, error) {
	row, err := newStore(tx).GetSummary(ctx, store.GetSummaryParams{Target: string(events.ReviewOfProduct), TargetID: productID})
	if pgdb.IsNoRows(err) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	r := toRating(row)
	return r.Average, r.Count, nil
}

// CanManageMedia says whether p may add, arrange and delete the photos and videos of a review
// (the media context asks, as the review kind's guard): nil for its author; a review p may not
// see (or a deleted one) is not found, one p may see but did not write is forbidden. How many
// a review may carry is MaxMedia, which the media context counts under its lock.
func (s *Service) CanManageMedia(ctx context.Context, p auth.Principal, id uuid.UUID) error {
	row, err := s.visibleRow(ctx, &p, id)
	if err != nil {
		return err
	}
	if row.AuthorID != p.UserID {
		return apperr.New(apperr.Forbidden, "only its author may change a review's photos and videos")
	}
	return nil
}

// Media lists the photos and videos of a review the caller may see, in their order.
func (s *Service) Media(ctx context.Context, p *auth.Principal, id uuid.UUID) (httpx.List[Media], error) {
	r, err := s.Get(ctx, p, id)
	if err != nil {
		return httpx.List[Media]{}, err
	}
	return httpx.List[Media]{Items: r.Media}, nil
}

// withMedia fills in the photos and videos of reviews, in one call to the media context for all.
func (s *Service) withMedia(ctx context.Context, rs []Review) error {
	if s.media == nil || len(rs) == 0 {
		return nil
	}
	ids := make([]uuid.UUID, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	byReview, err := s.media.ReviewMedia(ctx, ids)
	if err != nil {
		return err
	}
	for i := range rs {
		if m := byReview[rs[i].ID]; m != nil {
			rs[i].Media = m
		}
	}
	return nil
}

// shown is a review shaped for viewer, with its media.
func (s *Service) shown(ctx context.Context, row store.ReviewReview, viewer *auth.Principal) (Review, error) {
	rs := []Review{s.toReview(row, viewer)}
	err := s.withMedia(ctx, rs)
	return rs[0], err
}
