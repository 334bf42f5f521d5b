// bg::task_group: run many, wait for all, the first exception comes back.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support.hpp"

using bgtest::counted;
using bgtest::held_pool;
using bgtest::tracker;
using namespace std::chrono_literals;

TEST(TaskGroup, WaitReturnsOnceEveryCallHasRun) {
  std::vector<int> out(100, 0);
  bg::task_group g;
  for (std::size_t i = 0; i < out.size(); ++i) g.run([&out, i] { out[i] = static_cast<int>(i) * 2; });
  EXPECT_TRUE(g.wait());
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], static_cast<int>(i) * 2);
}

TEST(TaskGroup, RunPassesArguments) {
  std::atomic<int> sum{0};
  bg::task_group g;
  for (int i = 1; i <= 10; ++i) g.run([&sum](int x, std::unique_ptr<int> y) { sum += x * *y; }, i, std::make_unique<int>(2));
  g.wait();
  EXPECT_EQ(sum.load(), 110);
}

TEST(TaskGroup, WaitRethrowsTheException) {
  bg::pool pool(2);
  bg::task_group g(pool);
  std::atomic<int> ran{0};
  for (int i = 0; i < 10; ++i) g.run([&ran] { ran.fetch_add(1); });
  g.run([] { throw std::runtime_error("one failed"); });
  try {
    g.wait();
    FAIL() << "wait() returned";
  } catch (const std::runtime_error &e) {
    EXPECT_STREQ(e.what(), "one failed");
  }
  EXPECT_EQ(ran.load(), 10);  // run_all: the others still ran
}

TEST(TaskGroup, CancelOnErrorStopsCallsNotYetStarted) {
  held_pool held;
  tracker later;
  bg::task_group g(held.pool, bg::group_policy::cancel_on_error);
  g.run([] { throw std::runtime_error("first"); });
  for (int i = 0; i < 5; ++i) g.run([c = counted(later)] { c.mark_ran(); });
  // The pool's one worker is held: wait() runs the calls here, in order,
  // and the first one's exception cancels the rest before they start.
  EXPECT_THROW(g.wait(), std::runtime_error);
  held.release();
  EXPECT_EQ(later.ran.load(), 0);
  EXPECT_EQ(later.destroyed.load(), 5);
  EXPECT_THROW(g.run([] {}), bg::error);  // the group is cancelled now
}

TEST(TaskGroup, CancelDestroysQueuedStateOnceAndRefusesMore) {
  held_pool held;
  tracker queued, refused;
  bg::task_group g(held.pool);
  for (int i = 0; i < 3; ++i) g.run([c = counted(queued)] { c.mark_ran(); });
  g.cancel();
  EXPECT_EQ(queued.destroyed.load(), 3);
  try {
    g.run([c = counted(refused)] { c.mark_ran(); });
    FAIL() << "run() after cancel() was accepted";
  } catch (const bg::error &e) {
    EXPECT_EQ(e.code(), bg::errc::cancelled);
  }
  EXPECT_EQ(refused.destroyed.load(), 1);
  held.release();
  EXPECT_FALSE(g.wait());  // some calls never ran
  EXPECT_EQ(queued.ran.load() + refused.ran.load(), 0);
}

TEST(TaskGroup, TheDestructorWaits) {
  std::atomic<int> ran{0};
  {
    bg::task_group g;
    for (int i = 0; i < 50; ++i) g.run([&ran] { ran.fetch_add(1); });
  }
  EXPECT_EQ(ran.load(), 50);
}

TEST(TaskGroup, TheDestructorReportsAnExceptionNoWaitSaw) {
  std::atomic<int> reported{0};
  bgtest::scoped_error_handler handler([&](std::exception_ptr e) {
    if (bgtest::what_of(e) == "unseen") reported.fetch_add(1);
  });
  {
    bg::task_group g;
    g.run([] { throw std::runtime_error("unseen"); });
  }
  EXPECT_EQ(reported.load(), 1);
}

TEST(TaskGroup, LeavingTheScopeByAnExceptionCancelsQueuedCalls) {
  held_pool held;
  tracker t;
  try {
    bg::task_group g(held.pool);
    for (int i = 0; i < 4; ++i) g.run([c = counted(t)] { c.mark_ran(); });
    throw std::runtime_error("handler failed");
  } catch (const std::runtime_error &) {
  }
  EXPECT_EQ(t.destroyed.load(), 4);  // the destructor returned: nothing of the group is left
  held.release();
  held.pool.shutdown();
  EXPECT_EQ(t.ran.load(), 0);
}

TEST(TaskGroup, NestedGroupsOnAOneThreadPoolDoNotDeadlock) {
  bg::pool pool(1);
  std::atomic<int> leaves{0};
  pool.submit([&leaves] {
        bg::task_group outer;  // on the running task's pool
        for (int i = 0; i < 4; ++i)
          outer.run([&leaves] {
            bg::task_group inner;
            for (int j = 0; j < 4; ++j) inner.run([&leaves] { leaves.fetch_add(1); });
            inner.wait();
          });
        outer.wait();
      })
      .get();
  EXPECT_EQ(leaves.load(), 16);
}

TEST(TaskGroup, WaitRunsQueuedCallsHereUnlessMadeWithNoRunHere) {
  held_pool held;
  const auto me = std::this_thread::get_id();
  std::vector<std::thread::id> here(4), there(4);
  {
    bg::task_group g(held.pool);
    for (auto &r : here) g.run([&r] { r = std::this_thread::get_id(); });
    EXPECT_TRUE(g.wait());  // the only worker is held: the waiter runs them
  }
  for (const auto &r : here) EXPECT_EQ(r, me);
  {
    bg::task_group g(held.pool, bg::group_policy::run_all, bg::no_run_here);
    for (auto &r : there) g.run([&r] { r = std::this_thread::get_id(); });
    std::thread opener([&held] {
      std::this_thread::sleep_for(20ms);
      held.release();
    });
    EXPECT_TRUE(g.wait());  // sleeps until the worker is free and has run them
    opener.join();
  }
  for (const auto &r : there) EXPECT_NE(r, me);
}
