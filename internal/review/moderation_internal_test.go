package review

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestModerationRules(t *testing.T) {
	t.Parallel()
	for text, want := range map[string][]string{
		"Sản phẩm đẹp, giao nhanh":                        {},
		"cac san pham deu dep, do ngu mac rat em":         {}, // "các", "đồ ngủ" typed without diacritics
		"Áo lớn hơn hình một chút":                        {},
		"Shop lừa đảo, đừng mua":                          {FlagWords},
		"shop lua dao":                                    {FlagWords},
		"đồ súc vật":                                      {FlagWords},
		"What a SCAM, fucking useless":                    {FlagWords},
		"Mua rẻ hơn tại https://example.com/deal":         {FlagLink},
		"vào www.shoprehon.vn nhé":                        {FlagLink},
		"inbox zalo 0901 234 567 để mua sỉ":               {FlagPhone},
		"gọi +84 901.234.567":                             {FlagPhone},
		"giá 250000 đồng, size 42":                        {},
		"scam, see cheap-deals.shop or call 0912-345-678": {FlagWords, FlagLink, FlagPhone},
	} {
		assert.Equal(t, want, moderate(text), text)
	}
}
