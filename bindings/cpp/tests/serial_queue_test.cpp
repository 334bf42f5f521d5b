// bg::serial_queue: one at a time, in submission order.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "support.hpp"

using bgtest::counted;
using bgtest::held_pool;
using bgtest::tracker;

TEST(SerialQueue, CallsRunOneAtATimeInOrder) {
  bg::pool pool(4);
  bg::serial_queue q(pool);
  std::vector<int> order;  // no lock: the queue serializes its calls
  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false};
  std::vector<bg::future<void>> fs;
  for (int i = 0; i < 200; ++i) {
    fs.push_back(q.submit([&, i] {
      if (inside.fetch_add(1) != 0) overlapped = true;
      order.push_back(i);
      inside.fetch_sub(1);
    }));
  }
  for (auto &f : fs) f.get();
  EXPECT_FALSE(overlapped);
  ASSERT_EQ(order.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
}

TEST(SerialQueue, SubmitReturnsValuesAndExceptions) {
  bg::serial_queue q;
  auto a = q.submit([](int x) { return x + 1; }, 1);
  auto b = q.submit([]() -> int { throw std::runtime_error("in queue"); });
  auto c = q.submit([] { return 3; });
  EXPECT_EQ(a.get(), 2);
  EXPECT_THROW(b.get(), std::runtime_error);
  EXPECT_EQ(c.get(), 3);  // a failure does not stop the queue
}

TEST(SerialQueue, DestroyingTheQueueDoesNotBlockAndWorkStillRuns) {
  held_pool held;
  tracker t;
  {
    bg::serial_queue q(held.pool);
    q.spawn([c = counted(t)] { c.mark_ran(); });
  }
  EXPECT_EQ(t.ran.load(), 0);
  held.release();
  held.pool.shutdown();
  EXPECT_EQ(t.ran.load(), 1);
  EXPECT_EQ(t.destroyed.load(), 1);
}

TEST(SerialQueue, SpawnedExceptionsGoToTheErrorHandler) {
  std::atomic<int> reported{0};
  bgtest::scoped_error_handler handler([&](std::exception_ptr e) {
    if (bgtest::what_of(e) == "serial spawn") reported.fetch_add(1);
  });
  bg::serial_queue q;
  q.spawn([] { throw std::runtime_error("serial spawn"); });
  q.submit([] {}).get();  // after the spawned call, in order
  EXPECT_EQ(reported.load(), 1);
}

TEST(SerialQueue, CancelledQueuedCallsAreDestroyedOnce) {
  held_pool held;
  tracker t;
  bg::serial_queue q(held.pool);
  auto f = q.submit([c = counted(t)] { c.mark_ran(); });
  EXPECT_TRUE(f.cancel());
  EXPECT_EQ(t.destroyed.load(), 1);
  held.release();
  EXPECT_EQ(q.submit([] { return 1; }).get(), 1);  // the queue goes on
  EXPECT_EQ(t.ran.load(), 0);
}

TEST(SerialQueue, WaitingOnALaterCallOfTheSameQueueThrowsDeadlock) {
  bg::serial_queue q;
  bg::future<int> later;
  auto first = q.submit([&] {
    later = q.submit([] { return 2; });
    try {
      later.get();
    } catch (const bg::error &e) {
      return e.code() == bg::errc::deadlock;
    }
    return false;
  });
  EXPECT_TRUE(first.get());
  ASSERT_TRUE(later.valid());  // the failed wait did not consume it
  EXPECT_EQ(later.get(), 2);
}
