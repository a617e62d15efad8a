package events

import "time"

// AnalyticsExportReady is published when a report's export has been written and may be
// downloaded: the one who asked for it is told where.
type AnalyticsExportReady struct {
	ExportID string `json:"export_id"`
	ShopID   string `json:"shop_id"`
	// UserID is who asked for the export, the only one (with admins) who may download it.
	UserID string `json:"user_id"`
	Report string `json:"report"`
	Format string `json:"format"`
	Rows   int64  `json:"rows"`
	// URL is the API path the file is downloaded from.
	URL string    `json:"url"`
	At  time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (AnalyticsExportReady) Topic() string { return "analytics.export_ready" }
