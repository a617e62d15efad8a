// Package fonts holds the fonts GoShop embeds for the PDFs it makes (shipping labels, shop
// reports): the PDF core fonts have no Vietnamese letters, so every PDF registers one of these.
package fonts

import _ "embed" // the font files

// DejaVuSansCondensed is DejaVu Sans Condensed (Bitstream Vera licence, LICENSE-DejaVu.txt):
// it covers Vietnamese, stacked tone marks included, which the Go fonts lack. Callers must not
// change the slice.
//
//go:embed DejaVuSansCondensed.ttf
var DejaVuSansCondensed []byte
