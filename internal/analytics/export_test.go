package analytics

import (
	"context"

	"github.com/google/uuid"
)

// WriteExport runs an export's job once more, as River would after a crash or a retry.
func (s *Service) WriteExport(ctx context.Context, id uuid.UUID) error { return s.writeExport(ctx, id) }
