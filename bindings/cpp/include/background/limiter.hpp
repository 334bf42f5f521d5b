// bg::limiter: of the calls submitted through it, at most N run at once,
// started in submission order (bg_limit).
#ifndef BACKGROUND_HPP_LIMITER_HPP
#define BACKGROUND_HPP_LIMITER_HPP

#include <background.h>

#include <cstddef>
#include <utility>

#include "error.hpp"
#include "future.hpp"
#include "pool.hpp"

namespace bg {

/// Move-only. Destroying it does not block: what was submitted still runs,
/// within the limit, and the C limiter is freed after its last call.
class limiter {
 public:
  explicit limiter(std::size_t n, pool_ref pool = current_pool()) : pool_(pool.c_pool()) {
    detail::check(bg_limit_new(pool_, n, &limit_), "bg::limiter");
  }
  limiter(limiter &&other) noexcept : pool_(other.pool_), limit_(std::exchange(other.limit_, nullptr)) {}
  limiter &operator=(limiter &&other) noexcept {
    if (this != &other) {
      release();
      pool_ = other.pool_;
      limit_ = std::exchange(other.limit_, nullptr);
    }
    return *this;
  }
  ~limiter() { release(); }

  /// Queues `f(args...)`: it starts once fewer than N of this limiter's
  /// calls run and all submitted before it have started; as pool_ref::submit.
  template <class F, class... Args>
  future_of<F, Args...> submit(F &&f, Args &&...args) const {
    submit_options o;
    o.limit = limit_;
    return pool_ref(pool_).submit_with(o, std::forward<F>(f), std::forward<Args>(args)...);
  }

  /// Calls running now, and waiting.
  std::pair<std::size_t, std::size_t> counts() const {
    std::pair<std::size_t, std::size_t> out{0, 0};
    detail::check(bg_limit_counts(limit_, &out.first, &out.second), "bg::limiter::counts");
    return out;
  }

  bg_limit *c_limit() const noexcept { return limit_; }

 private:
  void release() noexcept {
    if (limit_) (void)bg_limit_free(std::exchange(limit_, nullptr));
  }
  bg_pool *pool_;
  bg_limit *limit_ = nullptr;
};

}  // namespace bg

#endif  // BACKGROUND_HPP_LIMITER_HPP
