module github.com/background-lib/background/bindings/go

// 1.21: the min and max builtins, and cgo callbacks from C threads that keep
// their Go M between calls (cheap since 1.21). The backstop that frees pools,
// groups and task handles a program forgets to close is runtime.AddCleanup
// from Go 1.24, a finalizer on their Go core before (cleanup_legacy.go).
go 1.21
