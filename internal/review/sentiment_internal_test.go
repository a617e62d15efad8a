package review

import (
	"fmt"
	"hash/fnv"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type labelled struct{ label, lang, text string }

// readSet reads a labelled file of testdata/sentiment and checks it keeps to the split rule:
// the held-out third is the reviews whose text's FNV-1a 32-bit hash is 0 mod 3.
func readSet(t *testing.T, name string, heldOut bool) []labelled {
	t.Helper()
	raw, err := os.ReadFile("testdata/sentiment/" + name)
	require.NoError(t, err)
	var out []labelled
	for _, line := range strings.Split(string(raw), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		require.Len(t, f, 3, line)
		h := fnv.New32a()
		h.Write([]byte(f[2]))
		require.Equal(t, heldOut, h.Sum32()%3 == 0, "%s is in the wrong file", f[2])
		out = append(out, labelled{f[0], f[1], f[2]})
	}
	return out
}

// evaluate labels a set and returns the accuracy, the confusion matrix (rows: truth, columns:
// prediction) and the mistakes.
func evaluate(set []labelled) (float64, string, []string) {
	labels := []string{Positive, Neutral, Negative}
	conf := map[[2]string]int{}
	right := 0
	var wrong []string
	for _, r := range set {
		got := analyze(r.text)
		conf[[2]string{r.label, got.Label}]++
		if got.Label == r.label {
			right++
		} else {
			wrong = append(wrong, fmt.Sprintf("%s -> %s (%.2f) [%s] %s", r.label, got.Label, got.Score, r.lang, r.text))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-12s%10s%10s%10s\n", "truth\\got", labels[0], labels[1], labels[2])
	for _, tr := range labels {
		fmt.Fprintf(&b, "%-12s%10d%10d%10d\n", tr, conf[[2]string{tr, labels[0]}], conf[[2]string{tr, labels[1]}], conf[[2]string{tr, labels[2]}])
	}
	return float64(right) / float64(len(set)), b.String(), wrong
}

// TestSentimentOnTheTrainingSet is what the lexicon was tuned against.
func TestSentimentOnTheTrainingSet(t *testing.T) {
	t.Parallel()
	acc, conf, wrong := evaluate(readSet(t, "train.tsv", false))
	t.Logf("training set: accuracy %.1f%%\n%s", acc*100, conf)
	for _, w := range wrong {
		t.Log(w)
	}
	assert.GreaterOrEqual(t, acc, 0.85)
}

// TestSentimentOnTheHeldOutSet measures the lexicon on reviews it was not tuned on.
func TestSentimentOnTheHeldOutSet(t *testing.T) {
	t.Parallel()
	set := readSet(t, "heldout.tsv", true)
	acc, conf, _ := evaluate(set)
	t.Logf("held-out set (%d reviews): accuracy %.1f%%\n%s", len(set), acc*100, conf)
	assert.GreaterOrEqual(t, acc, 0.85)
}

func TestSentimentRules(t *testing.T) {
	t.Parallel()
	label := func(s string) string { return analyze(s).Label }
	score := func(s string) float64 { return analyze(s).Score }
	for text, want := range map[string]string{
		"tốt": Positive, "không tốt": Negative, "khong tot": Negative, "ko tốt": Negative, "k tot": Negative,
		"chẳng đẹp": Negative, "chang dep": Negative, "not bad": Positive, "not good": Negative, "bad": Negative,
		"sp tốt": Positive, "sp đc lắm": Positive, "ship nhanh": Positive, "hàng không được như hình": Negative, "Đã nhận hàng": Neutral,
	} {
		assert.Equal(t, want, label(text), text)
	}
	assert.Greater(t, score("rất tốt"), score("tốt"), "rất strengthens")
	assert.Greater(t, score("tốt"), score("hơi tốt"), "hơi softens")
	assert.Greater(t, score("very good"), score("good"))
	assert.Less(t, score("quá tệ"), score("tệ"))
	assert.Greater(t, score("đẹp lắm"), score("đẹp"), "lắm after the word")
	assert.Equal(t, score("giao hàng rất nhanh"), score("giao hang rat nhanh"), "with and without diacritics alike")

	s := analyze("Giao hàng nhanh, nhưng đóng gói sơ sài")
	assert.Greater(t, s.Aspects["delivery"], 0.0)
	assert.Less(t, s.Aspects["packaging"], 0.0)
	s = analyze("Fast shipping, but the product quality is poor and overpriced")
	assert.Greater(t, s.Aspects["delivery"], 0.0)
	assert.Less(t, s.Aspects["quality"], 0.0)
	assert.Less(t, s.Aspects["price"], 0.0)
	assert.Equal(t, Negative, s.Label, "what follows but counts more")
}
