//go:build background_system

package background

// With -tags background_system the package links an installed library found
// through pkg-config (background.pc), in the way go-sqlite3's libsqlite3 tag does.

// #cgo pkg-config: background
import "C"
