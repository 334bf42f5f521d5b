// bg::batch: FastAPI's BackgroundTasks. Collect calls with add(), then
// submit() them as one unit that runs them one after another, in order.
// Never submitted, nothing runs.
#ifndef BACKGROUND_HPP_BATCH_HPP
#define BACKGROUND_HPP_BATCH_HPP

#include <background.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <utility>

#include "detail/call.hpp"
#include "detail/job.hpp"
#include "error.hpp"
#include "future.hpp"
#include "pool.hpp"

namespace bg {

/// What the batch does after a call throws.
enum class batch_policy : std::uint32_t {
  stop_on_error = BG_BATCH_STOP_ON_ERROR,  // later calls never run
  run_all = BG_BATCH_RUN_ALL,              // later calls still run
};

namespace detail {

/// The batch future's outcome, shared with every call of the batch.
struct batch_state : outcome<void> {
  std::mutex lock;

  void record(std::exception_ptr e) {
    {
      const std::lock_guard<std::mutex> guard(lock);
      if (error) return;
      error = std::move(e);
    }
    mark_failed();  // the first failure; later ones are not reported apart
  }
};

struct batch_sink {
  std::shared_ptr<batch_state> state;

  int operator()(std::exception_ptr e) const noexcept {
    try {
      state->record(std::move(e));
    } catch (...) {  // the lock failed: the failure still counts through the code
    }
    return exception_result;
  }
};

}  // namespace detail

/// Move-only; one thread at a time. Destroying a batch that was never
/// submitted destroys every added call's captured state without running it.
class batch {
 public:
  batch() : state_(std::make_shared<detail::batch_state>()) { detail::check(bg_batch_new(&batch_), "bg::batch"); }

  batch(batch &&other) noexcept : batch_(std::exchange(other.batch_, nullptr)), state_(std::move(other.state_)) {}

  batch &operator=(batch &&other) noexcept {
    if (this != &other) {
      release();
      batch_ = std::exchange(other.batch_, nullptr);
      state_ = std::move(other.state_);
    }
    return *this;
  }

  ~batch() { release(); }

  /// Adds `f(args...)`; nothing runs until submit(). Its result is ignored.
  /// Throws bg::error (errc::invalid_argument) once the batch is submitted.
  template <class F, class... Args>
  void add(F &&f, Args &&...args) {
    bg_batch *const b = batch_;
    detail::submit_detached<detail::bound_t<F, Args...>>(
        detail::batch_sink{state_}, "bg::batch::add",
        [b](bg_fn fn, void *arg, bg_drop_fn drop) { return bg_batch_add(b, fn, arg, drop); }, std::in_place,
        std::forward<F>(f), std::forward<Args>(args)...);
  }

  /// The number of calls added.
  std::size_t size() const noexcept { return bg_batch_size(batch_); }

  /// Runs the calls on `pool`, one after another in the order added, and
  /// returns a future that ends with the last: get() rethrows the first
  /// exception. Submits at most once (bg::error: errc::invalid_argument).
  future<void> submit(pool_ref pool = current_pool(), batch_policy policy = batch_policy::stop_on_error) {
    state_->pool = pool.c_pool();
    bg_task *task = nullptr;
    detail::check(bg_batch_submit(batch_, pool.c_pool(), static_cast<std::uint32_t>(policy), &task),
                  "bg::batch::submit");
    return detail::future_access::make<void>(task, state_);
  }

  /// How call `index` (in the order added) ended, once the batch has:
  /// BG_OK, BG_EFAILED (it threw), BG_ECANCELLED (never ran), BG_ESHUTDOWN;
  /// BG_ERUNNING while the batch runs; BG_EINVAL for a bad index.
  bg_status status(std::size_t index) const noexcept { return bg_batch_status(batch_, index, nullptr); }

  bg_batch *c_batch() const noexcept { return batch_; }

 private:
  void release() noexcept {
    if (batch_) static_cast<void>(bg_batch_free(std::exchange(batch_, nullptr)));
  }

  bg_batch *batch_ = nullptr;
  std::shared_ptr<detail::batch_state> state_;
};

}  // namespace bg

#endif  // BACKGROUND_HPP_BATCH_HPP
