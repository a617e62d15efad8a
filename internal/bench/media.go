package bench

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"sync"
	"time"
)

// mediaUploaders is how many sellers upload at once in the media row: fewer than the server's
// MEDIA_UPLOADS, so that the row measures uploads, not refusals.
const mediaUploaders = 4

// mediaJPEGBytes is the size of the photo the media row uploads: a phone photo's.
const mediaJPEGBytes = 2 << 20

func init() {
	scenarios = append(scenarios, scenario{
		name:    "media upload",
		rows:    func(options) []string { return []string{mediaRowName()} },
		measure: measureMediaUploads,
	})
}

func mediaRowName() string {
	return fmt.Sprintf("media upload (%d MB JPEG, %d sellers)", mediaJPEGBytes>>20, mediaUploaders)
}

// measureMediaUploads has mediaUploaders sellers, each with a product of their own, upload the
// same 2 MB JPEG to it over and over for the row's duration (closed loop): each upload is
// sniffed, its header checked, decoded, re-encoded and thumbnailed at three widths, and stored.
// Any answer but 201 is an error of the row. The sellers' products are deleted afterwards, so
// that other rows never pick them, and their files go with them.
func measureMediaUploads(ctx context.Context, r *runner, emit func(stats) error) error {
	photo, err := benchPhoto(mediaJPEGBytes)
	if err != nil {
		return err
	}
	type seller struct{ token, product string }
	sellers := make([]seller, mediaUploaders)
	for i := range sellers {
		a, err := r.f.newUser(ctx, "media")
		if err != nil {
			return fmt.Errorf("bench: media: %w", err)
		}
		shop, err := r.f.newShop(ctx, a.token, "Bench media "+randomHex(3), 10.78, 106.70)
		if err != nil {
			return fmt.Errorf("bench: media: %w", err)
		}
		p, err := r.f.newProduct(ctx, a.token, shop, "Bench photo product", 1)
		if err != nil {
			return fmt.Errorf("bench: media: %w", err)
		}
		sellers[i] = seller{token: a.token, product: p}
	}
	defer func() {
		for _, s := range sellers {
			_ = r.f.call(context.WithoutCancel(ctx), http.MethodDelete, "/api/v1/products/"+s.product, s.token, nil, nil)
		}
	}()
	name := mediaRowName()
	upload := func(s seller) (time.Duration, error) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("alt", "Bench photo")
		fw, _ := mw.CreateFormFile("file", "photo.jpg")
		_, _ = fw.Write(photo)
		_ = mw.Close()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.f.goshop+"/api/v1/products/"+s.product+"/media", &buf)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+s.token)
		t0 := time.Now()
		res, err := r.f.client.Do(req)
		if err != nil {
			return 0, err
		}
		b, _ := io.ReadAll(io.LimitReader(res.Body, 2048))
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			return 0, fmt.Errorf("HTTP %d: %s", res.StatusCode, bytes.TrimSpace(b))
		}
		return time.Since(t0), nil
	}
	// One upload each to warm up (not measured; a failure still counts).
	var warm stats
	for _, s := range sellers {
		if _, err := upload(s); err != nil {
			warm.fail(err.Error())
		}
	}
	out, err := r.load.CPU.measure(func() (stats, error) {
		var (
			mu  sync.Mutex
			lat []time.Duration
			bad stats
			wg  sync.WaitGroup
		)
		t0 := time.Now()
		deadline := t0.Add(r.load.Duration)
		for _, s := range sellers {
			wg.Go(func() {
				for time.Now().Before(deadline) && ctx.Err() == nil {
					took, err := upload(s)
					mu.Lock()
					if err != nil {
						bad.fail(err.Error())
					} else {
						lat = append(lat, took)
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		s := exact(name, lat, time.Since(t0))
		s.Errors, s.FirstErrors = bad.Errors, bad.FirstErrors
		return s, ctx.Err()
	})
	if err != nil {
		return err
	}
	out.absorb(warm)
	r.rep.note(fmt.Sprintf("%s: req/s = uploads a second (each decoded, re-encoded, thumbnailed at 160/480/960 px and "+
		"stored on the server's MEDIA_DIR); p99 of the whole upload", name))
	return emit(out)
}

// benchPhoto is a JPEG of about size bytes: a noisy picture, as a photo is, grown until its
// encoding reaches size.
func benchPhoto(size int) ([]byte, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	for w := 1200; ; w = w * 11 / 10 {
		h := w * 3 / 4
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				n := uint8(rng.IntN(64))
				img.SetRGBA(x, y, color.RGBA{R: uint8(x*200/w) + n, G: uint8(y*200/h) + n, B: 90 + n, A: 255})
			}
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 92}); err != nil {
			return nil, err
		}
		if buf.Len() >= size || w > 6000 {
			return buf.Bytes(), nil
		}
	}
}
