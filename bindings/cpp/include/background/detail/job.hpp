// A call without a future (spawn, task_group::run, batch::add): its
// exception goes to a sink instead of to a waiter.
#ifndef BACKGROUND_HPP_DETAIL_JOB_HPP
#define BACKGROUND_HPP_DETAIL_JOB_HPP

#include <background.h>

#include <exception>
#include <memory>
#include <utility>

#include "../error.hpp"
#include "../error_handler.hpp"
#include "call.hpp"

namespace bg {
namespace detail {

/// Sink of bg::spawn: the error handler. The task still counts as failed.
struct report_sink {
  int operator()(std::exception_ptr e) const noexcept {
    report_exception(std::move(e));
    return exception_result;
  }
};

/// Exactly once: the library owns the job from a successful submit until
/// run() or drop(), each of which deletes it (captured state included)
/// before returning. Sink: `int operator()(exception_ptr)` returning the C
/// result code.
template <class Fn, class Sink>
struct detached_job {
  template <class... A>
  explicit detached_job(Sink s, A &&...args) : sink(std::move(s)), fn(std::forward<A>(args)...) {}

  Sink sink;
  Fn fn;

  static int run(void *arg) noexcept {
    const std::unique_ptr<detached_job> job(static_cast<detached_job *>(arg));
    try {
      static_cast<void>(job->fn());
      return 0;
    } catch (...) {
      return job->sink(std::current_exception());
    }
  }

  static void drop(void *arg) noexcept { delete static_cast<detached_job *>(arg); }
};

/// Hands `Fn(args...)` to `c_submit(run, arg, drop)`. If it is refused, the
/// callable is destroyed here, once, and a bg::error is thrown.
template <class Fn, class Sink, class CSubmit, class... A>
void submit_detached(Sink sink, const char *where, CSubmit &&c_submit, A &&...args) {
  using job_t = detached_job<Fn, Sink>;
  auto job = std::make_unique<job_t>(std::move(sink), std::forward<A>(args)...);
  check(c_submit(&job_t::run, static_cast<void *>(job.get()), &job_t::drop), where);
  static_cast<void>(job.release());
}

}  // namespace detail
}  // namespace bg

#endif  // BACKGROUND_HPP_DETAIL_JOB_HPP
