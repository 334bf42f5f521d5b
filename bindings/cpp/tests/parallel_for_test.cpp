// bg::parallel_for: every index exactly once, exceptions come back.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "support.hpp"

TEST(ParallelFor, VisitsEveryIndexExactlyOnce) {
  std::vector<std::atomic<int>> hits(10000);
  bg::parallel_for(std::size_t{0}, hits.size(), [&](std::size_t i) { hits[i].fetch_add(1); });
  for (auto &h : hits) ASSERT_EQ(h.load(), 1);
}

TEST(ParallelFor, ARangeBodyGetsDisjointChunksOfAtMostGrain) {
  std::vector<std::atomic<int>> hits(1000);
  std::atomic<bool> too_big{false};
  bg::pool pool(3);
  pool.parallel_for(
      std::size_t{0}, hits.size(),
      [&](std::size_t lo, std::size_t hi) {
        if (hi - lo > 16) too_big = true;
        for (std::size_t i = lo; i < hi; ++i) hits[i].fetch_add(1);
      },
      16);
  EXPECT_FALSE(too_big);
  for (auto &h : hits) ASSERT_EQ(h.load(), 1);
}

TEST(ParallelFor, SignedIndicesMayBeNegative) {
  std::atomic<std::int64_t> sum{0};
  std::atomic<int> calls{0};
  bg::parallel_for(-50, 51, [&](int i) {
    sum += i;
    calls.fetch_add(1);
  });
  EXPECT_EQ(sum.load(), 0);
  EXPECT_EQ(calls.load(), 101);
}

TEST(ParallelFor, AnEmptyRangeCallsNothing) {
  std::atomic<int> calls{0};
  bg::parallel_for(5, 5, [&](int) { calls.fetch_add(1); });
  bg::parallel_for(5, 2, [&](int) { calls.fetch_add(1); });
  EXPECT_EQ(calls.load(), 0);
}

TEST(ParallelFor, TheFirstExceptionIsRethrownAfterTheOthersFinish) {
  std::atomic<int> running{0};
  try {
    bg::parallel_for(0, 1000, [&](int i) {
      running.fetch_add(1);
      if (i == 500) {
        running.fetch_sub(1);
        throw std::out_of_range("index 500");
      }
      running.fetch_sub(1);
    });
    FAIL() << "parallel_for returned";
  } catch (const std::out_of_range &e) {
    EXPECT_STREQ(e.what(), "index 500");
  }
  EXPECT_EQ(running.load(), 0);  // no chunk is still running
}

TEST(ParallelFor, NestsInsideTasksOfAOneThreadPool) {
  bg::pool pool(1);
  std::atomic<int> total{0};
  pool.submit([&total] {
        bg::parallel_for(0, 8, [&total](int) {
          bg::parallel_for(0, 8, [&total](int) { total.fetch_add(1); });
        });
      })
      .get();
  EXPECT_EQ(total.load(), 64);
}
