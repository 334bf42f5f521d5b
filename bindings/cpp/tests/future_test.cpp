// bg::submit and bg::future: values, exceptions, waiting, cancelling.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "support.hpp"

using namespace std::chrono_literals;
using bgtest::counted;
using bgtest::gate;
using bgtest::held_pool;
using bgtest::tracker;

TEST(Future, GetReturnsTheValue) {
  auto f = bg::submit([](int a, int b) { return a * b; }, 6, 7);
  static_assert(std::is_same_v<decltype(f), bg::future<int>>);
  EXPECT_EQ(f.get(), 42);
}

TEST(Future, VoidCallsComplete) {
  std::atomic<int> n{0};
  auto f = bg::submit([&n] { n.fetch_add(1); });
  static_assert(std::is_same_v<decltype(f), bg::future<void>>);
  f.get();
  EXPECT_EQ(n.load(), 1);
}

TEST(Future, MoveOnlyCallableArgumentsAndResult) {
  auto p = std::make_unique<int>(5);
  auto f = bg::submit([p = std::move(p)](std::unique_ptr<int> q) { return std::make_unique<int>(*p + *q); },
                      std::make_unique<int>(10));
  std::unique_ptr<int> r = f.get();
  EXPECT_EQ(*r, 15);
}

TEST(Future, ArgumentsAreCopiedAtSubmitUnlessWrappedInRef) {
  held_pool held;
  int copied = 1;
  int referenced = 1;
  auto f = held.pool.submit([](int c, int &r) { return c * 10 + r; }, copied, std::ref(referenced));
  copied = 2;
  referenced = 2;
  held.release();
  EXPECT_EQ(f.get(), 12);
}

TEST(Future, LvalueReferenceResultsStayReferences) {
  static int target = 0;
  auto f = bg::submit([]() -> int & { return target; });
  static_assert(std::is_same_v<decltype(f), bg::future<int &>>);
  EXPECT_EQ(&f.get(), &target);
}

TEST(Future, MemberFunctionsCanBeSubmitted) {
  struct adder {
    int base;
    int add(int x) const { return base + x; }
  };
  adder a{40};
  EXPECT_EQ(bg::submit(&adder::add, &a, 2).get(), 42);
}

TEST(Future, GetRethrowsTheCallablesException) {
  auto f = bg::submit([]() -> int { throw std::out_of_range("index 7"); });
  try {
    f.get();
    FAIL() << "get() returned";
  } catch (const std::out_of_range &e) {
    EXPECT_STREQ(e.what(), "index 7");
  }
}

TEST(Future, ExceptionsNotDerivedFromStdExceptionArriveToo) {
  auto f = bg::submit([] { throw 42; });
  try {
    f.get();
    FAIL() << "get() returned";
  } catch (int v) {
    EXPECT_EQ(v, 42);
  }
}

TEST(Future, GetInvalidatesTheFuture) {
  auto f = bg::submit([] { return 1; });
  EXPECT_TRUE(f.valid());
  EXPECT_EQ(f.get(), 1);
  EXPECT_FALSE(f.valid());
  EXPECT_THROW(f.get(), std::future_error);
  EXPECT_THROW(f.wait(), std::future_error);
  bg::future<int> empty;
  EXPECT_FALSE(empty.valid());
  EXPECT_THROW(static_cast<void>(empty.ready()), std::future_error);
}

TEST(Future, WaitForTimesOutWhileQueuedThenReportsReady) {
  held_pool held;
  auto f = held.pool.submit([] { return 3; });
  EXPECT_FALSE(f.ready());
  EXPECT_EQ(f.wait_for(1ms), std::future_status::timeout);
  EXPECT_EQ(f.wait_until(std::chrono::steady_clock::now() + 1ms), std::future_status::timeout);
  held.release();
  EXPECT_EQ(f.wait_for(bgtest::patience), std::future_status::ready);
  EXPECT_TRUE(f.ready());
  f.wait();
  EXPECT_EQ(f.get(), 3);
}

TEST(Future, AWaitFromOutsideRunsAQueuedTaskHereUnlessToldNot) {
  held_pool held;
  const auto me = std::this_thread::get_id();
  const auto where = [] { return std::this_thread::get_id(); };
  auto here = held.pool.submit(where);
  EXPECT_EQ(here.get(), me);  // the only worker is held: the wait runs it
  auto waited = held.pool.submit(where);
  waited.wait();
  EXPECT_EQ(waited.get(), me);
  auto there = held.pool.submit(where);
  auto also_there = held.pool.submit(where);
  std::thread opener([&held] {
    std::this_thread::sleep_for(20ms);
    held.release();
  });
  there.wait(bg::no_run_here);  // sleeps until the worker is free and has run it
  EXPECT_NE(there.get(), me);
  EXPECT_NE(also_there.get(bg::no_run_here), me);
  opener.join();
}

TEST(Future, CancelStopsAQueuedTask) {
  held_pool held;
  std::atomic<bool> ran{false};
  auto f = held.pool.submit([&ran] { ran = true; });
  EXPECT_TRUE(f.cancel());
  EXPECT_FALSE(f.cancel());  // already ended
  EXPECT_TRUE(f.ready());
  f.wait();  // wait() does not throw for a cancelled task
  try {
    f.get();
    FAIL() << "get() returned";
  } catch (const bg::error &e) {
    EXPECT_EQ(e.code(), bg::errc::cancelled);
    EXPECT_EQ(e.code(), std::errc::operation_canceled);
  }
  held.release();
  held.pool.shutdown();
  EXPECT_FALSE(ran);
}

TEST(Future, CancelDoesNotStopARunningTask) {
  bg::pool pool(1);
  gate started;
  gate finish;
  auto f = pool.submit([&] {
    started.open();
    finish.wait();
    return 9;
  });
  ASSERT_TRUE(started.wait());
  EXPECT_FALSE(f.cancel());
  finish.open();
  EXPECT_EQ(f.get(), 9);
}

TEST(Future, DestroyingAFutureNeitherWaitsNorCancels) {
  held_pool held;
  std::atomic<bool> ran{false};
  {
    auto f = held.pool.submit([&ran] { ran = true; });
  }  // returns at once although the worker is held
  EXPECT_FALSE(ran);
  held.release();
  held.pool.shutdown();
  EXPECT_TRUE(ran);
}

TEST(Future, ManyTasksAllComplete) {
  std::vector<bg::future<int>> fs;
  for (int i = 0; i < 1000; ++i) fs.push_back(bg::submit([i] { return i; }));
  long sum = 0;
  for (auto &f : fs) sum += f.get();
  EXPECT_EQ(sum, 999L * 1000 / 2);
}

TEST(Future, ATaskMayWaitForTasksItSubmittedOnAOneThreadPool) {
  bg::pool pool(1);
  auto outer = pool.submit([] {
    auto inner = bg::submit([] { return 20; });  // same pool: the worker helps while waiting
    return inner.get() + 1;
  });
  EXPECT_EQ(outer.get(), 21);
}

TEST(Future, CTaskExposesTheHandle) {
  auto f = bg::submit([] { return 1; });
  ASSERT_NE(f.c_task(), nullptr);
  EXPECT_EQ(bg_wait(f.c_task(), nullptr), BG_OK);
  EXPECT_EQ(f.get(), 1);
  EXPECT_EQ(f.c_task(), nullptr);
}
