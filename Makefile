# The two commands the README gives:
#   make demo   build the library and run the C demo of the main job
#   make test   run every test: Rust, C (static, shared, ASan+UBSan, valgrind),
#               C++, Go, examples, and the benchmarks at a tiny size
# `make deps` installs what they need on a fresh Debian machine (.ci/run uses it).
# `make install [PREFIX=/usr/local] [DESTDIR=...]` installs the libraries,
# headers, pkg-config file and CMake package.

CARGO ?= cargo
LIB    = $(or $(CARGO_TARGET_DIR),target)/release
CFLAGS = -std=c11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -Iinclude

.PHONY: all lib header demo test test-rust test-cpp test-go test-bench deps install clean

VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
MAJOR   := $(word 1,$(subst ., ,$(VERSION)))
MINOR   := $(word 2,$(subst ., ,$(VERSION)))
# While 0.x every minor release may break the ABI; from 1.0 the major does.
SONAME  := libbackground.so.$(if $(filter 0,$(MAJOR)),$(MAJOR).$(MINOR),$(MAJOR))
# What a static link needs besides libbackground.a (rustc --print native-static-libs,
# without -lc); tests/packaging.rs checks it stays right.
LIBS_PRIVATE := -lgcc_s -lutil -lrt -lpthread -lm -ldl

PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include

all: lib

lib:
	$(CARGO) build --release --lib

# Refreshes the committed include/background.h from what build.rs generates
# (into OUT_DIR) after a change to src/capi/; review the diff and commit it.
# tests/header.rs fails while the two differ.
header:
	BG_BLESS=1 $(CARGO) test --release --test header committed_header_matches_the_sources

demo: lib
	$(CC) $(CFLAGS) examples/demo.c -o $(LIB)/demo $(LIB)/libbackground.a -ldl -lm
	$(LIB)/demo

test: test-rust test-cpp test-go test-bench

# Rust tests, the C tests (tests/c_abi.rs: static, shared, ASan+UBSan,
# valgrind), the examples (as C tests), packaging and the loom models.
test-rust:
	$(CARGO) test --release

# The C++ binding: C++17, C++20 and ASan+UBSan builds, GoogleTest via ctest.
test-cpp:
	bindings/cpp/run-tests.sh

# The Go binding: go vet, go test -race, GOEXPERIMENT=cgocheck2, the example,
# and the build tag that links an installed library.
test-go:
	bindings/go/run-tests.sh

# The benchmarks at a tiny size: everything builds, every task runs exactly once;
# and the scaling script (1 and 2 threads) runs end to end.
test-bench:
	bench/run.sh --tiny
	bench/run.sh --scaling --tiny --reps 1 --threads-list 1,2

deps:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	  build-essential pkg-config cmake python3 valgrind libgtest-dev \
	  libtbb-dev libglib2.0-dev >/dev/null
	# The Go binding is also tested with its oldest supported Go (from the module proxy).
	GOTOOLCHAIN=go1.21.13 go version

install: lib
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(LIBDIR)/cmake/background $(DESTDIR)$(INCLUDEDIR)
	install -m 755 $(LIB)/libbackground.so $(DESTDIR)$(LIBDIR)/libbackground.so.$(VERSION)
	ln -sf libbackground.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libbackground.so
	install -m 644 $(LIB)/libbackground.a $(DESTDIR)$(LIBDIR)/libbackground.a
	install -m 644 include/background.h $(DESTDIR)$(INCLUDEDIR)/background.h
	cp -R bindings/cpp/include/. $(DESTDIR)$(INCLUDEDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|; s|@LIBS_PRIVATE@|$(LIBS_PRIVATE)|' \
	    packaging/background.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/background.pc
	sed -e 's|@CMAKE_TO_PREFIX@|$(shell realpath -m --relative-to=$(LIBDIR)/cmake/background $(PREFIX))|' \
	    -e 's|@LIBDIR_REL@|$(shell realpath -m --relative-to=$(PREFIX) $(LIBDIR))|' \
	    -e 's|@INCLUDEDIR_REL@|$(shell realpath -m --relative-to=$(PREFIX) $(INCLUDEDIR))|' \
	    -e 's|@VERSION@|$(VERSION)|; s|@SONAME@|$(SONAME)|' \
	    -e 's|@CMAKE_LIBS_PRIVATE@|$(subst $(eval) ,;,$(filter-out -lpthread,$(LIBS_PRIVATE)))|' \
	    packaging/backgroundConfig.cmake.in > $(DESTDIR)$(LIBDIR)/cmake/background/backgroundConfig.cmake
	sed -e 's|@VERSION@|$(VERSION)|; s|@MAJOR@|$(MAJOR)|g; s|@MINOR@|$(MINOR)|g' \
	    packaging/backgroundConfigVersion.cmake.in > $(DESTDIR)$(LIBDIR)/cmake/background/backgroundConfigVersion.cmake

clean:
	$(CARGO) clean
