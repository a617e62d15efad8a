package catalog

// ListSQL exposes the list query's SQL to the EXPLAIN test.
func ListSQL(q ListQuery, limit int) (string, []any) { return listSQL(q, nil, limit) }
