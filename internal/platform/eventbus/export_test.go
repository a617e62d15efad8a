package eventbus

// Waiting counts the batch jobs waiting for a lane, for tests that make them wait together.
func (b *Bus) Waiting() int {
	b.together.mu.Lock()
	defer b.together.mu.Unlock()
	return len(b.together.waiting)
}
