//go:build !background_system

package background

// By default the package links the static library built in this repository
// (`cargo build --release --lib` at the repository root). The archive is named
// by its full path: given both libbackground.a and libbackground.so in one
// directory, -lbackground would pick the shared one.

// #cgo CFLAGS: -I${SRCDIR}/../../include
// #cgo LDFLAGS: ${SRCDIR}/../../target/release/libbackground.a -lm -ldl -lpthread
import "C"
