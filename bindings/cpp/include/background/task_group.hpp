// bg::task_group: run many calls, wait for all, get the first exception.
#ifndef BACKGROUND_HPP_TASK_GROUP_HPP
#define BACKGROUND_HPP_TASK_GROUP_HPP

#include <background.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <utility>

#include "detail/call.hpp"
#include "detail/job.hpp"
#include "error.hpp"
#include "error_handler.hpp"
#include "pool.hpp"

namespace bg {

/// What the group does when one of its calls throws.
enum class group_policy : std::uint32_t {
  run_all = BG_GROUP_DEFAULT,                  // every call still runs
  cancel_on_error = BG_GROUP_CANCEL_ON_ERROR,  // calls not yet started never run
};

namespace detail {

/// Shared by the group and its jobs (which may outlive the group object).
struct group_state {
  std::mutex lock;
  std::exception_ptr first;  // the first exception thrown by a call
  bool delivered = false;    // wait() has rethrown it


  void record(std::exception_ptr e) {
    const std::lock_guard<std::mutex> guard(lock);
    if (!first) first = std::move(e);
  }
};

struct group_sink {
  std::shared_ptr<group_state> state;

  int operator()(std::exception_ptr e) const noexcept {
    try {
      state->record(std::move(e));
    } catch (...) {  // the lock failed: the failure still counts through the code
    }
    return exception_result;
  }
};

}  // namespace detail

/// A set of calls run on one pool. wait() blocks until all have ended and
/// rethrows the first exception any of them threw. From a thread outside
/// every pool, wait() first runs the calls no worker has started on the
/// waiting thread, as TBB's task_group::wait() does (a group made with
/// bg::no_run_here does not; see BG_GROUP_NO_CALLER_RUNS in background.h).
///
/// The destructor also waits (so calls may borrow from the owner's scope);
/// if the scope is being left by an exception, calls not yet started are
/// cancelled first. An exception no wait() rethrew goes to the error
/// handler. Move-only; one thread at a time uses a group object (calls may
/// run() into it from inside its own tasks).
class task_group {
 public:
  explicit task_group(pool_ref pool = current_pool(), group_policy policy = group_policy::run_all)
      : task_group(pool, static_cast<std::uint32_t>(policy)) {}

  /// A group whose wait() never runs its calls on the waiting thread
  /// (BG_GROUP_NO_CALLER_RUNS): for a waiter whose thread-local state the
  /// calls must not see, or that holds a lock they take.
  task_group(pool_ref pool, group_policy policy, no_run_here_t)
      : task_group(pool, static_cast<std::uint32_t>(policy) | BG_GROUP_NO_CALLER_RUNS) {}

  task_group(task_group &&other) noexcept
      : group_(std::exchange(other.group_, nullptr)), state_(std::move(other.state_)), uncaught_(other.uncaught_) {}

  task_group &operator=(task_group &&other) noexcept {
    if (this != &other) {
      finish();
      group_ = std::exchange(other.group_, nullptr);
      state_ = std::move(other.state_);
      uncaught_ = other.uncaught_;
    }
    return *this;
  }

  ~task_group() { finish(); }

  /// Queues `f(args...)`. Its captured state is destroyed exactly once:
  /// after the call, when it is cancelled, or here if refused (bg::error:
  /// errc::cancelled after cancel(), errc::shutdown, errc::full).
  template <class F, class... Args>
  void run(F &&f, Args &&...args) {
    bg_group *const group = group_;
    detail::submit_detached<detail::bound_t<F, Args...>>(
        detail::group_sink{state_}, "bg::task_group::run",
        [group](bg_fn fn, void *arg, bg_drop_fn drop) { return bg_group_submit(group, fn, arg, drop, nullptr); },
        std::in_place, std::forward<F>(f), std::forward<Args>(args)...);
  }

  /// Waits for every call run so far. Rethrows the first exception; returns
  /// false if some calls never ran (cancelled), true if all ran. May be
  /// called again after more run()s; the outcome accumulates over the
  /// group's life, so once a call has thrown every wait() rethrows that
  /// first exception.
  bool wait() {
    const bg_status status = bg_group_wait(group_, BG_FOREVER, nullptr);
    if (status == BG_OK) return true;
    if (status == BG_ECANCELLED) return false;
    if (status == BG_EFAILED) {
      std::exception_ptr first;
      {
        const std::lock_guard<std::mutex> guard(state_->lock);
        state_->delivered = true;
        first = state_->first;
      }
      if (first) std::rethrow_exception(first);
    }
    detail::throw_status(status, "bg::task_group::wait");
  }

  /// Cancels every call not yet started (their captured state is destroyed
  /// now) and refuses later run()s.
  void cancel() { detail::check(bg_group_cancel(group_), "bg::task_group::cancel"); }

  bg_group *c_group() const noexcept { return group_; }

 private:
  task_group(pool_ref pool, std::uint32_t flags)
      : state_(std::make_shared<detail::group_state>()), uncaught_(std::uncaught_exceptions()) {
    detail::check(bg_group_new(pool.c_pool(), flags, &group_), "bg::task_group");
  }

  void finish() noexcept {
    if (!group_) return;
    if (std::uncaught_exceptions() > uncaught_) static_cast<void>(bg_group_cancel(group_));
    if (bg_group_wait(group_, BG_FOREVER, nullptr) == BG_EFAILED) {
      std::exception_ptr unseen;
      {
        const std::lock_guard<std::mutex> guard(state_->lock);
        if (!state_->delivered) unseen = state_->first;
      }
      if (unseen) report_exception(unseen);
    }
    static_cast<void>(bg_group_free(std::exchange(group_, nullptr)));
  }

  bg_group *group_ = nullptr;
  std::shared_ptr<detail::group_state> state_;
  int uncaught_;
};

}  // namespace bg

#endif  // BACKGROUND_HPP_TASK_GROUP_HPP
