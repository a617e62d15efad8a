package web

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"
)

// The revenue chart is SVG drawn here, on the server, inline in the page: no script, no
// request of its own, nothing for the CSP to allow. Each day is a point with a <title> (the
// browser's own tooltip: the day and its revenue), so the figures stay readable without JS.

// chartPoint is one day of the chart.
type chartPoint struct {
	Day   time.Time
	Value int64
}

// Chart geometry, in the SVG's own units; the SVG scales to its container's width.
const (
	chartW, chartH    = 560, 260
	padLeft, padRight = 58, 14
	padTop, padBottom = 12, 32
	plotW, plotH      = chartW - padLeft - padRight, chartH - padTop - padBottom
	chartTicks        = 4
	chartLabelEvery   = 7 // a day label a week
	chartID           = "revenue-chart"
)

// niceCeil is the smallest 1, 2 or 5 times a power of ten at or above v (1 for v <= 0), so
// the axis's gridlines fall on round figures.
func niceCeil(v int64) int64 {
	if v <= 0 {
		return 1
	}
	mag := int64(math.Pow10(int(math.Floor(math.Log10(float64(v))))))
	for _, m := range []int64{1, 2, 5, 10} {
		if m*mag >= v {
			return m * mag
		}
	}
	return 10 * mag
}

// chartFigure writes an axis figure briefly, as the language does: 1,5tr or 1.5M, 250k, 0.
func chartFigure(v int64, t *sellerTexts) string {
	short := func(format string, unit float64) string {
		return strings.Replace(format, "%s", t.sprintf("%.4g", float64(v)/unit), 1)
	}
	switch {
	case v >= 1_000_000_000:
		return short(t.Billions, 1e9)
	case v >= 1_000_000:
		return short(t.Millions, 1e6)
	case v >= 1_000:
		return short(t.Thousands, 1e3)
	}
	return t.number(v)
}

// revenueChart draws the days as a line over a shaded area, with gridlines and labels.
func revenueChart(points []chartPoint, t *sellerTexts) template.HTML {
	var top int64
	for _, p := range points {
		top = max(top, p.Value)
	}
	top = niceCeil(top)
	x := func(i int) float64 {
		if len(points) < 2 {
			return padLeft + plotW/2
		}
		return padLeft + float64(i)*plotW/float64(len(points)-1)
	}
	y := func(v int64) float64 { return padTop + plotH - float64(v)/float64(top)*plotH }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg id="%s" class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-title" xmlns="http://www.w3.org/2000/svg">`,
		chartID, chartW, chartH, chartID)
	fmt.Fprintf(&b, `<title id="%s-title">%s</title>`, chartID, template.HTMLEscapeString(t.ChartLabel))
	for i := 0; i <= chartTicks; i++ {
		v := top * int64(i) / chartTicks
		gy := y(v)
		fmt.Fprintf(&b, `<line class="gridline" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, padLeft, chartW-padRight, gy, gy)
		fmt.Fprintf(&b, `<text class="ylabel" x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`,
			padLeft-6, gy, template.HTMLEscapeString(chartFigure(v, t)))
	}
	if len(points) > 0 {
		var line strings.Builder
		for i, p := range points {
			cmd := "L"
			if i == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&line, "%s%.1f %.1f ", cmd, x(i), y(p.Value))
		}
		d := strings.TrimSpace(line.String())
		fmt.Fprintf(&b, `<path class="area" d="%s L%.1f %.1f L%.1f %.1f Z"/>`, d, x(len(points)-1), y(0), x(0), y(0))
		fmt.Fprintf(&b, `<path class="line" d="%s"/>`, d)
		for i, p := range points {
			fmt.Fprintf(&b, `<circle class="dot" cx="%.1f" cy="%.1f" r="3"><title>%s: %s</title></circle>`, x(i), y(p.Value),
				template.HTMLEscapeString(p.Day.Format(t.Date)), template.HTMLEscapeString(t.money(p.Value)))
			last := i == len(points)-1
			if (i%chartLabelEvery == 0 && len(points)-1-i >= chartLabelEvery/2) || last {
				anchor := "middle"
				if last && i > 0 {
					anchor = "end" // inside the picture, not cut at its edge
				}
				fmt.Fprintf(&b, `<text class="xlabel" x="%.1f" y="%d" text-anchor="%s">%s</text>`, x(i), chartH-8, anchor,
					template.HTMLEscapeString(p.Day.Format(t.DayMonth)))
			}
		}
	}
	b.WriteString(`</svg>`)
	// Every value written into the markup above is a number or passed through HTMLEscapeString.
	return template.HTML(b.String()) //nolint:gosec // built from numbers and escaped text only
}
