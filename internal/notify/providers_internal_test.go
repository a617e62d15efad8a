package notify

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	webpush "github.com/SherClockHolmes/webpush-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/platform/breaker"
)

func TestE164(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"0912 345 678": "+84912345678", "84912345678": "+84912345678", "+84 912-345-678": "+84912345678",
		"(028) 3822 1234": "+842838221234", "+1 415 555 0100": "+14155550100",
	} {
		got, err := E164(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "12345", "091234567a", "0", "+0912345678", "++84912345678", "0912\x00345678"} {
		_, err := E164(bad)
		assert.Error(t, err, "%q", bad)
	}
}

func TestTemplatesRenderAndAreChecked(t *testing.T) {
	t.Parallel()
	out, err := render("en", "Order {{.order_ref}}", "Total {{.total}}", "", map[string]any{"order_id": "0123456789abcdef", "total": 5})
	require.NoError(t, err)
	assert.Equal(t, "Order #01234567", out.Title)
	assert.Equal(t, "Total 5", out.Body)
	assert.Contains(t, out.HTML, `lang="en"`)
	// Variables never become markup in the HTML part.
	out, err = render("vi", "{{.reason}}", "{{.reason}}", "", map[string]any{"reason": "<script>x</script>"})
	require.NoError(t, err)
	assert.NotContains(t, out.HTML, "<script>")
	assert.Error(t, checkTemplate("{{.nope}}", "x", ""))
	assert.Error(t, checkTemplate("x", "{{if}}", ""))
	assert.Error(t, checkTemplate("x", "x", "<p>{{.nope}}</p>"))
	assert.NoError(t, checkTemplate("{{.order_ref}}", "{{.total}} {{.currency}}", "<p>{{.body}}</p>"))
	// Every built-in text renders in both languages.
	for k, r := range rules {
		for _, texts := range [][2]string{r.vi, r.en} {
			assert.NoError(t, checkTemplate(texts[0], texts[1], ""), k)
		}
	}
}

func TestQuietHoursHoldUntilTheyEnd(t *testing.T) {
	t.Parallel()
	zone, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	require.NoError(t, err)
	start, end := int16(22*60), int16(7*60)
	st := settings{zone: zone, quietStart: &start, quietEnd: &end}
	at := func(h, m int) time.Time { return time.Date(2026, 12, 2, h, m, 0, 0, zone) }
	assert.Equal(t, time.Date(2026, 12, 3, 7, 0, 0, 0, zone), st.quietUntil(at(23, 30)))
	assert.Equal(t, at(7, 0), st.quietUntil(at(3, 0)))
	assert.True(t, st.quietUntil(at(12, 0)).IsZero())
	assert.True(t, st.quietUntil(at(7, 0)).IsZero())
	assert.True(t, settings{zone: zone}.quietUntil(at(23, 0)).IsZero(), "no quiet hours")
}

func TestTimesAreShownInThePersonsZone(t *testing.T) {
	t.Parallel()
	zone, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	require.NoError(t, err)
	got := settings{zone: zone}.localize(map[string]any{"at": "2026-12-02T15:05:00Z", "order_id": "x"})
	assert.Equal(t, "02/12/2026 22:05 (+07)", got["at"])
	assert.Equal(t, "x", got["order_id"])
}

// speedSMS is a local server speaking SpeedSMS's protocol: it checks the Basic authentication
// and the JSON body and keeps what it accepted; fail makes it answer 503.
type speedSMS struct {
	mu   sync.Mutex
	got  []map[string]any
	fail bool
}

func (s *speedSMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path != "/index.php/sms/send" || r.Method != http.MethodPost:
		http.NotFound(w, r)
		return
	case !ok || user != "token-123" || pass != "x":
		_, _ = io.WriteString(w, `{"status":"error","code":"007","message":"unauthorized"}`)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		_, _ = io.WriteString(w, `{"status":"error","code":"001","message":"bad json"}`)
		return
	}
	s.got = append(s.got, body)
	_, _ = io.WriteString(w, `{"status":"success","code":"00","data":{"tranId":1,"totalSMS":1,"totalPrice":250,"invalidPhone":[]}}`)
}

func TestSpeedSMSSpeaksTheProvidersProtocolBehindABreaker(t *testing.T) {
	t.Parallel()
	fake := &speedSMS{}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	b := NewSMSBreaker(breaker.Config{Failures: 2, OpenFor: time.Hour, Probes: 1})
	p := SpeedSMS{BaseURL: srv.URL, Token: "token-123", Sender: "GoShop", Breaker: b}
	ctx := context.Background()
	require.NoError(t, p.Send(ctx, "+84912345678", "Đơn hàng đã giao"))
	require.Len(t, fake.got, 1)
	assert.Equal(t, []any{"84912345678"}, fake.got[0]["to"])
	assert.Equal(t, "Đơn hàng đã giao", fake.got[0]["content"])
	assert.EqualValues(t, 2, fake.got[0]["sms_type"])
	assert.Equal(t, "GoShop", fake.got[0]["sender"])

	wrong := SpeedSMS{BaseURL: srv.URL, Token: "wrong", Breaker: b}
	var pe providerError
	require.ErrorAs(t, wrong.Send(ctx, "+84912345678", "x"), &pe, "the provider's refusal")
	assert.Equal(t, "007", pe.code)

	fake.mu.Lock()
	fake.fail = true
	fake.mu.Unlock()
	for range 2 {
		assert.Error(t, p.Send(ctx, "+84912345678", "x"))
	}
	assert.ErrorIs(t, p.Send(ctx, "+84912345678", "x"), breaker.ErrOpen, "the outage opened the breaker: calls fail at once")
	assert.Len(t, fake.got, 1)
}

// pushService is a local push endpoint that decrypts what it receives with the subscription's
// private key (RFC 8291, aes128gcm) and keeps the plaintext; gone answers 410.
type pushService struct {
	t      *testing.T
	key    *ecdh.PrivateKey
	secret []byte
	vapid  string
	mu     sync.Mutex
	got    [][]byte
	gone   bool
}

func (p *pushService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gone {
		w.WriteHeader(http.StatusGone)
		return
	}
	if r.Header.Get("Content-Encoding") != "aes128gcm" || !strings.HasPrefix(r.Header.Get("Authorization"), "vapid t=") ||
		!strings.Contains(r.Header.Get("Authorization"), "k="+p.vapid) {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	body, _ := io.ReadAll(r.Body)
	plain, err := p.decrypt(body)
	if err != nil {
		p.t.Errorf("push payload: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	p.got = append(p.got, plain)
	w.WriteHeader(http.StatusCreated)
}

// decrypt reads one aes128gcm record as RFC 8291 section 3.4 derives its key and nonce.
func (p *pushService) decrypt(body []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("short body")
	}
	salt, idlen := body[:16], int(body[20])
	_ = binary.BigEndian.Uint32(body[16:20])
	if len(body) < 21+idlen {
		return nil, errors.New("short header")
	}
	asPub, err := ecdh.P256().NewPublicKey(body[21 : 21+idlen])
	if err != nil {
		return nil, err
	}
	shared, err := p.key.ECDH(asPub)
	if err != nil {
		return nil, err
	}
	info := append(append([]byte("WebPush: info\x00"), p.key.PublicKey().Bytes()...), asPub.Bytes()...)
	ikm, err := hkdf.Key(sha256.New, shared, p.secret, string(info), 32)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, body[21+idlen:], nil)
	if err != nil {
		return nil, err
	}
	plain = bytes.TrimRight(plain, "\x00")
	if len(plain) == 0 || plain[len(plain)-1] != 2 {
		return nil, errors.New("no last-record delimiter")
	}
	return plain[:len(plain)-1], nil
}

func TestWebPushPayloadDecryptsWithTheSubscriptionsKey(t *testing.T) {
	t.Parallel()
	priv, pub, err := webpush.GenerateVAPIDKeys()
	require.NoError(t, err)
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	require.NoError(t, err)
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	svc := &pushService{t: t, key: key, secret: secret, vapid: pub}
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	to := PushTarget{Endpoint: srv.URL + "/push/abc", P256dh: base64.RawURLEncoding.EncodeToString(key.PublicKey().Bytes()),
		Auth: base64.RawURLEncoding.EncodeToString(secret)}
	require.NoError(t, checkKeys(to.P256dh, to.Auth))
	w := WebPush{PublicKey: pub, PrivateKey: priv, Subject: "mailto:ops@goshop.local", Client: srv.Client()}

	payload := []byte(`{"kind":"order_shipped","title":"Đơn đang giao","body":"Đơn hàng #ABC đã được gửi đi."}`)
	require.NoError(t, w.Send(context.Background(), to, payload))
	require.Len(t, svc.got, 1)
	assert.JSONEq(t, string(payload), string(svc.got[0]))

	svc.mu.Lock()
	svc.gone = true
	svc.mu.Unlock()
	assert.ErrorIs(t, w.Send(context.Background(), to, payload), ErrGone, "410: the subscription is dropped")
}

// TestParsedTemplatesAreKeptPerSource: a text is parsed once and its parse serves the next
// messages, an edited text is parsed anew, and an HTML part from the kept parse still escapes.
func TestParsedTemplatesAreKeptPerSource(t *testing.T) {
	t.Parallel()
	subject := "Kept {{.order_ref}} " + t.Name()
	html := "<p>{{.reason}}</p><!-- " + t.Name() + " -->"
	for range 2 {
		out, err := render("en", subject, "{{.reason}}", html, map[string]any{"order_id": "0123456789abcdef", "reason": "<b>x</b>"})
		require.NoError(t, err)
		assert.Equal(t, "Kept #01234567 "+t.Name(), out.Title)
		assert.Equal(t, "<b>x</b>", out.Body, "the text part is text")
		assert.Contains(t, out.HTML, "&lt;b&gt;x&lt;/b&gt;", "the HTML part escapes, parsed or kept")
	}
	assert.True(t, parsedTexts.Contains(subject))
	assert.True(t, parsedHTMLs.Contains(html))
	edited := subject + "!"
	out, err := render("en", edited, "x", "", nil)
	require.NoError(t, err)
	assert.Equal(t, "Kept  "+t.Name()+"!", out.Title)
	_, err = render("en", "{{if}}"+t.Name(), "x", "", nil)
	require.Error(t, err)
	assert.False(t, parsedTexts.Contains("{{if}}"+t.Name()), "a text that does not parse is not kept")
}

// BenchmarkRender renders an order mail from the built-in texts, as each send does.
func BenchmarkRender(b *testing.B) {
	texts := rules[KindOrderPlaced].vi
	data := map[string]any{"order_id": "0123456789abcdef", "total": 125000, "currency": "VND", "shop_name": "Shop"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := render("vi", texts[0], texts[1], "", data); err != nil {
			b.Fatal(err)
		}
	}
}
