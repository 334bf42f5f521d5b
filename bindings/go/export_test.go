package background

// LiveHandles is the number of handles the package holds for tasks that
// have neither run nor been dropped.
func LiveHandles() int64 { return liveHandles() }
