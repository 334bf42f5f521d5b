// C++20: co_await on a bg::future, and bg::resume_on. Only built as C++20.
#include <gtest/gtest.h>

#include <background.hpp>

#ifndef BG_HAS_COROUTINES
#error "coroutine_test.cpp is built only where the compiler supports coroutines"
#endif

#include <coroutine>
#include <exception>
#include <future>
#include <stdexcept>
#include <string>
#include <utility>

#include "support.hpp"

namespace {

// The smallest coroutine type for tests: starts at once, runs detached,
// and hands its result (or exception) to a std::future.
template <class T>
struct eager {
  struct promise_type {
    std::promise<T> result;
    eager get_return_object() { return eager{result.get_future()}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_value(T v) { result.set_value(std::move(v)); }
    void unhandled_exception() { result.set_exception(std::current_exception()); }
  };
  std::future<T> result;

  T get() {
    EXPECT_EQ(result.wait_for(bgtest::patience), std::future_status::ready);
    return result.get();
  }
};

eager<int> twice_later(int x) {
  const int v = co_await bg::submit([x] { return x; });
  co_return v * 2;
}

eager<int> rethrows() { co_return co_await bg::submit([]() -> int { throw std::runtime_error("in task"); }); }

// Suspends until `go` opens: the task cannot end before the co_await.
eager<std::string> where_resumed(bg::pool_ref pool, bgtest::gate &go) {
  co_await pool.submit([&go] { go.wait(); });
  const bool on_pool = bg::current_pool().c_pool() == pool.c_pool();
  co_return bgtest::thread_name() + (on_pool ? " on pool" : " elsewhere");
}

eager<std::string> resumed_on(bg::pool_ref pool) {
  co_await bg::resume_on(pool);
  co_return bgtest::thread_name();
}

eager<int> awaits_lvalue(bg::future<int> &f) { co_return co_await f; }

}  // namespace

TEST(Coroutine, CoAwaitGivesTheValue) { EXPECT_EQ(twice_later(21).get(), 42); }

TEST(Coroutine, CoAwaitRethrowsTheTasksException) { EXPECT_THROW(rethrows().get(), std::runtime_error); }

TEST(Coroutine, TheCoroutineResumesOnAWorkerOfTheTasksPool) {
  bg::pool_options options;
  options.threads = 2;
  options.name = "coro";
  bg::pool pool(options);
  bgtest::gate go;
  auto resumed = where_resumed(pool, go);
  go.open();
  const std::string got = resumed.get();
  EXPECT_EQ(got.rfind("coro-", 0), 0u) << got;
  EXPECT_NE(got.find(" on pool"), std::string::npos) << got;
}

TEST(Coroutine, AnEndedFutureDoesNotSuspend) {
  auto f = bg::submit([] { return 7; });
  f.wait();
  const std::string before = bgtest::thread_name();
  auto r = awaits_lvalue(f);
  EXPECT_EQ(r.get(), 7);
  EXPECT_FALSE(f.valid());  // consumed, as get() does
  EXPECT_EQ(bgtest::thread_name(), before);
}

TEST(Coroutine, ACancelledFutureThrowsCancelled) {
  bgtest::held_pool held;
  auto f = held.pool.submit([] { return 1; });
  ASSERT_TRUE(f.cancel());
  auto r = awaits_lvalue(f);
  try {
    r.get();
    FAIL() << "co_await returned";
  } catch (const bg::error &e) {
    EXPECT_EQ(e.code(), bg::errc::cancelled);
  }
}

TEST(Coroutine, ResumeOnMovesTheCoroutineToThePool) {
  bg::pool_options options;
  options.threads = 1;
  options.name = "hop";
  bg::pool pool(options);
  const std::string got = resumed_on(pool).get();
  EXPECT_EQ(got.rfind("hop-", 0), 0u) << got;
}

TEST(Coroutine, ResumeOnAShutDownPoolThrowsShutdown) {
  bg::pool pool(1);
  ASSERT_TRUE(pool.shutdown());
  try {
    resumed_on(pool).get();
    FAIL() << "resume_on a shut-down pool returned";
  } catch (const bg::error &e) {
    EXPECT_EQ(e.code(), bg::errc::shutdown);
  }
}

TEST(Coroutine, ADroppedContinuationStillResumesTheCoroutine) {
  bgtest::held_pool held;
  auto f = held.pool.submit([] { return 1; });  // queued behind the held worker
  auto r = awaits_lvalue(f);                    // suspends: bg_then attached
  EXPECT_FALSE(held.pool.shutdown(bg::shutdown_mode::cancel, std::chrono::milliseconds(0)));
  held.release();
  EXPECT_TRUE(held.pool.shutdown(bg::shutdown_mode::cancel));  // drops f, then the continuation
  try {
    r.get();
    FAIL() << "co_await returned";
  } catch (const bg::error &e) {
    EXPECT_EQ(e.code(), bg::errc::shutdown);
  }
}

TEST(Coroutine, ADroppedResumeOnThrowsShutdown) {
  bgtest::held_pool held;
  auto r = resumed_on(held.pool);  // queued behind the held worker
  EXPECT_FALSE(held.pool.shutdown(bg::shutdown_mode::cancel, std::chrono::milliseconds(0)));
  held.release();
  EXPECT_TRUE(held.pool.shutdown(bg::shutdown_mode::cancel));
  try {
    r.get();
    FAIL() << "resume_on a pool shut down in cancel mode returned";
  } catch (const bg::error &e) {
    EXPECT_EQ(e.code(), bg::errc::shutdown);
  }
}
