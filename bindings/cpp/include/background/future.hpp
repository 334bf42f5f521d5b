// bg::future<R>: a bg_task handle plus the C++ outcome of the call (value or
// exception), and the job type that carries a callable to a worker and
// fills that outcome.
#ifndef BACKGROUND_HPP_FUTURE_HPP
#define BACKGROUND_HPP_FUTURE_HPP

#include <background.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "detail/call.hpp"
#include "error.hpp"
#include "error_handler.hpp"

namespace bg {

template <class R>
class future;

namespace detail {

/// The outcome of a call, written by the task before it ends and read only
/// after a wait has seen it end (the C library orders the two).
struct outcome_base {
  std::exception_ptr error;  // the callable threw
  bg_pool *pool = nullptr;   // where the call runs; continuations run there too

  // An exception nobody get()s goes to the error handler: whichever comes
  // second of "the call failed" and "its future was dropped unread"
  // reports it, so it is reported exactly once, and never after a get().
  static constexpr unsigned failed_bit = 1, dropped_bit = 2;
  std::atomic<unsigned> fate{0};

  /// The call threw; `error` is set (written before this).
  void mark_failed() noexcept {
    const unsigned prev = fate.fetch_or(failed_bit, std::memory_order_acq_rel);
    if (!(prev & failed_bit) && (prev & dropped_bit)) report_exception(error);
  }

  /// The future is gone without a get().
  void mark_dropped() noexcept {
    if (fate.fetch_or(dropped_bit, std::memory_order_acq_rel) & failed_bit) report_exception(error);
  }
};

template <class R>
struct outcome : outcome_base {
  using stored = std::conditional_t<std::is_reference_v<R>, std::reference_wrapper<std::remove_reference_t<R>>, R>;
  std::optional<stored> value;

  template <class Call>
  int capture(Call &&call) noexcept {
    try {
      value.emplace(std::forward<Call>(call)());
      return 0;
    } catch (...) {
      error = std::current_exception();
      return exception_result;
    }
  }
};

template <>
struct outcome<void> : outcome_base {
  template <class Call>
  int capture(Call &&call) noexcept {
    try {
      static_cast<void>(std::forward<Call>(call)());
      return 0;
    } catch (...) {
      error = std::current_exception();
      return exception_result;
    }
  }
};

struct release_task {
  void operator()(bg_task *task) const noexcept { static_cast<void>(bg_task_release(task)); }
};

using task_ptr = std::unique_ptr<bg_task, release_task>;

/// Turns how a task ended into the future's answer: nothing (it ran and
/// returned), the callable's exception, or a bg::error (it never ran).
inline void rethrow_outcome(bg_status status, const outcome_base &out, const char *where) {
  if (status == BG_OK || status == BG_EFAILED) {
    if (out.error) std::rethrow_exception(out.error);
    if (status == BG_OK) return;
  }
  throw_status(status, where);
}

struct future_access {
  template <class R>
  static future<R> make(bg_task *task, std::shared_ptr<outcome<R>> out) noexcept {
    return future<R>(task, std::move(out));
  }
};

/// Whether a continuation takes the antecedent's value (or nothing, for
/// void) rather than the antecedent future itself.
template <class R, class Fn>
struct value_continuation {
  static constexpr bool value = std::is_invocable_v<Fn, R>;
  using result = std::invoke_result<Fn, R>;
};

template <class Fn>
struct value_continuation<void, Fn> {
  static constexpr bool value = std::is_invocable_v<Fn>;
  using result = std::invoke_result<Fn>;
};

template <class R, class Fn, bool = value_continuation<R, Fn>::value>
struct then_result {
  using type = value_t<typename value_continuation<R, Fn>::result::type>;
};

template <class R, class Fn>
struct then_result<R, Fn, false> {
  static_assert(std::is_invocable_v<Fn, future<R>>,
                "then(f): f must take the value (nothing for future<void>) or a bg::future<R>");
  using type = value_t<std::invoke_result_t<Fn, future<R>>>;
};

template <class R, class F>
using then_result_t = typename then_result<R, std::decay_t<F>>::type;

}  // namespace detail

/// Tag for future::wait(), future::get() and a task_group: never run the
/// task on the waiting thread (BG_WAIT_NO_RUN_HERE, BG_GROUP_NO_CALLER_RUNS),
/// for a waiter whose thread-local state the task must not see, or that
/// holds a lock the task takes.
struct no_run_here_t {
  explicit no_run_here_t() = default;
};
inline constexpr no_run_here_t no_run_here{};

/// The result of a task: get() returns its value or rethrows its exception.
///
/// Move-only. Destroying a future releases the handle: it neither waits for
/// nor cancels the task. If the task threw and no get() (or then()) took the
/// exception, it goes to the error handler (bg::set_error_handler), once:
/// when the future goes, or when the task fails if the future went first.
///
/// wait(), wait_for(), wait_until() and ready() may be called from any
/// number of threads; get(), then() and assignment may not race with
/// anything else on the same future. Waiting on a worker thread runs other
/// queued work of that worker's pool meanwhile. wait() and get() from a
/// thread outside every pool run the task on that thread if no worker has
/// started it (see bg_wait()); pass bg::no_run_here to leave it to a worker.
template <class R>
class [[nodiscard]] future {
 public:
  using value_type = R;

  /// An invalid future, as std::future's default.
  future() noexcept = default;

  future(future &&other) noexcept = default;

  future &operator=(future &&other) noexcept {
    if (this != &other) {
      drop();
      task_ = std::move(other.task_);
      out_ = std::move(other.out_);
    }
    return *this;
  }

  ~future() { drop(); }

  /// Whether the future refers to a task (false after get() or then()).
  bool valid() const noexcept { return task_ != nullptr; }

  /// True once the task has ended (ran, was cancelled, or was dropped by a
  /// shutdown). Never blocks.
  bool ready() const { return bg_done(handle()); }

  /// Blocks until the task has ended. Never throws the task's exception.
  void wait() const { check_wait(bg_wait(handle(), nullptr)); }

  /// wait(), never running the task on this thread.
  void wait(no_run_here_t) const { check_wait(wait_no_run_here()); }

  /// Blocks until the task has ended or `timeout` has passed.
  template <class Rep, class Period>
  std::future_status wait_for(const std::chrono::duration<Rep, Period> &timeout) const {
    const bg_status status = bg_wait_timeout(handle(), detail::to_timeout_ns(timeout), nullptr);
    if (status == BG_ETIMEDOUT) return std::future_status::timeout;
    check_wait(status);
    return std::future_status::ready;
  }

  template <class Clock, class Duration>
  std::future_status wait_until(const std::chrono::time_point<Clock, Duration> &deadline) const {
    return wait_for(deadline - Clock::now());
  }

  /// Cancels the task if it has not started: its captured state is
  /// destroyed now, on this thread, and get() will throw bg::error
  /// (errc::cancelled). Returns false if it has already started or ended.
  bool cancel() {
    const bg_status status = bg_cancel(handle());
    if (status == BG_OK) return true;
    if (status == BG_ERUNNING || status == BG_EDONE) return false;
    detail::throw_status(status, "bg::future::cancel");
  }

  /// Waits, then returns the value or rethrows the callable's exception.
  /// If the task never ran, throws bg::error (errc::cancelled or
  /// errc::shutdown). The future is invalid afterwards, unless the wait
  /// itself failed (errc::deadlock: waiting from a serial-queue task on a
  /// later task of the same queue).
  R get() { return take(bg_wait(handle(), nullptr)); }

  /// get(), never running the task on this thread.
  R get(no_run_here_t) { return take(wait_no_run_here()); }

  /// Runs `f` on the task's pool once the task has ended, and returns the
  /// continuation's future. `f` takes the value (nothing for future<void>):
  /// it is skipped, and its future gets the same exception, if the task threw
  /// or never ran. Or `f` takes this future, ended, and handles errors
  /// itself. Invalidates this future.
  template <class F>
  future<detail::then_result_t<R, F>> then(F &&f);

  /// The C handle, still owned by this future (NULL if invalid); for C
  /// functions such as bg_cq_watch().
  bg_task *c_task() const noexcept { return task_.get(); }

  /// The pool the task was submitted to.
  bg_pool *c_pool() const noexcept { return out_ ? out_->pool : nullptr; }

 private:
  friend struct detail::future_access;

  bg_status wait_no_run_here() const { return bg_wait_ex(handle(), BG_FOREVER, BG_WAIT_NO_RUN_HERE, nullptr); }

  /// get() once the wait returned `status`.
  R take(bg_status status) {
    check_wait(status);  // not ended (e.g. errc::deadlock): the future stays valid
    task_.reset();
    const std::shared_ptr<detail::outcome<R>> out = std::move(out_);
    detail::rethrow_outcome(status, *out, "bg::future::get");
    if constexpr (std::is_lvalue_reference_v<R>) {
      return out->value->get();
    } else if constexpr (!std::is_void_v<R>) {
      return std::move(*out->value);
    }
  }

  void drop() noexcept {
    if (out_) std::exchange(out_, nullptr)->mark_dropped();
    task_.reset();
  }

  future(bg_task *task, std::shared_ptr<detail::outcome<R>> out) noexcept : task_(task), out_(std::move(out)) {}

  bg_task *handle() const {
    if (!task_) throw std::future_error(std::future_errc::no_state);
    return task_.get();
  }

  static void check_wait(bg_status status) {
    switch (status) {
      case BG_OK:
      case BG_EFAILED:
      case BG_ECANCELLED:
      case BG_ESHUTDOWN:
      case BG_EEXPIRED:
        return;
      default:
        detail::throw_status(status, "bg::future::wait");
    }
  }

  detail::task_ptr task_;
  std::shared_ptr<detail::outcome<R>> out_;
};

namespace detail {

/// A call on its way to a worker, and the outcome its future reads.
///
/// Exactly once: the library holds `self` while it owns `arg`; run() or
/// drop() takes it back, and destroys the callable (captured state) before
/// returning, so the state is gone before anyone can see the task end.
template <class R, class Fn>
struct future_job final : outcome<R> {
  template <class... A>
  explicit future_job(bg_pool *on, A &&...args) : fn(std::in_place, std::forward<A>(args)...) {
    this->pool = on;
  }

  std::optional<Fn> fn;
  std::shared_ptr<future_job> self;

  static int run(void *arg) noexcept {
    auto *job = static_cast<future_job *>(arg);
    const std::shared_ptr<future_job> keep = std::move(job->self);
    const int rc = job->capture(*job->fn);
    job->fn.reset();
    if (rc != 0) job->mark_failed();
    return rc;
  }

  static void drop(void *arg) noexcept {
    auto *job = static_cast<future_job *>(arg);
    const std::shared_ptr<future_job> keep = std::move(job->self);
    job->fn.reset();
  }
};

/// Builds a job for `Fn(args...)` and hands it to
/// `c_submit(run, arg, drop, &task)`, the one place ownership moves to C. If
/// the call is refused, the callable is destroyed here, once, and a
/// bg::error is thrown.
template <class R, class Fn, class CSubmit, class... A>
future<R> submit_future(bg_pool *pool, const char *where, CSubmit &&c_submit, A &&...args) {
  using job_t = future_job<R, Fn>;
  auto job = std::make_shared<job_t>(pool, std::forward<A>(args)...);
  job->self = job;
  bg_task *task = nullptr;
  const bg_status status = c_submit(&job_t::run, static_cast<void *>(job.get()), &job_t::drop, &task);
  if (status != BG_OK) {
    job->self.reset();
    throw_status(status, where);
  }
  return future_access::make<R>(task, std::move(job));
}

/// A continuation: runs once the antecedent has ended (bg_then), on the
/// antecedent's pool. Same exactly-once discipline as future_job; the
/// antecedent's handle is released with the callable.
template <class R, class U, class Fn>
struct then_job final : outcome<U> {
  template <class G>
  then_job(bg_pool *on, G &&f) : fn(std::forward<G>(f)) {
    this->pool = on;
  }

  std::optional<Fn> fn;
  future<R> antecedent;
  std::shared_ptr<then_job> self;

  U call() {
    if constexpr (!value_continuation<R, Fn>::value) {
      return std::invoke(std::move(*fn), std::move(antecedent));
    } else if constexpr (std::is_void_v<R>) {
      antecedent.get();  // rethrows; the task has ended, so this does not block
      return std::invoke(std::move(*fn));
    } else {
      return std::invoke(std::move(*fn), antecedent.get());
    }
  }

  static int run(void *arg, bg_status, int) noexcept {
    auto *job = static_cast<then_job *>(arg);
    const std::shared_ptr<then_job> keep = std::move(job->self);
    const int rc = job->capture([job]() -> U { return job->call(); });
    job->fn.reset();
    job->antecedent = future<R>();
    if (rc != 0) job->mark_failed();
    return rc;
  }

  static void drop(void *arg) noexcept {
    auto *job = static_cast<then_job *>(arg);
    const std::shared_ptr<then_job> keep = std::move(job->self);
    job->fn.reset();
    job->antecedent = future<R>();
  }
};

}  // namespace detail

template <class R>
template <class F>
future<detail::then_result_t<R, F>> future<R>::then(F &&f) {
  using U = detail::then_result_t<R, F>;
  using job_t = detail::then_job<R, U, std::decay_t<F>>;
  bg_task *const task = handle();
  auto job = std::make_shared<job_t>(out_->pool, std::forward<F>(f));
  job->antecedent = std::move(*this);
  job->self = job;
  bg_task *next = nullptr;
  const bg_status status = bg_then(task, &job_t::run, static_cast<void *>(job.get()), &job_t::drop, &next);
  if (status != BG_OK) {
    *this = std::move(job->antecedent);  // refused: this future stays as it was
    job->self.reset();
    detail::throw_status(status, "bg::future::then");
  }
  return detail::future_access::make<U>(next, std::move(job));
}

}  // namespace bg

#endif  // BACKGROUND_HPP_FUTURE_HPP
