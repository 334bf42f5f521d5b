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
//   join.hpp           bg::join (fork-join, bg_join)
//   task_group.hpp     bg::task_group
//   serial_queue.hpp   bg::serial_queue
//   limiter.hpp        bg::limiter (and pool_ref::submit_with's limit option)
//   batch.hpp          bg::batch
//   coroutine.hpp      co_await on a future, bg::resume_on (C++20)
#ifndef BACKGROUND_HPP
#define BACKGROUND_HPP

#include "background/batch.hpp"
#include "background/blocking.hpp"
#include "background/coroutine.hpp"
#include "background/error.hpp"
#include "background/error_handler.hpp"
#include "background/future.hpp"
#include "background/join.hpp"
#include "background/limiter.hpp"
#include "background/parallel_for.hpp"
#include "background/pool.hpp"
#include "background/serial_queue.hpp"
#include "background/task_group.hpp"

#endif  // BACKGROUND_HPP
