// bg::join: results, void halves, exceptions, recursion inside a pool.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "support.hpp"

namespace {

std::uint64_t fib(int n) {
  if (n < 2) return static_cast<std::uint64_t>(n);
  auto [x, y] = bg::join([n] { return fib(n - 1); }, [n] { return fib(n - 2); });
  return x + y;
}

}  // namespace

TEST(Join, ReturnsBothResults) {
  auto [a, b] = bg::join([] { return 20; }, [] { return std::string("x"); });
  EXPECT_EQ(a, 20);
  EXPECT_EQ(b, "x");
}

TEST(Join, VoidHalves) {
  std::atomic<int> runs{0};
  bg::join([&] { runs += 1; }, [&] { runs += 10; });
  EXPECT_EQ(runs.load(), 11);
  auto [v, n] = bg::join([&] { runs += 1; }, [] { return 7; });
  (void)v;
  EXPECT_EQ(n, 7);
}

TEST(Join, RecursesInsideAPool) {
  bg::pool pool(2);
  auto f = pool.submit([] { return fib(20); });
  EXPECT_EQ(f.get(), 6765u);
  EXPECT_EQ(fib(15), 610u);  // from outside, on the default pool
}

TEST(Join, BothRunAndTheFirstExceptionComesBack) {
  std::atomic<int> runs{0};
  try {
    bg::join([&] { runs += 1; throw std::runtime_error("a"); }, [&] { runs += 1; throw std::logic_error("b"); });
    FAIL() << "no exception";
  } catch (const std::runtime_error &e) {
    EXPECT_STREQ(e.what(), "a");
  }
  EXPECT_EQ(runs.load(), 2);
  EXPECT_THROW(bg::join([] {}, [] { throw std::logic_error("b"); }), std::logic_error);
}
