// background.hpp: the C++ binding of the background thread pool.
//
// Header-only over <background.h>; C++17, plus `co_await` in C++20.
//
//   auto f = bg::submit([](int x) { return x * 2; }, 21);
//   int v = f.get();  // 42, or rethrows what the call threw
//
// Parts, one header each under background/:
//   error.hpp          bg::error, bg::errc (std::system_error over bg_strerror)
//   error_handler.hpp  bg::set_error_handler: exceptions nobody can receive
//   future.hpp         bg::future<R>: get, wait, wait_for, ready, cancel, then
//   pool.hpp           bg::pool, bg::pool_ref, bg::submit, bg::spawn
//   parallel_for.hpp   bg::parallel_for
#ifndef BACKGROUND_HPP
#define BACKGROUND_HPP

#include "background/error.hpp"
#include "background/error_handler.hpp"
#include "background/future.hpp"
#include "background/parallel_for.hpp"
#include "background/pool.hpp"

#endif  // BACKGROUND_HPP
