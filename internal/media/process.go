package media

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/disintegration/imaging"
	"github.com/gabriel-vasile/mimetype"
	_ "golang.org/x/image/webp" // registers WebP with image.DecodeConfig and image.Decode

	"github.com/goshop/goshop/internal/platform/apperr"
)

// ThumbnailWidths are the widths thumbnails are made at, narrowest first; an image narrower
// than a width gets no thumbnail of it (it is never enlarged).
var ThumbnailWidths = []int{160, 480, 960}

// jpegQuality is what stored JPEGs are encoded at.
const jpegQuality = 85

// sniffBytes is how much of the start of an upload its type is read from.
const sniffBytes = 3072

// accepted maps the types read from the bytes to the kind of media they are.
var accepted = map[string]Kind{
	"image/jpeg": KindImage, "image/png": KindImage, "image/webp": KindImage,
	"video/mp4": KindVideo, "video/webm": KindVideo,
}

// sniff reads the type of an upload from its first bytes, never its name or header.
func sniff(head []byte) (string, Kind, error) {
	mt := mimetype.Detect(head)
	for m := mt; m != nil; m = m.Parent() {
		if k, ok := accepted[m.String()]; ok {
			return m.String(), k, nil
		}
	}
	return "", "", apperr.Field("file", fmt.Sprintf("must be a JPEG, PNG or WebP image or an MP4 or WebM video; its bytes are %s",
		strings.SplitN(mt.String(), ";", 2)[0]))
}

// processed is an image made ready to store: the re-encoded original and its thumbnails.
type processed struct {
	contentType   string
	ext           string
	data          []byte
	width, height int
	thumbs        []thumb
}

type thumb struct {
	width int
	data  []byte
}

// processImage checks the image's dimensions from its header before anything is decoded (a
// small file may claim a huge canvas), decodes it (turned upright by its EXIF orientation), and
// re-encodes it: JPEG, or PNG when it has transparency. Nothing of the upload but its pixels is
// kept, so EXIF (GPS positions, camera serials) never reaches anyone. Thumbnails are made too.
func processImage(data []byte, maxPixels int64, maxSide int) (processed, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return processed{}, apperr.Field("file", "is not a readable image: "+err.Error())
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return processed{}, apperr.Field("file", "is an image without pixels")
	}
	if cfg.Width > maxSide || cfg.Height > maxSide || int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return processed{}, apperr.Field("file", fmt.Sprintf("is %d×%d pixels; at most %d pixels a side and %d in all are accepted",
			cfg.Width, cfg.Height, maxSide, maxPixels))
	}
	img, err := imaging.Decode(bytes.NewReader(data), imaging.AutoOrientation(true))
	if err != nil {
		return processed{}, apperr.Field("file", "is a damaged or truncated image: "+err.Error())
	}
	out := processed{width: img.Bounds().Dx(), height: img.Bounds().Dy()}
	transparent := !opaque(img)
	encode := func(m image.Image) ([]byte, error) {
		var buf bytes.Buffer
		var err error
		if transparent {
			err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, m)
		} else {
			err = jpeg.Encode(&buf, m, &jpeg.Options{Quality: jpegQuality})
		}
		return buf.Bytes(), err
	}
	out.contentType, out.ext = "image/jpeg", ".jpg"
	if transparent {
		out.contentType, out.ext = "image/png", ".png"
	}
	if out.data, err = encode(img); err != nil {
		return processed{}, fmt.Errorf("media: encode: %w", err)
	}
	// Widest first, each made from the one before: resampling a 12-megapixel photo once rather
	// than three times is most of an upload's time.
	src := img
	for i := len(ThumbnailWidths) - 1; i >= 0; i-- {
		w := ThumbnailWidths[i]
		if w >= out.width {
			continue
		}
		small := imaging.Resize(src, w, 0, imaging.Lanczos)
		t, err := encode(small)
		if err != nil {
			return processed{}, fmt.Errorf("media: encode thumbnail: %w", err)
		}
		out.thumbs = append([]thumb{{width: w, data: t}}, out.thumbs...)
		src = small
	}
	return out, nil
}

// opaque reports whether every pixel is opaque.
func opaque(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if _, _, _, a := img.At(x, y).RGBA(); a != 0xffff {
				return false
			}
		}
	}
	return true
}

// Video tools: ffprobe reads a video's duration and codec, ffmpeg makes its poster frame. Both
// are optional: without them a video is kept as it was sent, without duration or poster.
type videoTools struct {
	ffprobe, ffmpeg string
}

func findVideoTools() videoTools {
	var t videoTools
	t.ffprobe, _ = exec.LookPath("ffprobe")
	t.ffmpeg, _ = exec.LookPath("ffmpeg")
	return t
}

// videoInfo is what ffprobe says of a video.
type videoInfo struct {
	width, height int
	durationMS    *int64
	codec         string
}

// probe reads a video's first video stream and duration. A file ffprobe cannot read, or one
// without a video stream, is refused: it would play nowhere.
func (t videoTools) probe(ctx context.Context, path string) (videoInfo, error) {
	if t.ffprobe == "" {
		return videoInfo{}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, t.ffprobe, "-v", "error", "-print_format", "json", "-show_format",
		"-show_streams", "-select_streams", "v:0", path).Output()
	if ctx.Err() != nil {
		return videoInfo{}, fmt.Errorf("media: ffprobe: %w", ctx.Err())
	}
	var res struct {
		Streams []struct {
			CodecName string `json:"codec_name"`
			Width     int    `json:"width"`
			Height    int    `json:"height"`
			Duration  string `json:"duration"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err != nil || json.Unmarshal(out, &res) != nil || len(res.Streams) == 0 {
		return videoInfo{}, apperr.Field("file", "is not a playable video (no video stream could be read)")
	}
	s := res.Streams[0]
	info := videoInfo{width: s.Width, height: s.Height, codec: s.CodecName}
	for _, d := range []string{res.Format.Duration, s.Duration} {
		if sec, err := strconv.ParseFloat(d, 64); err == nil && sec >= 0 {
			ms := int64(sec * 1000)
			info.durationMS = &ms
			break
		}
	}
	return info, nil
}

// poster writes a JPEG of the frame at half a second in (or the first, for shorter videos).
func (t videoTools) poster(ctx context.Context, video, out string, durationMS *int64) error {
	at := "0.5"
	if durationMS != nil && *durationMS < 1000 {
		at = "0"
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, t.ffmpeg, "-nostdin", "-v", "error", "-y", "-ss", at, "-i", video,
		"-frames:v", "1", "-f", "image2", "-c:v", "mjpeg", out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("media: ffmpeg poster: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	if st, err := os.Stat(out); err != nil || st.Size() == 0 {
		return errors.New("media: ffmpeg made no poster frame")
	}
	return nil
}

// readHead reads the first bytes of r for sniffing and returns a reader of the whole stream.
func readHead(r io.Reader) ([]byte, io.Reader, error) {
	br := bufio.NewReaderSize(r, sniffBytes)
	head, err := br.Peek(sniffBytes)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, nil, err
	}
	return head, br, nil
}
