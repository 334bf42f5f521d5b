// bg::pool: options, hooks, shutdown, resizing, and which pool bg::submit uses.
#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "support.hpp"

using bgtest::gate;
using bgtest::thread_name;

TEST(Pool, ThreadsAndNameOptionsShapeTheWorkers) {
  bg::pool_options options;
  options.threads = 3;
  options.name = "cpptest";
  bg::pool pool(options);
  EXPECT_EQ(pool.threads(), 3u);
  const std::string name = pool.submit(thread_name).get(bg::no_run_here);  // on a worker
  EXPECT_EQ(name.rfind("cpptest-", 0), 0u) << name;
}

TEST(Pool, StackSizeOptionGivesWorkersAtLeastThatStack) {
  bg::pool_options options;
  options.threads = 1;
  options.stack_size = 4u << 20;
  bg::pool pool(options);
  const std::size_t size = pool.submit([] {
                                 pthread_attr_t attr;
                                 std::size_t s = 0;
                                 if (pthread_getattr_np(pthread_self(), &attr) == 0) {
                                   pthread_attr_getstacksize(&attr, &s);
                                   pthread_attr_destroy(&attr);
                                 }
                                 return s;
                               }).get(bg::no_run_here);  // on a worker
  EXPECT_GE(size, std::size_t{4u << 20});
}

TEST(Pool, ThreadHooksRunOncePerWorkerOnItsThread) {
  std::atomic<int> started{0}, stopped{0}, on_worker{0};
  bg::pool_options options;
  options.threads = 2;
  options.name = "hooked";
  options.on_thread_start = [&](std::size_t index) {
    EXPECT_LT(index, 2u);
    if (thread_name().rfind("hooked-", 0) == 0) on_worker.fetch_add(1);
    started.fetch_add(1);
  };
  options.on_thread_stop = [&](std::size_t) { stopped.fetch_add(1); };
  bg::pool pool(options);
  ASSERT_TRUE(pool.shutdown());
  EXPECT_EQ(started.load(), 2);
  EXPECT_EQ(stopped.load(), 2);
  EXPECT_EQ(on_worker.load(), 2);
}

TEST(Pool, AThrowingHookGoesToTheErrorHandler) {
  std::atomic<int> reported{0};
  bgtest::scoped_error_handler handler([&](std::exception_ptr e) {
    if (bgtest::what_of(e) == "hook failed") reported.fetch_add(1);
  });
  bg::pool_options options;
  options.threads = 1;
  options.on_thread_start = [](std::size_t) { throw std::runtime_error("hook failed"); };
  bg::pool pool(options);
  EXPECT_EQ(pool.submit([] { return 5; }).get(), 5);  // the worker still serves
  ASSERT_TRUE(pool.shutdown());
  EXPECT_EQ(reported.load(), 1);
}

TEST(Pool, InvalidOptionsThrow) {
  bg::pool_options options;
  options.threads = BG_MAX_THREADS + 1;
  try {
    bg::pool pool(options);
    FAIL() << "a pool with too many threads was created";
  } catch (const bg::error &e) {
    EXPECT_EQ(e.code(), bg::errc::invalid_argument);
    EXPECT_EQ(e.code(), std::errc::invalid_argument);
  }
}

TEST(Pool, ShutdownFromOwnTaskThrowsDeadlockAndOutsideCompletes) {
  bg::pool pool(1);
  auto f = pool.submit([&pool] {
    try {
      pool.shutdown();
    } catch (const bg::error &e) {
      return e.code() == bg::errc::deadlock;
    }
    return false;
  });
  EXPECT_TRUE(f.get());
  EXPECT_TRUE(pool.shutdown());
  EXPECT_TRUE(pool.shutdown());  // again: still done
}

TEST(Pool, SetThreadsResizesAndStatsCount) {
  bg::pool pool(1);
  pool.set_threads(3);
  EXPECT_EQ(pool.threads(), 3u);
  for (int i = 0; i < 10; ++i) pool.submit([] {}).get();
  auto failing = pool.submit([] { throw std::runtime_error("counted as failed"); });
  EXPECT_THROW(failing.get(), std::runtime_error);
  const bg_stats stats = pool.stats();
  EXPECT_EQ(stats.completed, 10u);
  EXPECT_EQ(stats.failed, 1u);
  EXPECT_THROW(pool.set_threads(0), bg::error);
}

TEST(Pool, TimingAndTaskHooks) {
  bg::pool_options options;
  options.threads = 2;
  options.timing = true;
  bg::pool pool(options);
  static std::atomic<int> starts{0}, ends{0};
  pool.set_task_hooks([](void *, const bg_task_info *) { ++starts; },
                      [](void *, const bg_task_info *info) { ends += info->result == 0; }, nullptr);
  for (int i = 0; i < 10; ++i) pool.submit([] {}).get();
  EXPECT_TRUE(pool.shutdown());
  const bg_timing timing = pool.timing();
  EXPECT_EQ(timing.timed, 10u);
  EXPECT_EQ(pool.stats().timed, 10u);
  EXPECT_EQ(starts.load(), 10);
  EXPECT_EQ(ends.load(), 10);
}

TEST(Pool, MovingAPoolMovesOwnership) {
  bg::pool a(1);
  bg_pool *const raw = a.c_pool();
  bg::pool b(std::move(a));
  EXPECT_EQ(b.c_pool(), raw);
  EXPECT_EQ(a.c_pool(), nullptr);  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(b.submit([] { return 1; }).get(), 1);
  bg::pool c(1);
  c = std::move(b);  // frees c's own pool first
  EXPECT_EQ(c.c_pool(), raw);
  EXPECT_EQ(c.submit([] { return 2; }).get(), 2);
}

TEST(Pool, SubmitOutsideTasksUsesTheDefaultPool) {
  EXPECT_EQ(bg::current_pool().c_pool(), bg_default_pool());
  EXPECT_EQ(bg::default_pool().c_pool(), bg_default_pool());
  auto f = bg::submit([] { return bg::current_pool().c_pool(); });
  EXPECT_EQ(f.c_pool(), bg_default_pool());
  EXPECT_EQ(f.get(), bg_default_pool());
}

TEST(Pool, SubmitInsideATaskStaysOnThatTasksPool) {
  bg::pool_options options;
  options.threads = 2;
  options.name = "nested";
  bg::pool pool(options);
  auto f = pool.submit([] {
    auto inner = bg::submit([] { return std::make_pair(bg::current_pool().c_pool(), thread_name()); });
    return inner.get();
  });
  const auto [inner_pool, inner_thread] = f.get();
  EXPECT_EQ(inner_pool, pool.c_pool());
  EXPECT_EQ(inner_thread.rfind("nested-", 0), 0u) << inner_thread;
  EXPECT_EQ(bg::current_pool().c_pool(), bg_default_pool());  // not leaked to this thread
}

// The pool comes from the library (bg_current_pool), not from a copy the
// binding keeps: a C task, a serial queue's task and a keyed task that use
// bg::submit without naming a pool stay on their pool, as bg_submit() does.
namespace {
struct c_task_probe {
  bg_pool *ran_on = nullptr;
  static int run(void *arg) noexcept {
    auto *self = static_cast<c_task_probe *>(arg);
    try {
      self->ran_on = bg::submit([] { return bg::current_pool().c_pool(); }).get();
      return 0;
    } catch (...) {
      return 1;
    }
  }
};
}  // namespace

TEST(Pool, SubmitInsideAnyTaskOfAPoolStaysOnIt) {
  bg::pool pool(2);
  c_task_probe probe;
  bg_task *task = nullptr;
  ASSERT_EQ(bg_pool_submit(pool.c_pool(), &c_task_probe::run, &probe, nullptr, &task), BG_OK);
  int rc = -1;
  ASSERT_EQ(bg_wait(task, &rc), BG_OK);
  ASSERT_EQ(bg_task_release(task), BG_OK);
  EXPECT_EQ(probe.ran_on, pool.c_pool());

  bg::serial_queue queue(pool);
  EXPECT_EQ(queue.submit([] { return bg::submit([] { return bg_current_pool(); }).get(); }).get(), pool.c_pool());
  EXPECT_EQ(pool.submit_keyed(1, [] { return bg::current_pool().c_pool(); }).get(), pool.c_pool());
  EXPECT_EQ(bg_current_pool(), nullptr);  // this thread runs no task
}

TEST(Pool, APoolRefBorrows) {
  bg::pool pool(1);
  const bg::pool_ref ref = pool;
  EXPECT_EQ(ref.c_pool(), pool.c_pool());
  EXPECT_EQ(ref.submit([] { return 7; }).get(), 7);
}

TEST(Pool, SubmitKeyedKeepsOrderWithinAKey) {
  bg::pool pool(4);
  std::vector<int> a, b;  // each touched only by its own lane
  std::vector<bg::future<void>> fs;
  for (int i = 0; i < 100; ++i) {
    fs.push_back(pool.submit_keyed(1, [&a, i] { a.push_back(i); }));
    fs.push_back(pool.submit_keyed(2, [&b, i] { b.push_back(i); }));
  }
  for (auto &f : fs) f.get();
  ASSERT_EQ(a.size(), 100u);
  ASSERT_EQ(b.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(a[static_cast<std::size_t>(i)], i);
    EXPECT_EQ(b[static_cast<std::size_t>(i)], i);
  }
}

TEST(Pool, SubmitAfterRunsNoEarlierThanTheDelay) {
  bg::pool pool(1);
  const auto start = std::chrono::steady_clock::now();
  auto f = pool.submit_after(std::chrono::milliseconds(20), [] { return std::chrono::steady_clock::now(); });
  EXPECT_GE(f.get() - start, std::chrono::milliseconds(20));
}

TEST(Pool, ADelayedTaskCancelledWhileWaitingIsDestroyedOnce) {
  bg::pool pool(1);
  bgtest::tracker t;
  auto f = pool.submit_after(std::chrono::hours(1), [c = bgtest::counted(t)] { c.mark_ran(); });
  EXPECT_TRUE(f.cancel());
  EXPECT_EQ(t.destroyed.load(), 1);
  EXPECT_EQ(t.ran.load(), 0);
}
