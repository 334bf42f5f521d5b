module github.com/background-lib/background/bindings/go

// 1.21: the cgo callback cost this package relies on (a worker thread keeps
// its Go M between calls). From Go 1.24 the backstop that frees pools,
// groups and task handles a program forgets to close is runtime.AddCleanup;
// before, a finalizer on their Go core (cleanup_legacy.go).
go 1.21
