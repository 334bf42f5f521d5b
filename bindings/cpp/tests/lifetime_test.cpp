// Captured state is destroyed exactly once, whatever becomes of the task:
// it runs, it is cancelled, its pool shuts down in cancel mode, or the
// submit is refused. (Batches and groups: in their own tests.)
#include <gtest/gtest.h>

#include <chrono>
#include <system_error>

#include "support.hpp"

using namespace std::chrono_literals;
using bgtest::counted;
using bgtest::held_pool;
using bgtest::tracker;

namespace {

// A callable that owns a counted object and marks it when it runs.
auto task_owning(tracker &t) {
  return [c = counted(t)] { c.mark_ran(); };
}

}  // namespace

TEST(Lifetime, RunDestroysTheStateOnceBeforeTheTaskIsSeenToEnd) {
  tracker t;
  auto f = bg::submit(task_owning(t));
  f.wait();
  EXPECT_EQ(t.ran.load(), 1);
  EXPECT_EQ(t.destroyed.load(), 1);  // already, while the future still holds the outcome
  f.get();
  EXPECT_EQ(t.destroyed.load(), 1);
}

TEST(Lifetime, MoveOnlyArgumentsAreDestroyedOnceToo) {
  tracker t;
  bg::submit([](const counted &c) { c.mark_ran(); }, counted(t)).get();
  EXPECT_EQ(t.ran.load(), 1);
  EXPECT_EQ(t.destroyed.load(), 1);
}

TEST(Lifetime, SpawnDestroysTheStateOnceAfterRunning) {
  tracker t;
  {
    bg::pool pool(2);
    pool.spawn(task_owning(t));
  }  // the destructor drains
  EXPECT_EQ(t.ran.load(), 1);
  EXPECT_EQ(t.destroyed.load(), 1);
}

TEST(Lifetime, CancelDestroysTheStateOnceWithoutRunning) {
  held_pool held;
  tracker t;
  auto f = held.pool.submit(task_owning(t));
  ASSERT_TRUE(f.cancel());
  EXPECT_EQ(t.destroyed.load(), 1);  // on this thread, before cancel() returned
  held.release();
  held.pool.shutdown();
  EXPECT_EQ(t.ran.load(), 0);
  EXPECT_EQ(t.destroyed.load(), 1);
}

TEST(Lifetime, CancelShutdownDestroysQueuedStateOnceWithoutRunning) {
  held_pool held;
  tracker submitted, spawned;
  auto f = held.pool.submit(task_owning(submitted));
  held.pool.spawn(task_owning(spawned));
  EXPECT_FALSE(held.pool.shutdown(bg::shutdown_mode::cancel, 0ms));  // the held worker is still busy
  held.release();
  EXPECT_TRUE(held.pool.shutdown(bg::shutdown_mode::cancel));
  for (tracker *t : {&submitted, &spawned}) {
    EXPECT_EQ(t->ran.load(), 0);
    EXPECT_EQ(t->destroyed.load(), 1);
  }
  try {
    f.get();
    FAIL() << "get() returned";
  } catch (const bg::error &e) {
    EXPECT_EQ(e.code(), bg::errc::shutdown);
  }
}

TEST(Lifetime, DrainShutdownRunsQueuedStateThenDestroysItOnce) {
  held_pool held;
  tracker t;
  held.pool.spawn(task_owning(t));
  held.release();
  EXPECT_TRUE(held.pool.shutdown(bg::shutdown_mode::drain));
  EXPECT_EQ(t.ran.load(), 1);
  EXPECT_EQ(t.destroyed.load(), 1);
}

TEST(Lifetime, ARefusedSubmitThrowsSystemErrorAndDestroysTheStateOnce) {
  bg::pool pool(1);
  ASSERT_TRUE(pool.shutdown());
  tracker submitted, spawned;
  try {
    auto f = pool.submit(task_owning(submitted));
    FAIL() << "submit() was accepted";
  } catch (const std::system_error &e) {
    EXPECT_EQ(e.code(), bg::errc::shutdown);
    EXPECT_EQ(&e.code().category(), &bg::error_category());
  }
  EXPECT_THROW(pool.spawn(task_owning(spawned)), bg::error);
  for (tracker *t : {&submitted, &spawned}) {
    EXPECT_EQ(t->ran.load(), 0);
    EXPECT_EQ(t->destroyed.load(), 1);
  }
}

TEST(Lifetime, AFullQueueRefusesAndDestroysTheStateOnce) {
  bg::pool_options options;
  options.max_queued = 1;
  held_pool held(options);
  tracker queued, refused;
  auto first = held.pool.submit(task_owning(queued));
  try {
    auto second = held.pool.submit(task_owning(refused));
    FAIL() << "submit() beyond max_queued was accepted";
  } catch (const bg::error &e) {
    EXPECT_EQ(e.code(), bg::errc::full);
    EXPECT_EQ(e.status(), BG_EFULL);
  }
  EXPECT_EQ(refused.destroyed.load(), 1);
  EXPECT_EQ(refused.ran.load(), 0);
  held.release();
  first.get();
  EXPECT_EQ(queued.ran.load(), 1);
  EXPECT_EQ(queued.destroyed.load(), 1);
}
