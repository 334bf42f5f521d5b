// Test helpers: objects that count their destruction, a gate threads can
// wait on, and a one-thread pool whose worker is held busy on demand.
#ifndef BACKGROUND_CPP_TESTS_SUPPORT_HPP
#define BACKGROUND_CPP_TESTS_SUPPORT_HPP

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <utility>

#include <background.hpp>

namespace bgtest {

// Generous: waits only fail when something is really stuck.
constexpr std::chrono::seconds patience{60};

/// Counts what happens to the captured state of one task.
struct tracker {
  std::atomic<int> ran{0};
  std::atomic<int> destroyed{0};
};

/// Move-only state that records its single destruction (moved-from shells
/// do not count), and whether the task that carries it ran.
class counted {
 public:
  explicit counted(tracker &t) noexcept : t_(&t) {}
  counted(counted &&other) noexcept : t_(std::exchange(other.t_, nullptr)) {}
  counted &operator=(counted &&) = delete;
  counted(const counted &) = delete;
  ~counted() {
    if (t_) t_->destroyed.fetch_add(1);
  }

  void mark_ran() const { t_->ran.fetch_add(1); }

 private:
  tracker *t_;
};

/// A one-shot gate: open() lets every wait() through.
class gate {
 public:
  void open() {
    {
      const std::lock_guard<std::mutex> guard(lock_);
      open_ = true;
    }
    cv_.notify_all();
  }

  /// False if the gate stayed shut for `patience`.
  bool wait() {
    std::unique_lock<std::mutex> guard(lock_);
    return cv_.wait_for(guard, patience, [this] { return open_; });
  }

 private:
  std::mutex lock_;
  std::condition_variable cv_;
  bool open_ = false;
};

/// A one-thread pool whose only worker sits in a task until release(), so
/// that whatever is submitted meanwhile stays queued.
class held_pool {
 public:
  explicit held_pool(bg::pool_options options = {}) : pool(with_one_thread(std::move(options))) {
    pool.spawn([this] {
      started_.open();
      EXPECT_TRUE(released_.wait()) << "held_pool: release() never came";
    });
    EXPECT_TRUE(started_.wait());
  }

  ~held_pool() { release(); }

  void release() { released_.open(); }

 private:
  static bg::pool_options with_one_thread(bg::pool_options options) {
    options.threads = 1;
    // The held worker is blocked on a condition variable: without this a
    // spare thread would stand in for it and run what the test means to keep
    // queued.
    options.max_threads = 1;
    return options;
  }

  gate started_;
  gate released_;

 public:
  bg::pool pool;  // after the gates: destroyed (joined) before them
};

/// The calling thread's name, as pool options name workers ("<name>-<index>").
inline std::string thread_name() {
  char name[32] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return name;
}

/// Installs an error handler for one test and restores the previous one.
class scoped_error_handler {
 public:
  explicit scoped_error_handler(bg::error_handler h) : previous_(bg::set_error_handler(std::move(h))) {}
  ~scoped_error_handler() { bg::set_error_handler(std::move(previous_)); }
  scoped_error_handler(const scoped_error_handler &) = delete;
  scoped_error_handler &operator=(const scoped_error_handler &) = delete;

 private:
  bg::error_handler previous_;
};

/// What an exception_ptr says, for assertions.
inline std::string what_of(const std::exception_ptr &e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception &x) {
    return x.what();
  } catch (...) {
    return "(not a std::exception)";
  }
}

}  // namespace bgtest

#endif  // BACKGROUND_CPP_TESTS_SUPPORT_HPP
