// Control from C++: pause/resume, wait_idle, submit_with (priority, start
// deadline), submit_wait, bg::limiter.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "support.hpp"

using namespace std::chrono_literals;
using bgtest::held_pool;
using bgtest::tracker;

TEST(Control, PauseHoldsQueuedCallsUntilResume) {
  bg::pool pool(2);
  pool.pause();
  std::atomic<int> ran{0};
  std::vector<bg::future<void>> fs;
  for (int i = 0; i < 20; ++i) fs.push_back(pool.submit([&] { ran.fetch_add(1); }));
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(ran.load(), 0);
  EXPECT_EQ(pool.stats().paused, 1u);
  pool.resume();
  EXPECT_TRUE(pool.wait_idle(10s));
  EXPECT_EQ(ran.load(), 20);
  for (auto &f : fs) f.get();
}

TEST(Control, WaitIdleTimesOutWhileACallRuns) {
  held_pool held;
  EXPECT_FALSE(held.pool.wait_idle(10ms));
  held.release();
  EXPECT_TRUE(held.pool.wait_idle(10s));
}

TEST(Control, AnExpiredCallNeverRunsAndGetThrowsExpired) {
  held_pool held;
  tracker t;
  bg::submit_options o;
  o.start_deadline = 1ms;
  auto f = held.pool.submit_with(o, [c = bgtest::counted(t)] { c.mark_ran(); });
  std::this_thread::sleep_for(20ms);
  held.release();
  try {
    f.get();
    ADD_FAILURE() << "an expired call ran";
  } catch (const bg::error &e) {
    EXPECT_EQ(e.code(), bg::errc::expired);
  }
  EXPECT_EQ(t.ran.load(), 0);
  EXPECT_EQ(t.destroyed.load(), 1);
}

TEST(Control, HighPriorityStartsFirst) {
  held_pool held;
  std::vector<int> order;  // one thread: no lock needed
  bg::submit_options low, high;
  low.priority = bg::priority::low;
  high.priority = bg::priority::high;
  auto a = held.pool.submit_with(low, [&] { order.push_back(0); });
  auto b = held.pool.submit([&] { order.push_back(1); });
  auto c = held.pool.submit_with(high, [&] { order.push_back(2); });
  held.release();
  a.get();
  b.get();
  c.get();
  EXPECT_EQ(order, (std::vector<int>{2, 1, 0}));
}

TEST(Control, SubmitWaitWaitsForRoom) {
  bg::pool_options opts;
  opts.max_queued = 1;
  held_pool held(opts);
  auto first = held.pool.submit([] { return 1; });
  EXPECT_THROW((void)held.pool.submit([] { return 2; }), bg::error);
  try {
    (void)held.pool.submit_wait(5ms, [] { return 2; });
    ADD_FAILURE() << "no room, yet accepted";
  } catch (const bg::error &e) {
    EXPECT_EQ(e.code(), bg::errc::timed_out);
  }
  std::thread opener([&] {
    std::this_thread::sleep_for(20ms);
    held.release();
  });
  auto second = held.pool.submit_wait(10s, [] { return 2; });
  opener.join();
  EXPECT_EQ(first.get() + second.get(), 3);
}

TEST(Control, LimiterRunsAtMostNAtOnce) {
  bg::pool pool(4);
  bg::limiter lim(2, pool);
  std::atomic<int> inside{0}, peak{0};
  std::vector<bg::future<void>> fs;
  for (int i = 0; i < 100; ++i) {
    fs.push_back(lim.submit([&] {
      const int now = inside.fetch_add(1) + 1;
      int p = peak.load();
      while (now > p && !peak.compare_exchange_weak(p, now)) {
      }
      std::this_thread::sleep_for(100us);
      inside.fetch_sub(1);
    }));
  }
  for (auto &f : fs) f.get();
  EXPECT_LE(peak.load(), 2);
  EXPECT_EQ(lim.counts(), (std::pair<std::size_t, std::size_t>{0, 0}));
}
