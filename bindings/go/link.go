//go:build !background_system

package background

// By default the package links the static library built in this repository
// (`cargo build --release --lib` at the repository root). The archive is named
// by its full path: given both libbackground.a and libbackground.so in one
// directory, -lbackground would pick the shared one. The -l flags are what
// the static library needs (the Makefile's LIBS_PRIVATE).

// #cgo CFLAGS: -I${SRCDIR}/../../include
// #cgo LDFLAGS: ${SRCDIR}/../../target/release/libbackground.a -lgcc_s -lutil -lrt -lpthread -lm -ldl
import "C"
