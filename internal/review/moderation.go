package review

import (
	_ "embed"
	"regexp"
	"strings"
	"unicode"
)

// Moderation flags: why the rules held a review for a moderator.
const (
	FlagWords   = "words"
	FlagLink    = "link"
	FlagPhone   = "phone"
	FlagReports = "reports"
)

//go:embed data/blocklist.txt
var blocklistFile string

// blocklist is the block list's entries, lowercased, each a sequence of words.
var blocklist = loadBlocklist(blocklistFile)

func loadBlocklist(src string) [][]string {
	var out [][]string
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, strings.Fields(strings.ToLower(line)))
	}
	return out
}

var (
	// linkRe finds URLs and bare domain names a buyer could be sent to.
	linkRe = regexp.MustCompile(`(?i)(https?://|www\.|\b[a-z0-9-]+\.(com|net|org|vn|io|xyz|shop|info|me|link|ly|co)\b)`)
	// phoneRe finds Vietnamese phone numbers (0 or +84 and nine digits), spaced, dotted or dashed.
	phoneRe = regexp.MustCompile(`(\+?84|\b0)([\s.\-]?\d){9}\b`)
)

// moderate returns the rules' flags for a review's text: none means it is published at once.
func moderate(text string) []string {
	flags := []string{}
	if hasBlockedWords(text) {
		flags = append(flags, FlagWords)
	}
	if linkRe.MatchString(text) {
		flags = append(flags, FlagLink)
	}
	if phoneRe.MatchString(text) {
		flags = append(flags, FlagPhone)
	}
	return flags
}

// hasBlockedWords reports whether the text holds a block list entry as whole words. The text
// keeps its diacritics: "lon" (unaccented) would otherwise match the innocent "lớn" (big).
func hasBlockedWords(text string) bool {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for i := range words {
		for _, entry := range blocklist {
			if i+len(entry) > len(words) {
				continue
			}
			match := true
			for j, w := range entry {
				if words[i+j] != w {
					match = false
					break
				}
			}
			if match {
				return true
			}
		}
	}
	return false
}
