package gateway_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/payment/gateway"
)

func TestExponent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cur  string
		want int
	}{{"VND", 0}, {"vnd", 0}, {"JPY", 0}, {"USD", 2}, {"EUR", 2}, {"KWD", 3}}
	for _, tc := range tests {
		got, err := gateway.Exponent(tc.cur)
		require.NoError(t, err, tc.cur)
		assert.Equal(t, tc.want, got, tc.cur)
	}
	for _, bad := range []string{"", "US", "DOLLAR", "QQQ"} {
		_, err := gateway.Exponent(bad)
		assert.ErrorIs(t, err, gateway.ErrInvalidRequest, bad)
	}
}

func TestRescale(t *testing.T) {
	t.Parallel()
	tests := []struct {
		amount   int64
		from, to int
		want     int64
		err      bool
	}{
		{18060, 0, 2, 1806000, false},
		{1806000, 2, 0, 18060, false},
		{1806050, 2, 0, 0, true},
		{42, 2, 2, 42, false},
		{math.MaxInt64 / 5, 0, 1, 0, true},
	}
	for _, tc := range tests {
		got, err := gateway.Rescale(tc.amount, tc.from, tc.to)
		if tc.err {
			assert.ErrorIs(t, err, gateway.ErrInvalidRequest)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tc.want, got)
	}
}

func TestDecimal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		amount int64
		exp    int
		text   string
	}{
		{1999, 2, "19.99"}, {5, 2, "0.05"}, {500, 2, "5.00"}, {0, 2, "0.00"},
		{250000, 0, "250000"}, {1500, 3, "1.500"}, {-1999, 2, "-19.99"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.text, gateway.FormatDecimal(tc.amount, tc.exp))
		got, err := gateway.ParseDecimal(tc.text, tc.exp)
		require.NoError(t, err, tc.text)
		assert.Equal(t, tc.amount, got, tc.text)
	}
	for text, want := range map[string]int64{"5": 500, "5.1": 510, "100.0": 10000, "23.990": 2399} {
		got, err := gateway.ParseDecimal(text, 2)
		require.NoError(t, err, text)
		assert.Equal(t, want, got, text)
	}
	for _, bad := range []string{"", "1.999", "1,00", "abc", ".5", "1e3", "99999999999999999999"} {
		_, err := gateway.ParseDecimal(bad, 2)
		assert.ErrorIs(t, err, gateway.ErrMalformed, bad)
	}
}

func TestCreateRequestValidate(t *testing.T) {
	t.Parallel()
	ok := gateway.CreateRequest{PaymentID: "p", Amount: 1, Currency: "VND"}
	require.NoError(t, ok.Validate())
	assert.Equal(t, "p", ok.Ref())
	ok.Reference = "order-1"
	assert.Equal(t, "order-1", ok.Ref())
	for _, bad := range []gateway.CreateRequest{
		{Amount: 1, Currency: "VND"},
		{PaymentID: "p", Amount: -1, Currency: "VND"},
		{PaymentID: "p", Amount: 1, Currency: "XYZ"},
		{PaymentID: "p", Amount: 1, Currency: "VND", Capture: "later"},
	} {
		assert.ErrorIs(t, bad.Validate(), gateway.ErrInvalidRequest)
	}
}

func TestRefundRequestValidate(t *testing.T) {
	t.Parallel()
	ok := gateway.RefundRequest{PaymentRef: "r", Amount: 10, CapturedAmount: 10, Currency: "USD", IdempotencyKey: "k"}
	require.NoError(t, ok.Validate())
	for _, mutate := range []func(*gateway.RefundRequest){
		func(r *gateway.RefundRequest) { r.PaymentRef = "" },
		func(r *gateway.RefundRequest) { r.Amount = 0 },
		func(r *gateway.RefundRequest) { r.IdempotencyKey = "" },
		func(r *gateway.RefundRequest) { r.Amount = 11 },
		func(r *gateway.RefundRequest) { r.Currency = "" },
	} {
		bad := ok
		mutate(&bad)
		assert.ErrorIs(t, bad.Validate(), gateway.ErrInvalidRequest)
	}
}

func TestProviderError(t *testing.T) {
	t.Parallel()
	cause := errors.New("connection refused")
	tests := []struct {
		err       *gateway.ProviderError
		temporary bool
	}{
		{&gateway.ProviderError{Provider: "momo", Code: "1001", Message: "insufficient balance"}, false},
		{&gateway.ProviderError{Provider: "paypal", HTTPStatus: 422, Code: "UNPROCESSABLE_ENTITY"}, false},
		{&gateway.ProviderError{Provider: "paypal", HTTPStatus: 503}, true},
		{&gateway.ProviderError{Provider: "paypal", HTTPStatus: 429}, true},
		{&gateway.ProviderError{Provider: "vnpay", Err: cause}, true},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.temporary, tc.err.Temporary(), tc.err.Error())
	}
	assert.ErrorIs(t, tests[4].err, cause)
	assert.Equal(t, "momo: provider error 1001: insufficient balance", tests[0].err.Error())
}

type fake struct {
	gateway.Gateway
	name      string
	available bool
}

func (f fake) Name() string    { return f.name }
func (f fake) Available() bool { return f.available }
func (f fake) ParseWebhook(context.Context, http.Header, []byte, url.Values) (gateway.Event, error) {
	return gateway.Event{}, nil
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	r := gateway.NewRegistry(fake{name: "stripe", available: true}, fake{name: "momo"}, fake{name: "sandbox", available: true})
	assert.Equal(t, []string{"stripe", "momo", "sandbox"}, r.Names())
	require.Len(t, r.All(), 3)
	assert.False(t, r.All()[1].Available())

	g, err := r.Get("stripe")
	require.NoError(t, err)
	assert.Equal(t, "stripe", g.Name())
	_, err = r.Get("momo")
	assert.ErrorIs(t, err, gateway.ErrUnavailable)
	_, err = r.Get("bitcoin")
	assert.ErrorIs(t, err, gateway.ErrUnknown)
}
