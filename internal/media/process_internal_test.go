package media

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"testing"
)

// photo is a noisy w×h JPEG, as a phone photo is to an encoder.
func photo(tb testing.TB, w, h int) []byte {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			n := uint8(rng.IntN(64))
			img.SetRGBA(x, y, color.RGBA{R: uint8(x*200/w) + n, G: uint8(y*200/h) + n, B: 90 + n, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 92}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestThumbnailsAreMadeNarrowestFirstInOrder(t *testing.T) {
	p, err := processImage(photo(t, 1000, 500), 40e6, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, th := range p.thumbs {
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(th.data))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Width != th.width || cfg.Height != th.width/2 {
			t.Errorf("thumbnail %d is %d×%d", th.width, cfg.Width, cfg.Height)
		}
		got = append(got, th.width)
	}
	if len(got) != 3 || got[0] != 160 || got[1] != 480 || got[2] != 960 {
		t.Errorf("thumbnails %v, want [160 480 960]", got)
	}
}

// BenchmarkProcessPhoto is the work of one upload of a 2400×1800 photo (about 2 MB).
func BenchmarkProcessPhoto(b *testing.B) {
	data := photo(b, 2400, 1800)
	b.Logf("%d bytes", len(data))
	for b.Loop() {
		if _, err := processImage(data, 40e6, 10000); err != nil {
			b.Fatal(err)
		}
	}
}
