// bg::batch: FastAPI's BackgroundTasks. add(), then submit(): in order, one
// after another. Never submitted: nothing runs, captured state is destroyed.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "support.hpp"

using bgtest::counted;
using bgtest::tracker;

TEST(Batch, AnUnsubmittedBatchRunsNothingAndDestroysEachCallOnce) {
  tracker t;
  {
    bg::batch tasks;
    for (int i = 0; i < 3; ++i) tasks.add([c = counted(t)] { c.mark_ran(); });
    EXPECT_EQ(tasks.size(), 3u);
  }  // e.g. the handler threw before the response
  EXPECT_EQ(t.ran.load(), 0);
  EXPECT_EQ(t.destroyed.load(), 3);
}

TEST(Batch, SubmittedCallsRunInOrderOneAfterAnother) {
  std::vector<std::string> log;  // no lock: a batch runs its calls one at a time
  bg::batch tasks;
  tasks.add([&log](std::string s) { log.push_back(std::move(s)); }, "send email");
  tasks.add([&log] { log.push_back("write audit log"); });
  tasks.add([&log](const char *s) { log.push_back(s); }, "warm cache");
  tasks.submit().get();
  EXPECT_EQ(log, (std::vector<std::string>{"send email", "write audit log", "warm cache"}));
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(tasks.status(i), BG_OK);
}

TEST(Batch, StopOnErrorSkipsTheRestAndRethrows) {
  tracker after;
  bg::batch tasks;
  tasks.add([] {});
  tasks.add([] { throw std::runtime_error("smtp down"); });
  tasks.add([c = counted(after)] { c.mark_ran(); });
  auto done = tasks.submit(bg::current_pool(), bg::batch_policy::stop_on_error);
  try {
    done.get();
    FAIL() << "get() returned";
  } catch (const std::runtime_error &e) {
    EXPECT_STREQ(e.what(), "smtp down");
  }
  EXPECT_EQ(tasks.status(0), BG_OK);
  EXPECT_EQ(tasks.status(1), BG_EFAILED);
  EXPECT_EQ(tasks.status(2), BG_ECANCELLED);
  EXPECT_EQ(after.ran.load(), 0);
  EXPECT_EQ(after.destroyed.load(), 1);
}

TEST(Batch, RunAllRunsEveryCallAndRethrowsTheFirstException) {
  std::vector<int> ran;
  bg::batch tasks;
  tasks.add([&ran] {
    ran.push_back(0);
    throw std::runtime_error("first");
  });
  tasks.add([&ran] {
    ran.push_back(1);
    throw std::runtime_error("second");
  });
  tasks.add([&ran] { ran.push_back(2); });
  auto done = tasks.submit(bg::current_pool(), bg::batch_policy::run_all);
  try {
    done.get();
    FAIL() << "get() returned";
  } catch (const std::runtime_error &e) {
    EXPECT_STREQ(e.what(), "first");
  }
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2}));
}

TEST(Batch, ABatchIsSubmittedAtMostOnce) {
  bg::batch tasks;
  tasks.add([] {});
  tasks.submit().get();
  EXPECT_THROW(static_cast<void>(tasks.submit()), bg::error);
  tracker t;
  try {
    tasks.add([c = counted(t)] { c.mark_ran(); });
    FAIL() << "add() after submit() was accepted";
  } catch (const bg::error &e) {
    EXPECT_EQ(e.code(), bg::errc::invalid_argument);
  }
  EXPECT_EQ(t.destroyed.load(), 1);
}

TEST(Batch, AnEmptyBatchCompletes) {
  bg::batch tasks;
  EXPECT_EQ(tasks.size(), 0u);
  tasks.submit().get();
}

TEST(Batch, ItsFutureCanBeContinued) {
  std::vector<int> log;
  bg::batch tasks;
  tasks.add([&log] { log.push_back(1); });
  auto f = tasks.submit().then([&log] {
    log.push_back(2);
    return log.size();
  });
  EXPECT_EQ(f.get(), 2u);
}
