package geo

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// foldAccents returns s without Vietnamese diacritics: tones and vowel marks go with the
// decomposed combining marks, and đ, which Unicode does not decompose, is mapped by hand.
// ASCII has nothing to fold; other text goes through a chain taken from folders.
func foldAccents(s string) string {
	if isASCII(s) {
		return s
	}
	t := folders.Get().(transform.Transformer)
	defer folders.Put(t)
	out, _, err := transform.String(t, s) // String resets t first
	if err != nil {
		return s
	}
	return out
}

// folders keeps accent-folding chains for reuse: a chain keeps buffers, so one serves one
// caller at a time, and building one at every fold cost more than the fold (a checkout folds
// its shops' and its buyer's provinces).
var folders = sync.Pool{New: func() any {
	return transform.Chain(
		norm.NFD,
		runes.Remove(runes.In(unicode.Mn)),
		runes.Map(func(r rune) rune {
			switch r {
			case 'đ':
				return 'd'
			case 'Đ':
				return 'D'
			}
			return r
		}),
		norm.NFC,
	)
}}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Fold is the comparison form of a place name: no accents, lower case, punctuation as
// spaces, letters and digits split ("Q1" -> "q 1"), single spaces. "Hà Nội", "HA NOI" and
// "ha-noi" all fold to "ha noi".
func Fold(s string) string {
	s = strings.ToLower(foldAccents(s))
	var b strings.Builder
	b.Grow(len(s))
	var prev rune // last rune written; ' ' at a word boundary
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if prev != 0 && prev != ' ' && unicode.IsDigit(r) != unicode.IsDigit(prev) {
				b.WriteByte(' ')
			}
			b.WriteRune(r)
			prev = r
		default:
			if prev != 0 && prev != ' ' {
				b.WriteByte(' ')
				prev = ' '
			}
		}
	}
	return strings.TrimSpace(b.String())
}

// The administrative words people put before (or, in English, after) a name, folded. Longer
// ones come first so that "thanh pho" is taken whole before any one-word prefix is tried.
var (
	provincePrefixes = [][]string{{"thanh", "pho"}, {"tinh"}, {"tp"}}
	districtPrefixes = [][]string{{"thanh", "pho"}, {"thi", "xa"}, {"quan"}, {"huyen"}, {"tp"}, {"tx"}, {"q"}, {"h"}, {"district"}}
	englishSuffixes  = []string{"city", "province", "district", "town", "ward", "commune"}
)

// stripAdmin removes one leading administrative prefix and trailing English suffixes from
// the folded words, never leaving nothing: a place called only "Quận" stays "quan".
func stripAdmin(words []string, prefixes [][]string) []string {
	for _, p := range prefixes {
		if len(words) > len(p) && equalWords(words[:len(p)], p) {
			words = words[len(p):]
			break
		}
	}
	for len(words) > 1 && contains(englishSuffixes, words[len(words)-1]) {
		words = words[:len(words)-1]
	}
	return words
}

func equalWords(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func contains(list []string, w string) bool {
	for _, x := range list {
		if x == w {
			return true
		}
	}
	return false
}

// key is the lookup form of a name: folded, administrative words stripped, spaces removed,
// so that "TP. Hồ Chí Minh", "Ho Chi Minh City" and "hochiminh" meet, as do "Hanoi" and
// "Hà Nội".
func key(s string, prefixes [][]string) string {
	return strings.Join(stripAdmin(strings.Fields(Fold(s)), prefixes), "")
}

func provinceKey(s string) string { return key(s, provincePrefixes) }
func districtKey(s string) string { return key(s, districtPrefixes) }

// cleanName trims and collapses the white space of a name as typed, keeping its accents.
func cleanName(s string) string { return strings.Join(strings.Fields(s), " ") }
