// bg::spawn: fire and forget; exceptions go to the error handler, never
// into the library, never std::terminate.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "support.hpp"

using bgtest::gate;

TEST(Spawn, RunsTheCallWithItsArguments) {
  gate done;
  std::atomic<int> got{0};
  bg::spawn(
      [&](int a, std::unique_ptr<int> b) {
        got = a + *b;
        done.open();
      },
      1, std::make_unique<int>(2));
  ASSERT_TRUE(done.wait());
  EXPECT_EQ(got.load(), 3);
}

TEST(Spawn, AnExceptionGoesToTheInstalledHandler) {
  std::mutex lock;
  std::vector<std::string> seen;
  {
    bgtest::scoped_error_handler handler([&](std::exception_ptr e) {
      const std::lock_guard<std::mutex> guard(lock);
      seen.push_back(bgtest::what_of(e));
    });
    bg::pool pool(2);
    pool.spawn([] { throw std::runtime_error("first"); });
    pool.spawn([] { throw std::logic_error("second"); });
    pool.spawn([] {});
    ASSERT_TRUE(pool.shutdown());
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"first", "second"}));
}

TEST(Spawn, TheDefaultHandlerPrintsOneLineWithWhat) {
  testing::internal::CaptureStderr();
  {
    bg::pool pool(1);
    pool.spawn([] { throw std::runtime_error("disk full"); });
    ASSERT_TRUE(pool.shutdown());
  }
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "background: uncaught exception in a background task: disk full\n");
}

TEST(Spawn, ExceptionsOfAnyTypeAreReported) {
  testing::internal::CaptureStderr();
  {
    bg::pool pool(1);
    pool.spawn([] { throw 17; });
    ASSERT_TRUE(pool.shutdown());
  }
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("not derived from std::exception"), std::string::npos) << err;
}

TEST(Spawn, AThrowingHandlerIsContained) {
  testing::internal::CaptureStderr();
  {
    bgtest::scoped_error_handler handler([](std::exception_ptr) { throw std::runtime_error("handler broke"); });
    bg::pool pool(1);
    pool.spawn([] { throw std::runtime_error("task broke"); });
    ASSERT_TRUE(pool.shutdown());
  }
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("handler broke"), std::string::npos) << err;
}

TEST(Spawn, SetErrorHandlerReturnsThePreviousOne) {
  int calls = 0;
  bg::error_handler previous = bg::set_error_handler([&](std::exception_ptr) { ++calls; });
  EXPECT_FALSE(previous);  // the default
  bg::report_exception(std::make_exception_ptr(std::runtime_error("x")));
  bg::error_handler mine = bg::set_error_handler(nullptr);
  ASSERT_TRUE(mine);
  mine(nullptr);
  EXPECT_EQ(calls, 2);
}

// One outcome convention: a call that threw is a failure to the C library in
// every construct (counted in bg_stats.failed), and its exception reaches the
// C++ error handler when nobody get()s it.
TEST(Spawn, AThrowingCallCountsAsFailed) {
  bgtest::scoped_error_handler handler([](std::exception_ptr) {});
  bg::pool pool(1);
  pool.spawn([] { throw std::runtime_error("counted"); });
  pool.spawn([] {});
  ASSERT_TRUE(pool.shutdown());
  const bg_stats stats = pool.stats();
  EXPECT_EQ(stats.failed, 1u);
  EXPECT_EQ(stats.completed, 1u);
}

TEST(Spawn, AnExceptionNoGetTakesGoesToTheHandlerOnce) {
  std::mutex lock;
  std::vector<std::string> seen;
  {
    bgtest::scoped_error_handler handler([&](std::exception_ptr e) {
      const std::lock_guard<std::mutex> guard(lock);
      seen.push_back(bgtest::what_of(e));
    });
    bg::pool pool(1);
    {
      auto ended = pool.submit([] { throw std::runtime_error("dropped after it threw"); });
      ended.wait();
    }
    gate go;
    {
      auto pending = pool.submit([&go] {
        go.wait();
        throw std::runtime_error("threw after its future was dropped");
      });
    }
    go.open();
    auto taken = pool.submit([] { throw std::runtime_error("taken by get"); });
    EXPECT_THROW(taken.get(), std::runtime_error);
    auto then_taken = pool.submit([]() -> int { throw std::runtime_error("taken by then"); }).then([](bg::future<int> f) {
      try {
        return f.get();
      } catch (const std::runtime_error &) {
        return 0;
      }
    });
    EXPECT_EQ(then_taken.get(), 0);
    ASSERT_TRUE(pool.shutdown());
    EXPECT_EQ(pool.stats().failed, 4u);  // the four calls that threw
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"dropped after it threw", "threw after its future was dropped"}));
}
