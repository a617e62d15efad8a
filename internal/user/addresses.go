package user

import (
	"context"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/user/internal/store"
)

// AddressInput is an address as a client sends it.
type AddressInput struct {
	RecipientName string   `json:"recipient_name" validate:"required,max=200"`
	Phone         string   `json:"phone" validate:"required,phone"`
	Line1         string   `json:"line1" validate:"required,max=300"`
	Ward          string   `json:"ward" validate:"max=100"`
	District      string   `json:"district" validate:"max=100"`
	Province      string   `json:"province" validate:"required,max=100"`
	Country       string   `json:"country" validate:"omitempty,iso3166_1_alpha2"`
	Lat           *float64 `json:"lat" validate:"omitempty,latitude"`
	Lng           *float64 `json:"lng" validate:"omitempty,longitude"`
	IsDefault     bool     `json:"is_default"`
}

// Addresses lists the caller's addresses, oldest first.
func (s *Service) Addresses(ctx context.Context, uid uuid.UUID, page httpx.Page) (httpx.List[Address], error) {
	cur, has, err := httpx.KeysetOf(page)
	if err != nil {
		return httpx.List[Address]{}, err
	}
	rows, err := s.q.ListAddresses(ctx, store.ListAddressesParams{
		UserID: uid, HasCursor: has, AfterCreated: cur.At, AfterID: cur.ID, Lim: int32(page.Limit + 1),
	})
	if err != nil {
		return httpx.List[Address]{}, err
	}
	out := make([]Address, len(rows))
	for i, r := range rows {
		out[i] = toAddress(r)
	}
	return httpx.Paginate(out, page.Limit, func(a Address) any { return httpx.Keyset{At: a.CreatedAt, ID: a.ID} }), nil
}

// Address returns one of the user's addresses; anyone else's is not found.
func (s *Service) Address(ctx context.Context, uid, id uuid.UUID) (Address, error) {
	return s.AddressTx(ctx, nil, uid, id)
}

// AddressTx is Address read through the caller's transaction (nil: none), for callers that
// hold one.
func (s *Service) AddressTx(ctx context.Context, tx pgx.Tx, uid, id uuid.UUID) (Address, error) {
	q := s.q
	if tx != nil {
		q = newStore(tx)
	}
	a, err := q.GetAddress(ctx, store.GetAddressParams{ID: id, UserID: uid})
	if err != nil {
		return Address{}, pgdb.NotFound(err, "address")
	}
	return toAddress(a), nil
}

// QueueAddress queues the read of one of a user's addresses on b, for a caller that batches its
// reads (checkout); once b is sent, done gets the address, or not found.
func (s *Service) QueueAddress(ctx context.Context, b *pgdb.Batch, uid, id uuid.UUID, done func(Address, error) error) {
	pgdb.Queue(b, func(db pgdb.DBTX) (store.UsersAddress, error) {
		return newStore(db).GetAddress(ctx, store.GetAddressParams{ID: id, UserID: uid})
	}, func(a store.UsersAddress, err error) error {
		if err != nil {
			return done(Address{}, pgdb.NotFound(err, "address"))
		}
		return done(toAddress(a), nil)
	})
}

// CreateAddress adds an address. The first one is the default; a new one marked default takes
// over from the old default.
func (s *Service) CreateAddress(ctx context.Context, uid uuid.UUID, in AddressInput) (Address, error) {
	in, err := cleanAddress(in)
	if err != nil {
		return Address{}, err
	}
	var a store.UsersAddress
	err = s.withUserLock(ctx, uid, func(q *store.Queries) error {
		n, err := q.CountAddresses(ctx, uid)
		if err != nil {
			return err
		}
		if n >= MaxAddresses {
			return apperr.New(apperr.Conflict, "an account keeps at most %d addresses", MaxAddresses)
		}
		def := in.IsDefault || n == 0
		if def {
			if err := q.ClearDefaultAddress(ctx, uid); err != nil {
				return err
			}
		}
		a, err = q.CreateAddress(ctx, store.CreateAddressParams{
			UserID: uid, RecipientName: in.RecipientName, Phone: in.Phone, Line1: in.Line1, Ward: in.Ward,
			District: in.District, Province: in.Province, Country: in.Country, Lat: in.Lat, Lng: in.Lng, IsDefault: def,
		})
		return err
	})
	if err != nil {
		return Address{}, err
	}
	return toAddress(a), nil
}

// UpdateAddress replaces an address's fields; `is_default: true` also makes it the default
// (false does not unset it: there is always exactly one default).
func (s *Service) UpdateAddress(ctx context.Context, uid, id uuid.UUID, in AddressInput) (Address, error) {
	in, err := cleanAddress(in)
	if err != nil {
		return Address{}, err
	}
	var a store.UsersAddress
	err = s.withUserLock(ctx, uid, func(q *store.Queries) error {
		var err error
		a, err = q.UpdateAddress(ctx, store.UpdateAddressParams{
			ID: id, UserID: uid, RecipientName: in.RecipientName, Phone: in.Phone, Line1: in.Line1, Ward: in.Ward,
			District: in.District, Province: in.Province, Country: in.Country, Lat: in.Lat, Lng: in.Lng,
		})
		if pgdb.IsNoRows(err) {
			return apperr.NotFoundf("address")
		}
		if err != nil || !in.IsDefault || a.IsDefault {
			return err
		}
		a, err = setDefault(ctx, q, uid, id)
		return err
	})
	if err != nil {
		return Address{}, err
	}
	return toAddress(a), nil
}

// SetDefaultAddress makes an address the user's default.
func (s *Service) SetDefaultAddress(ctx context.Context, uid, id uuid.UUID) (Address, error) {
	var a store.UsersAddress
	err := s.withUserLock(ctx, uid, func(q *store.Queries) error {
		var err error
		a, err = setDefault(ctx, q, uid, id)
		return err
	})
	if err != nil {
		return Address{}, err
	}
	return toAddress(a), nil
}

func setDefault(ctx context.Context, q *store.Queries, uid, id uuid.UUID) (store.UsersAddress, error) {
	if _, err := q.GetAddress(ctx, store.GetAddressParams{ID: id, UserID: uid}); pgdb.IsNoRows(err) {
		return store.UsersAddress{}, apperr.NotFoundf("address")
	} else if err != nil {
		return store.UsersAddress{}, err
	}
	if err := q.ClearDefaultAddress(ctx, uid); err != nil {
		return store.UsersAddress{}, err
	}
	return q.SetDefaultAddress(ctx, store.SetDefaultAddressParams{ID: id, UserID: uid})
}

// DeleteAddress removes an address; when it was the default, the oldest remaining one becomes
// the default.
func (s *Service) DeleteAddress(ctx context.Context, uid, id uuid.UUID) error {
	return s.withUserLock(ctx, uid, func(q *store.Queries) error {
		wasDefault, err := q.DeleteAddress(ctx, store.DeleteAddressParams{ID: id, UserID: uid})
		if pgdb.IsNoRows(err) {
			return apperr.NotFoundf("address")
		}
		if err != nil || !wasDefault {
			return err
		}
		next, err := q.OldestAddress(ctx, uid)
		if pgdb.IsNoRows(err) {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = q.SetDefaultAddress(ctx, store.SetDefaultAddressParams{ID: next, UserID: uid})
		return err
	})
}

// withUserLock runs fn in a transaction holding the user's row lock, so that concurrent address
// changes of one user see each other and "exactly one default" holds.
func (s *Service) withUserLock(ctx context.Context, uid uuid.UUID, fn func(q *store.Queries) error) error {
	return pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		if _, err := q.LockUser(ctx, uid); pgdb.IsNoRows(err) {
			return apperr.NotFoundf("user")
		} else if err != nil {
			return err
		}
		return fn(q)
	})
}

func cleanAddress(in AddressInput) (AddressInput, error) {
	in.RecipientName = strings.TrimSpace(in.RecipientName)
	in.Phone = strings.ReplaceAll(strings.TrimSpace(in.Phone), " ", "")
	in.Line1 = strings.TrimSpace(in.Line1)
	in.Ward = strings.TrimSpace(in.Ward)
	in.District = strings.TrimSpace(in.District)
	in.Province = strings.TrimSpace(in.Province)
	in.Country = strings.ToUpper(strings.TrimSpace(in.Country))
	if in.Country == "" {
		in.Country = "VN"
	}
	var bad []apperr.FieldError
	for name, v := range map[string]string{"recipient_name": in.RecipientName, "line1": in.Line1, "province": in.Province} {
		if v == "" {
			bad = append(bad, apperr.FieldError{Field: name, Message: "is required"})
		}
	}
	if bad != nil {
		return in, apperr.Validation(bad...)
	}
	return in, nil
}

func toAddress(a store.UsersAddress) Address {
	return Address{ID: a.ID, RecipientName: a.RecipientName, Phone: a.Phone, Line1: a.Line1, Ward: a.Ward,
		District: a.District, Province: a.Province, Country: a.Country, Lat: a.Lat, Lng: a.Lng,
		IsDefault: a.IsDefault, CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC()}
}
