// bg::serial_queue: calls that run one at a time, in submission order, on a
// pool's threads; different queues run in parallel.
#ifndef BACKGROUND_HPP_SERIAL_QUEUE_HPP
#define BACKGROUND_HPP_SERIAL_QUEUE_HPP

#include <background.h>

#include <utility>

#include "detail/call.hpp"
#include "detail/job.hpp"
#include "error.hpp"
#include "future.hpp"
#include "pool.hpp"

namespace bg {

/// Move-only. Destroying the queue does not block: what was submitted still
/// runs, in order, and the C queue is freed after its last task.
class serial_queue {
 public:
  explicit serial_queue(pool_ref pool = current_pool()) : pool_(pool.c_pool()) {
    detail::check(bg_serial_new(pool_, &queue_), "bg::serial_queue");
  }

  serial_queue(serial_queue &&other) noexcept
      : pool_(other.pool_), queue_(std::exchange(other.queue_, nullptr)) {}

  serial_queue &operator=(serial_queue &&other) noexcept {
    if (this != &other) {
      release();
      pool_ = other.pool_;
      queue_ = std::exchange(other.queue_, nullptr);
    }
    return *this;
  }

  ~serial_queue() { release(); }

  /// Queues `f(args...)` behind everything submitted before; as pool_ref::submit.
  template <class F, class... Args>
  future_of<F, Args...> submit(F &&f, Args &&...args) {
    using R = detail::value_t<detail::call_result_t<F, Args...>>;
    bg_serial *const queue = queue_;
    return detail::submit_future<R, detail::bound_t<F, Args...>>(
        pool_, "bg::serial_queue::submit",
        [queue](bg_fn run, void *arg, bg_drop_fn drop, bg_task **out) {
          return bg_serial_submit(queue, run, arg, drop, out);
        },
        std::in_place, std::forward<F>(f), std::forward<Args>(args)...);
  }

  /// Queues `f(args...)` with no future; as pool_ref::spawn.
  template <class F, class... Args>
  void spawn(F &&f, Args &&...args) {
    bg_serial *const queue = queue_;
    detail::submit_detached<detail::bound_t<F, Args...>>(
        detail::report_sink{}, "bg::serial_queue::spawn",
        [queue](bg_fn run, void *arg, bg_drop_fn drop) { return bg_serial_submit(queue, run, arg, drop, nullptr); },
        std::in_place, std::forward<F>(f), std::forward<Args>(args)...);
  }

  bg_serial *c_queue() const noexcept { return queue_; }

 private:
  void release() noexcept {
    if (queue_) static_cast<void>(bg_serial_free(std::exchange(queue_, nullptr)));
  }

  bg_pool *pool_;
  bg_serial *queue_ = nullptr;
};

}  // namespace bg

#endif  // BACKGROUND_HPP_SERIAL_QUEUE_HPP
