// C++20: `co_await` a bg::future, and `co_await bg::resume_on(pool)`.
// Compiled only where the compiler supports coroutines.
#ifndef BACKGROUND_HPP_COROUTINE_HPP
#define BACKGROUND_HPP_COROUTINE_HPP

#if defined(__cpp_impl_coroutine) && __cpp_impl_coroutine >= 201902L && __has_include(<coroutine>)
#define BG_HAS_COROUTINES 1

#include <background.h>

#include <coroutine>
#include <exception>

#include "detail/call.hpp"
#include "error.hpp"
#include "error_handler.hpp"
#include "future.hpp"
#include "pool.hpp"

namespace bg {
namespace detail {

/// Resumes a suspended coroutine from a C callback. The awaiter lives in
/// the coroutine frame, which resuming may destroy: nothing of it is
/// touched after resume().
inline void resume_coroutine(std::coroutine_handle<> coroutine) noexcept {
  try {
    coroutine.resume();
  } catch (...) {  // only if the promise's unhandled_exception() rethrows
    report_exception(std::current_exception());
  }
}

template <class R>
class future_awaiter {
 public:
  explicit future_awaiter(future<R> &f) noexcept : future_(f) {}

  bool await_ready() const { return !future_.valid() || future_.ready(); }

  // bg_then runs the continuation even if the task ended in the meantime, so
  // no wake-up is lost. If it refuses, the coroutine goes on here and
  // await_resume() waits.
  bool await_suspend(std::coroutine_handle<> coroutine) {
    coroutine_ = coroutine;
    return bg_then(future_.c_task(), &resumed, this, &dropped, nullptr) == BG_OK;
  }

  R await_resume() { return future_.get(); }

 private:
  static int resumed(void *arg, bg_status, int) noexcept {
    auto *self = static_cast<future_awaiter *>(arg);
    resume_coroutine(self->coroutine_);
    return 0;
  }

  // The pool refused the continuation (shut down): resume anyway, on the
  // thread that found out, so the coroutine is not stranded; get() then
  // reports how the task ended.
  static void dropped(void *arg) noexcept {
    auto *self = static_cast<future_awaiter *>(arg);
    resume_coroutine(self->coroutine_);
  }

  future<R> &future_;
  std::coroutine_handle<> coroutine_;
};

}  // namespace detail

/// `co_await f` suspends until the task ends, then resumes the coroutine on
/// a worker of the task's pool and gives the value or rethrows. Consumes
/// the future, as get() does.
template <class R>
detail::future_awaiter<R> operator co_await(future<R> &f) noexcept {
  return detail::future_awaiter<R>(f);
}

/// For `co_await bg::submit(...)`: the temporary lives until the
/// co_await expression completes.
template <class R>
detail::future_awaiter<R> operator co_await(future<R> &&f) noexcept {
  return detail::future_awaiter<R>(f);
}

/// `co_await bg::resume_on(pool)` moves the coroutine onto a worker of
/// `pool`. Throws bg::error (errc::shutdown, errc::full) if the pool
/// refuses, or drops the resumption in a cancel shutdown.
class resume_on {
 public:
  explicit resume_on(pool_ref pool) noexcept : pool_(pool.c_pool()) {}

  bool await_ready() const noexcept { return false; }

  bool await_suspend(std::coroutine_handle<> coroutine) {
    coroutine_ = coroutine;
    const bg_status status = bg_pool_submit(pool_, &resumed, this, &dropped, nullptr);
    if (status == BG_OK) return true;  // may already be running elsewhere: touch nothing
    status_ = status;
    return false;
  }

  void await_resume() const {
    if (status_ != BG_OK) detail::throw_status(status_, "bg::resume_on");
  }

 private:
  static int resumed(void *arg) noexcept {
    auto *self = static_cast<resume_on *>(arg);
    detail::resume_coroutine(self->coroutine_);
    return 0;
  }

  static void dropped(void *arg) noexcept {
    auto *self = static_cast<resume_on *>(arg);
    self->status_ = BG_ESHUTDOWN;
    detail::resume_coroutine(self->coroutine_);
  }

  bg_pool *pool_;
  std::coroutine_handle<> coroutine_;
  bg_status status_ = BG_OK;
};

}  // namespace bg

#endif  // coroutines
#endif  // BACKGROUND_HPP_COROUTINE_HPP
