// Blocking tasks (issue 14): a task blocked in the kernel (a sleep, a read,
// a condition-variable wait) does not hold up the tasks queued behind it,
// because a spare thread stands in for it; CPU-bound tasks never add one.
// Bounds are generous: a loaded 2-CPU CI machine must pass them.
#include <gtest/gtest.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "support.hpp"

using bgtest::gate;
using std::chrono::steady_clock;

namespace {

// The sleeping task holds its only worker for this long (the test's cost:
// ~pool drains); the queued task must start well before it returns. A spare
// takes it after a monitor tick or two (about 1 ms); the bound is for a
// loaded CI machine.
constexpr auto block_for = std::chrono::seconds(3);
constexpr auto bound = std::chrono::seconds(2);

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

TEST(Blocking, ASleepingTaskDoesNotDelayAQueuedOne) {
  bg::pool pool(1);
  gate asleep;
  pool.spawn([&] {
    asleep.open();
    std::this_thread::sleep_for(block_for);
  });
  ASSERT_TRUE(asleep.wait());
  const auto t0 = steady_clock::now();
  auto queued = pool.submit([] { return steady_clock::now(); });
  const auto started = queued.get(bg::no_run_here);  // not run by this waiter
  EXPECT_LT(started - t0, bound) << "the queued task waited for the sleeping one";
  EXPECT_GE(pool.stats().spares, 1u) << "a spare thread ran it";
}

TEST(Blocking, ATaskBlockedInReadDoesNotDelayAQueuedOne) {
  bg::pool pool(1);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::atomic<long> got{-1};
  gate reading;
  pool.spawn([&] {
    reading.open();
    char b = 0;
    got = static_cast<long>(read(fds[0], &b, 1));
  });
  ASSERT_TRUE(reading.wait());
  // Without a spare this deadlocks: the reader waits for a byte that only
  // the queued task writes.
  auto writer = pool.submit([&] { return write(fds[1], "x", 1); });
  EXPECT_EQ(writer.get(), 1);
  ASSERT_TRUE(pool.shutdown());
  EXPECT_EQ(got.load(), 1);
  close(fds[0]);
  close(fds[1]);
}

TEST(Blocking, ABlockingSectionGetsASpareAtOnce) {
  // The spinner waits without blocking in the kernel, so the monitor never
  // counts it: only its blocking_section lets the flag's setter run.
  bg::pool pool(1);
  std::atomic<bool> flag{false};
  auto spinner = pool.submit([&] {
    bg::blocking_section waiting;
    while (!flag.load()) {
    }
    return true;
  });
  auto setter = pool.submit([&] {
    const auto blocked = pool.stats().blocked;
    flag = true;
    return blocked;
  });
  // On the pool's threads: a setter this waiter ran could run first.
  EXPECT_EQ(setter.get(bg::no_run_here), 1u) << "the spinner counted as blocked";
  EXPECT_TRUE(spinner.get(bg::no_run_here));
}

TEST(Blocking, CpuBoundTasksNeverAddAThread) {
  bg::pool pool(2);
  std::atomic<int> left{8};
  for (int i = 0; i < 8; i++) {
    pool.spawn([&] {
      // 50 ms of this thread's CPU, however long the machine makes it take.
      const double end = thread_cpu_seconds() + 0.05;
      volatile unsigned x = 0;
      while (thread_cpu_seconds() < end) x = x + 1;
      left.fetch_sub(1);
    });
  }
  std::uint64_t most = 0;
  const auto give_up = steady_clock::now() + bgtest::patience;
  while (left.load() > 0 && steady_clock::now() < give_up) {
    const bg_stats s = pool.stats();
    most = std::max<std::uint64_t>(most, s.spares);
    EXPECT_EQ(s.threads, 2u);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(left.load(), 0);
  EXPECT_EQ(most, 0u) << "a computing task added a spare thread";
}

TEST(Blocking, MaxThreadsEqualToThreadsMeansNoSpares) {
  bg::pool_options o;
  o.threads = 1;
  o.max_threads = 1;
  bg::pool pool(o);
  gate release;
  gate asleep;
  pool.spawn([&] {
    asleep.open();
    EXPECT_TRUE(release.wait());
  });
  ASSERT_TRUE(asleep.wait());
  auto queued = pool.submit([] { return 1; });
  EXPECT_EQ(queued.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  EXPECT_EQ(pool.stats().spares, 0u);
  release.open();
  EXPECT_EQ(queued.get(), 1);
}
