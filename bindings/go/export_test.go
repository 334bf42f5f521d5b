package background

// LiveHandles is the number of cgo handles the package holds for tasks that
// have neither run nor been dropped.
func LiveHandles() int64 { return liveHandles.Load() }
