package analytics

import (
	"context"

	"github.com/google/uuid"
)

// WriteExport runs an export's job once more, as River would after a crash or a retry.
func (s *Service) WriteExport(ctx context.Context, id uuid.UUID) error { return s.writeExport(ctx, id) }

// Record records the orders' facts and marks their days, what every delivery of an event
// naming them does, without the recompute it leaves to the recomputer.
func (s *Service) Record(ctx context.Context, ids ...uuid.UUID) error {
	_, err := s.record(ctx, ids)
	return err
}
