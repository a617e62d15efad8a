package review

import (
	_ "embed"
	"math"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Sentiment is read from a review's text when it is written, with a lexicon of our own
// (data/lexicon.tsv, where its source is noted), in Vietnamese and English:
//   - the text is folded (lowercase, diacritics dropped, đ as d), and so is the lexicon, so
//     "không tốt" and "khong tot" read alike; shorthand is expanded (ko, k -> không; dc, đc ->
//     được; sp -> sản phẩm);
//   - each sentiment word or phrase (the longest match wins: "tạm được" before "được") adds its
//     polarity, multiplied by an intensifier before it ("rất", "quá", "very"; "hơi" softens) or
//     after it ("đẹp lắm"), and flipped and damped by a negator up to three words before it in
//     its clause ("không tốt", "chẳng đẹp", "not bad": -0.75 times);
//   - after a turning word ("nhưng", "but") a clause counts 1.5 times, and before it half;
//   - the sum s becomes the score s/sqrt(s²+15) in -1..1 (the normalisation VADER uses);
//   - the label is positive above NeutralBand, negative below -NeutralBand, neutral between;
//   - each aspect (delivery, packaging, quality, price, service) named in a clause takes that
//     clause's sentiment: "giao hàng nhanh, đóng gói sơ sài" praises delivery and blames packaging.

// NeutralBand is the half-width of the neutral band: a score within ±NeutralBand is neutral.
// Tuned on the training two thirds of testdata/sentiment (see sentiment_test.go).
const NeutralBand = 0.2

//go:embed data/lexicon.tsv
var lexiconFile string

var lex = loadLexicon(lexiconFile)

type lexicon struct {
	words   map[string]float64
	neg     map[string]bool
	ints    map[string]float64
	post    map[string]float64
	buts    map[string]bool
	short   map[string][]string
	aspects map[string]string
	maxLen  int
}

// fold lowercases s and drops its diacritics (đ becomes d).
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == 'đ':
			b.WriteRune('d')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' })
}

func loadLexicon(src string) *lexicon {
	l := &lexicon{words: map[string]float64{}, neg: map[string]bool{}, ints: map[string]float64{}, post: map[string]float64{},
		buts: map[string]bool{}, short: map[string][]string{}, aspects: map[string]string{}}
	for n, line := range strings.Split(src, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			panic("review: lexicon line " + strconv.Itoa(n+1) + ": want kind<TAB>term<TAB>value")
		}
		term := strings.Join(words(fold(f[1])), " ")
		l.maxLen = max(l.maxLen, len(strings.Fields(term)))
		num := func() float64 {
			v, err := strconv.ParseFloat(f[2], 64)
			if err != nil {
				panic("review: lexicon line " + strconv.Itoa(n+1) + ": " + err.Error())
			}
			return v
		}
		switch f[0] {
		case "word":
			l.words[term] = num()
		case "neg":
			l.neg[term] = true
		case "int":
			l.ints[term] = num()
		case "post":
			l.post[term] = num()
		case "but":
			l.buts[term] = true
		case "short":
			l.short[term] = words(fold(f[2]))
		case "aspect":
			l.aspects[term] = f[2]
		default:
			panic("review: lexicon line " + strconv.Itoa(n+1) + ": unknown kind " + f[0])
		}
	}
	return l
}

// match finds the longest term of m starting at tokens[i]; n is its length in tokens (0: none).
func match[V any](l *lexicon, m map[string]V, tokens []string, i int) (v V, n int) {
	for k := min(l.maxLen, len(tokens)-i); k > 0; k-- {
		if got, ok := m[strings.Join(tokens[i:i+k], " ")]; ok {
			return got, k
		}
	}
	return v, 0
}

// clauses splits folded text at punctuation into clauses of expanded tokens.
func (l *lexicon) clauses(text string) [][]string {
	var out [][]string
	for _, c := range strings.FieldsFunc(fold(text), func(r rune) bool { return strings.ContainsRune(".!?;,\n()", r) }) {
		var toks []string
		for _, w := range words(c) {
			if exp, ok := l.short[w]; ok {
				toks = append(toks, exp...)
			} else {
				toks = append(toks, w)
			}
		}
		if len(toks) > 0 {
			out = append(out, toks)
		}
	}
	return out
}

// analyze reads a review's sentiment.
func analyze(text string) Sentiment {
	l := lex
	total := 0.0
	aspects := map[string]float64{}
	for _, toks := range l.clauses(text) {
		sum, turned := l.clause(toks)
		if turned >= 0 {
			sum = 0.5*l.clauseSum(toks[:turned]) + 1.5*l.clauseSum(toks[turned:])
		}
		total += sum
		for i := 0; i < len(toks); {
			a, n := match(l, l.aspects, toks, i)
			if n == 0 {
				i++
				continue
			}
			aspects[a] += sum
			i += n
		}
	}
	out := Sentiment{Score: round2(total / math.Sqrt(total*total+15)), Label: Neutral, Aspects: map[string]float64{}}
	switch {
	case out.Score > NeutralBand:
		out.Label = Positive
	case out.Score < -NeutralBand:
		out.Label = Negative
	}
	for a, s := range aspects {
		out.Aspects[a] = round2(s / math.Sqrt(s*s+4))
	}
	return out
}

// clause returns a clause's sum and where a turning word splits it (-1: none).
func (l *lexicon) clause(toks []string) (float64, int) {
	for i := range toks {
		if _, n := match(l, l.buts, toks, i); n > 0 && i > 0 {
			return 0, i
		}
	}
	return l.clauseSum(toks), -1
}

// clauseSum adds the polarities of a run of tokens, with negators and intensifiers.
func (l *lexicon) clauseSum(toks []string) float64 {
	sum, boost := 0.0, 1.0
	negAt, boostAt, last := -10, -10, -10
	lastVal := 0.0
	for i := 0; i < len(toks); {
		wv, wn := match(l, l.words, toks, i)
		iv, in := match(l, l.ints, toks, i)
		pv, pn := match(l, l.post, toks, i)
		_, nn := match(l, l.neg, toks, i)
		switch {
		case pn > 0 && last == i-1 && pn >= wn:
			// An intensifier after the word it strengthens ("đẹp quá").
			sum += lastVal * (pv - 1)
			lastVal *= pv
			i += pn
		case in > 0 && in >= wn && l.wordWithin(toks, i+in, 2):
			boost, boostAt = iv, i+in
			i += in
		case wn > 0 && wn >= nn:
			v := wv
			if boostAt >= i-2 {
				v *= boost
			}
			if negAt >= i-3 {
				v *= -0.75
			}
			sum += v
			lastVal, last = v, i+wn-1
			i += wn
		case nn > 0:
			negAt = i + nn - 1
			i += nn
		default:
			i++
		}
	}
	return sum
}

// wordWithin reports whether a sentiment word starts within k tokens from i.
func (l *lexicon) wordWithin(toks []string, i, k int) bool {
	for j := i; j < len(toks) && j < i+k; j++ {
		if _, n := match(l, l.words, toks, j); n > 0 {
			return true
		}
	}
	return false
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }
