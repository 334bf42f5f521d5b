// future::then: continuations run on the task's pool once it has ended.
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "support.hpp"

using bgtest::counted;
using bgtest::held_pool;
using bgtest::tracker;

TEST(Then, AContinuationGetsTheValue) {
  auto f = bg::submit([] { return 21; }).then([](int x) { return x * 2; });
  static_assert(std::is_same_v<decltype(f), bg::future<int>>);
  EXPECT_EQ(f.get(), 42);
}

TEST(Then, ContinuationsChainAndChangeType) {
  auto f = bg::submit([] { return 3; })
               .then([](int x) { return std::string(static_cast<std::size_t>(x), 'a'); })
               .then([](std::string s) { return s + "!"; })
               .then([](std::string s) { return s.size(); });
  EXPECT_EQ(f.get(), 4u);
}

TEST(Then, VoidTasksContinueWithNoArgument) {
  std::atomic<int> steps{0};
  auto f = bg::submit([&] { steps.fetch_add(1); }).then([&] {
    steps.fetch_add(1);
    return steps.load();
  });
  EXPECT_EQ(f.get(), 2);
}

TEST(Then, MoveOnlyValuesAndCapturesPass) {
  auto f = bg::submit([] { return std::make_unique<int>(4); })
               .then([k = std::make_unique<int>(10)](std::unique_ptr<int> v) { return *v + *k; });
  EXPECT_EQ(f.get(), 14);
}

TEST(Then, ThenInvalidatesTheAntecedent) {
  auto a = bg::submit([] { return 1; });
  auto b = a.then([](int x) { return x + 1; });
  EXPECT_FALSE(a.valid());
  EXPECT_EQ(b.get(), 2);
}

TEST(Then, AnExceptionSkipsValueContinuationsAndReachesTheEnd) {
  tracker t;
  auto f = bg::submit([]() -> int { throw std::runtime_error("load failed"); })
               .then([c = counted(t)](int x) {
                 c.mark_ran();
                 return x;
               });
  try {
    f.get();
    FAIL() << "get() returned";
  } catch (const std::runtime_error &e) {
    EXPECT_STREQ(e.what(), "load failed");
  }
  EXPECT_EQ(t.ran.load(), 0);
  EXPECT_EQ(t.destroyed.load(), 1);
}

TEST(Then, AFutureTakingContinuationHandlesTheException) {
  auto f = bg::submit([]() -> int { throw std::runtime_error("nope"); }).then([](bg::future<int> done) {
    try {
      return done.get();
    } catch (const std::runtime_error &) {
      return -1;
    }
  });
  EXPECT_EQ(f.get(), -1);
}

TEST(Then, AContinuationThatThrowsFailsItsOwnFuture) {
  auto f = bg::submit([] { return 1; }).then([](int) -> int { throw std::logic_error("bad step"); });
  EXPECT_THROW(f.get(), std::logic_error);
}

TEST(Then, ACancelledTaskPassesCancellationOn) {
  held_pool held;
  tracker t;
  auto a = held.pool.submit([] { return 1; });
  ASSERT_TRUE(a.cancel());
  auto b = a.then([c = counted(t)](int x) {
    c.mark_ran();
    return x;
  });
  held.release();  // the continuation runs on the (one) worker
  try {
    b.get();
    FAIL() << "get() returned";
  } catch (const bg::error &e) {
    EXPECT_EQ(e.code(), bg::errc::cancelled);
  }
  EXPECT_EQ(t.ran.load(), 0);
  EXPECT_EQ(t.destroyed.load(), 1);
}

TEST(Then, ContinuationsRunOnTheTasksPool) {
  bg::pool_options options;
  options.threads = 2;
  options.name = "cont";
  bg::pool pool(options);
  auto f = pool.submit([] { return 0; }).then([](int) {
    return std::make_pair(bg::current_pool().c_pool(), bgtest::thread_name());
  });
  const auto [where, thread] = f.get();
  EXPECT_EQ(where, pool.c_pool());
  EXPECT_EQ(thread.rfind("cont-", 0), 0u) << thread;
}

TEST(Then, AttachingToAnEndedTaskStillRuns) {
  auto a = bg::submit([] { return 5; });
  a.wait();
  EXPECT_EQ(a.then([](int x) { return x + 1; }).get(), 6);
}

TEST(Then, ACancelShutdownDestroysAPendingContinuationOnce) {
  held_pool held;
  tracker t;
  auto a = held.pool.submit([] { return 1; });
  auto b = a.then([c = counted(t)](int x) {
    c.mark_ran();
    return x;
  });
  EXPECT_FALSE(held.pool.shutdown(bg::shutdown_mode::cancel, std::chrono::milliseconds(0)));
  held.release();
  EXPECT_TRUE(held.pool.shutdown(bg::shutdown_mode::cancel));
  EXPECT_THROW(b.get(), bg::error);
  EXPECT_EQ(t.ran.load(), 0);
  EXPECT_EQ(t.destroyed.load(), 1);
}

TEST(Then, ARefusedContinuationThrowsAndLeavesTheFutureValid) {
  bg::pool pool(1);
  tracker t;
  auto f = pool.submit([] { return 8; });
  f.wait();
  ASSERT_TRUE(pool.shutdown());
  try {
    auto g = f.then([c = counted(t)](int x) {
      c.mark_ran();
      return x;
    });
    FAIL() << "then() on a shut-down pool was accepted";
  } catch (const bg::error &e) {
    EXPECT_EQ(e.code(), bg::errc::shutdown);
  }
  EXPECT_EQ(t.destroyed.load(), 1);
  EXPECT_EQ(t.ran.load(), 0);
  ASSERT_TRUE(f.valid());
  EXPECT_EQ(f.get(), 8);
}
