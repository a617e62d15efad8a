package search

import (
	"encoding/json"
	"strings"
	"unicode"

	"github.com/google/uuid"
	"golang.org/x/text/unicode/norm"

	"github.com/goshop/goshop/internal/platform/apperr"
)

// Sorts of search results.
const (
	SortRelevance   = "relevance"
	SortPriceAsc    = "price_asc"
	SortPriceDesc   = "price_desc"
	SortNewest      = "newest"
	SortRating      = "rating"
	SortBestSelling = "best_selling"
	SortDistance    = "distance"
)

// Filters narrow a search; the names are the product list's, extended, everywhere: query
// parameters, the `filters` JSON object and the advanced search body.
type Filters struct {
	CategoryID *uuid.UUID `json:"category" query:"category" doc:"only this category and its subcategories, to any depth"`
	ShopID     *uuid.UUID `json:"shop" query:"shop" doc:"only this shop's products"`
	Brand      string     `json:"brand" query:"brand" validate:"max=100" doc:"only this brand (any case)"`
	Model      string     `json:"model" query:"model" validate:"max=100" doc:"only this model (any case)"`
	MinPrice   *int64     `json:"min_price" query:"min_price" validate:"omitempty,min=0,max=1000000000000" doc:"lowest effective price, in minor units"`
	MaxPrice   *int64     `json:"max_price" query:"max_price" validate:"omitempty,min=0,max=1000000000000" doc:"highest effective price, in minor units"`
	MinRating  *float64   `json:"min_rating" query:"min_rating" validate:"omitempty,min=0,max=5" doc:"lowest product rating"`
	InStock    *bool      `json:"in_stock" query:"in_stock" doc:"only products in stock (true) or out of it (false)"`
	Province   string     `json:"province" query:"province" validate:"max=100" doc:"only shops in this province (accents and case ignored)"`
	Lat        *float64   `json:"lat" query:"lat" validate:"omitempty,min=-90,max=90" doc:"latitude of the buyer, for radius_km and sort=distance"`
	Lng        *float64   `json:"lng" query:"lng" validate:"omitempty,min=-180,max=180" doc:"longitude of the buyer"`
	RadiusKM   *float64   `json:"radius_km" query:"radius_km" validate:"omitempty,gt=0,max=5000" doc:"only shops within this distance of lat/lng"`
	// Attrs are attribute filters, name to value (both compared without accents or case).
	Attrs map[string]string `json:"attributes" query:"-" validate:"max=20,dive,keys,max=100,endkeys,max=200"`
}

// Query is what an engine searches: the words of the query (or of an advanced query), the
// filters and the sort.
type Query struct {
	// Text is the query as typed, normalised to NFC.
	Text string
	// Advanced, when set, replaces Text.
	Advanced *Advanced
	Filters
	Sort string
}

// Advanced is a structured query: every one of AllOf, at least one of AnyOf, none of NoneOf,
// the Phrase as written (words in a row), and words that must be in a given field.
type Advanced struct {
	AllOf  []string    `json:"all_of" validate:"max=20,dive,max=100"`
	AnyOf  []string    `json:"any_of" validate:"max=20,dive,max=100"`
	NoneOf []string    `json:"none_of" validate:"max=20,dive,max=100"`
	Phrase string      `json:"phrase" validate:"max=200"`
	Fields *FieldTerms `json:"fields"`
}

// FieldTerms are words that must appear in one field of the product.
type FieldTerms struct {
	Title       string `json:"title" validate:"max=200"`
	Brand       string `json:"brand" validate:"max=100"`
	Model       string `json:"model" validate:"max=100"`
	Category    string `json:"category" validate:"max=100"`
	Description string `json:"description" validate:"max=200"`
}

// words splits text into lower-case words (NFC), on anything that is not a letter or a digit.
func words(text string) []string {
	text = strings.ToLower(norm.NFC.String(text))
	return strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// vocabularyWord says whether w belongs in the vocabulary autocomplete and "did you mean" read:
// not a bare number (sizes, years, model numbers in titles), which would swamp it (a catalog's
// "Sản phẩm mẫu 1..100000" alone is 100,000 of them) and which no one needs completed or
// corrected.
func vocabularyWord(w string) bool {
	return strings.ContainsFunc(w, func(r rune) bool { return !unicode.IsDigit(r) })
}

// maxWords bounds the words a query is made of.
const maxWords = 20

// lexeme quotes a word for to_tsquery; words hold only letters and digits, so no quote can be
// in one.
func lexeme(w, weight string) string {
	if weight != "" {
		return "'" + w + "':" + weight
	}
	return "'" + w + "'"
}

// phrase is the words in a row.
func phrase(ws []string, weight string) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = lexeme(w, weight)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, " <-> ") + ")"
}

// tsquery builds the text of a tsquery from the query: every word must match (or one of its
// synonyms' phrases). "" when the query has no words.
func (q Query) tsquery(synonyms map[string]string) string {
	if q.Advanced != nil {
		return q.Advanced.tsquery(synonyms)
	}
	return allOf(words(q.Text), synonyms, "")
}

func withSynonym(w string, synonyms map[string]string, weight string) string {
	if exp, ok := synonyms[w]; ok {
		return "(" + lexeme(w, weight) + " | " + phrase(words(exp), weight) + ")"
	}
	return lexeme(w, weight)
}

func allOf(ws []string, synonyms map[string]string, weight string) string {
	if len(ws) > maxWords {
		ws = ws[:maxWords]
	}
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = withSynonym(w, synonyms, weight)
	}
	return strings.Join(parts, " & ")
}

func (a Advanced) tsquery(synonyms map[string]string) string {
	var parts []string
	add := func(s string) {
		if s != "" {
			parts = append(parts, s)
		}
	}
	for _, t := range a.AllOf {
		add(allOf(words(t), synonyms, ""))
	}
	var any []string
	for _, t := range a.AnyOf {
		if s := allOf(words(t), synonyms, ""); s != "" {
			any = append(any, "("+s+")")
		}
	}
	if len(any) > 0 {
		add("(" + strings.Join(any, " | ") + ")")
	}
	if ws := words(a.Phrase); len(ws) > 0 {
		add(phrase(ws, ""))
	}
	if f := a.Fields; f != nil {
		add(allOf(words(f.Title), synonyms, "A"))
		add(allOf(words(f.Brand), synonyms, "B"))
		add(allOf(words(f.Model), synonyms, "B"))
		add(allOf(words(f.Category), synonyms, "B"))
		add(allOf(words(f.Description), synonyms, "D"))
	}
	if len(parts) > 0 { // none_of only narrows a query that matches something
		for _, t := range a.NoneOf {
			for _, w := range words(t) {
				parts = append(parts, "!"+lexeme(w, ""))
			}
		}
	}
	return strings.Join(parts, " & ")
}

// allWords are the words of the query that synonyms and corrections look at.
func (q Query) allWords() []string {
	if q.Advanced == nil {
		return words(q.Text)
	}
	a := q.Advanced
	var out []string
	for _, t := range append(append(append([]string{}, a.AllOf...), a.AnyOf...), a.Phrase) {
		out = append(out, words(t)...)
	}
	if f := a.Fields; f != nil {
		for _, t := range []string{f.Title, f.Brand, f.Model, f.Category, f.Description} {
			out = append(out, words(t)...)
		}
	}
	return out
}

// check refuses what the filters and sort cannot mean together.
func (q *Query) check() error {
	if q.Sort == "" {
		q.Sort = SortNewest
		if q.tsquery(nil) != "" {
			q.Sort = SortRelevance
		}
	}
	f := q.Filters
	switch {
	case f.MinPrice != nil && f.MaxPrice != nil && *f.MinPrice > *f.MaxPrice:
		return apperr.Field("min_price", "must not be above max_price")
	case (f.Lat == nil) != (f.Lng == nil):
		return apperr.Field("lat", "lat and lng go together")
	case f.RadiusKM != nil && f.Lat == nil:
		return apperr.Field("radius_km", "needs lat and lng")
	case q.Sort == SortDistance && f.Lat == nil:
		return apperr.Field("sort", "distance needs lat and lng")
	}
	for k := range f.Attrs {
		if len(words(k)) == 0 {
			return apperr.Field("attr."+k, "names no attribute")
		}
	}
	return nil
}

// attrPair is how an attribute filter and a document's attribute meet: folded name=value.
func attrPair(name, value string) string {
	return strings.Join(words(name), " ") + "=" + strings.Join(words(value), " ")
}

// documentAttrs turns a product's attributes into the pairs filters match (an array gives one
// pair per element) and the text search reads.
func documentAttrs(attrs map[string]json.RawMessage) (pairs []string, text string) {
	var sb strings.Builder
	for name, raw := range attrs {
		var v any
		if json.Unmarshal(raw, &v) != nil {
			continue
		}
		vals := []any{v}
		if arr, ok := v.([]any); ok {
			vals = arr
		}
		for _, x := range vals {
			var s string
			switch t := x.(type) {
			case string:
				s = t
			case float64, bool:
				b, _ := json.Marshal(t)
				s = string(b)
			default:
				continue
			}
			pairs = append(pairs, attrPair(name, s))
			sb.WriteString(s)
			sb.WriteByte(' ')
		}
	}
	return pairs, strings.TrimSpace(sb.String())
}
