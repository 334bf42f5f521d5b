module github.com/background-lib/background/examples/go

go 1.21

require github.com/background-lib/background/bindings/go v0.0.0

// The binding in this repository, linked against the library built here.
replace github.com/background-lib/background/bindings/go => ../../bindings/go
