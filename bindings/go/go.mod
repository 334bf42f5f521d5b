module github.com/background-lib/background/bindings/go

// 1.24 for runtime.AddCleanup, the backstop that frees pools, groups and
// task handles a program forgets to close.
go 1.24
