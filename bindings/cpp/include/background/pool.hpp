// Pools: bg::pool owns one (RAII), bg::pool_ref borrows one (the default
// pool, or a pool made elsewhere); bg::submit and bg::spawn use the running
// task's pool, else the default pool.
#ifndef BACKGROUND_HPP_POOL_HPP
#define BACKGROUND_HPP_POOL_HPP

#include <background.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "detail/call.hpp"
#include "detail/job.hpp"
#include "error.hpp"
#include "error_handler.hpp"
#include "future.hpp"
#include "parallel_for.hpp"

namespace bg {

/// A future of `f(args...)`: its result type, references kept, cv removed.
template <class F, class... Args>
using future_of = future<detail::value_t<detail::call_result_t<F, Args...>>>;

/// A call's priority within its pool (bg_priority).
enum class priority { normal = BG_PRIORITY_NORMAL, high = BG_PRIORITY_HIGH, low = BG_PRIORITY_LOW };

/// Options of pool_ref::submit_with (bg_submit_options). Durations of zero
/// mean "none". A `delay` goes with a `key`, a `limit` or a priority (when
/// due, the call joins its lane, its limiter or its priority's queue). At
/// most one of `key` and `limit` may be set, a non-normal priority only
/// without them, and `wait_for_room` only without `key`, `limit` and
/// `delay` (else errc::invalid_argument).
struct submit_options {
  bg::priority priority = bg::priority::normal;
  /// Never start later than this from now: the call is dropped instead.
  std::chrono::nanoseconds start_deadline{0};
  std::chrono::nanoseconds delay{0};
  /// Run in the keyed lane of this key (as submit_keyed).
  std::optional<std::uint64_t> key;
  /// Run within this limiter (bg::limiter::c_limit(); of the same pool).
  bg_limit *limit = nullptr;
  /// When the pool is full, wait this long for room instead of throwing errc::full.
  std::optional<std::chrono::nanoseconds> wait_for_room;

  bg_submit_options c_options() const {
    bg_submit_options o;
    bg_submit_options_init(&o);
    o.priority = static_cast<std::uint32_t>(priority);
    o.deadline_ns = static_cast<std::uint64_t>(start_deadline.count() > 0 ? start_deadline.count() : 0);
    o.delay_ns = static_cast<std::uint64_t>(delay.count() > 0 ? delay.count() : 0);
    if (key) {
      o.flags |= BG_SUBMIT_KEYED;
      o.key = *key;
    }
    o.limit = limit;
    if (wait_for_room) {
      o.flags |= BG_SUBMIT_WAIT;
      o.wait_timeout_ns = detail::to_timeout_ns(*wait_for_room);
    }
    return o;
  }
};

/// A borrowed pool: copyable, owns nothing. Every member may be called from
/// any thread, including from the pool's own tasks.
class pool_ref {
 public:
  explicit pool_ref(bg_pool *pool) noexcept : pool_(pool) {}

  /// Runs `f(args...)` on this pool and returns its future. `f` and `args`
  /// are moved (or copied) into the task and destroyed exactly once: after
  /// the call, or when the task is cancelled or dropped by a shutdown, or
  /// here if the pool refuses the task (bg::error: errc::shutdown or
  /// errc::full).
  template <class F, class... Args>
  future_of<F, Args...> submit(F &&f, Args &&...args) const {
    using R = detail::value_t<detail::call_result_t<F, Args...>>;
    bg_pool *const pool = pool_;
    return detail::submit_future<R, detail::bound_t<F, Args...>>(
        pool, "bg::submit",
        [pool](bg_fn run, void *arg, bg_drop_fn drop, bg_task **out) {
          return bg_pool_submit(pool, run, arg, drop, out);
        },
        std::in_place, std::forward<F>(f), std::forward<Args>(args)...);
  }

  /// submit() in a lane: calls with the same `key` run one at a time in
  /// submission order; different keys run in parallel.
  template <class F, class... Args>
  future_of<F, Args...> submit_keyed(std::uint64_t key, F &&f, Args &&...args) const {
    using R = detail::value_t<detail::call_result_t<F, Args...>>;
    bg_pool *const pool = pool_;
    return detail::submit_future<R, detail::bound_t<F, Args...>>(
        pool, "bg::submit_keyed",
        [pool, key](bg_fn run, void *arg, bg_drop_fn drop, bg_task **out) {
          return bg_pool_submit_keyed(pool, key, run, arg, drop, out);
        },
        std::in_place, std::forward<F>(f), std::forward<Args>(args)...);
  }

  /// submit() once `delay` has passed (at the earliest). cancel() stops it
  /// while it waits; a shutdown of either mode drops it if not yet due.
  template <class Rep, class Period, class F, class... Args>
  future_of<F, Args...> submit_after(std::chrono::duration<Rep, Period> delay, F &&f, Args &&...args) const {
    using R = detail::value_t<detail::call_result_t<F, Args...>>;
    bg_pool *const pool = pool_;
    const std::uint64_t delay_ns = detail::to_timeout_ns(delay);
    return detail::submit_future<R, detail::bound_t<F, Args...>>(
        pool, "bg::submit_after",
        [pool, delay_ns](bg_fn run, void *arg, bg_drop_fn drop, bg_task **out) {
          return bg_pool_submit_after(pool, delay_ns, run, arg, drop, out);
        },
        std::in_place, std::forward<F>(f), std::forward<Args>(args)...);
  }

  /// Runs `f(args...)` on this pool with no future. An exception it throws
  /// goes to the error handler (see set_error_handler). Refusal as submit().
  template <class F, class... Args>
  void spawn(F &&f, Args &&...args) const {
    bg_pool *const pool = pool_;
    detail::submit_detached<detail::bound_t<F, Args...>>(
        detail::report_sink{}, "bg::spawn",
        [pool](bg_fn run, void *arg, bg_drop_fn drop) { return bg_pool_submit(pool, run, arg, drop, nullptr); },
        std::in_place, std::forward<F>(f), std::forward<Args>(args)...);
  }

  /// bg::parallel_for on this pool.
  template <class I, class Body>
  void parallel_for(I begin, I end, Body &&body, std::size_t grain = 0) const {
    detail::parallel_for(pool_, begin, end, body, grain);
  }

  /// The number of worker threads the pool is sized to.
  std::size_t threads() const noexcept { return bg_pool_threads(pool_); }

  /// Resizes the live pool (1 to BG_MAX_THREADS); never loses queued work.
  void set_threads(std::size_t threads) const { detail::check(bg_pool_set_threads(pool_, threads), "bg::pool::set_threads"); }

  /// A snapshot of the pool's counters.
  bg_stats stats() const {
    bg_stats out{};
    detail::check(bg_pool_stats(pool_, &out), "bg::pool::stats");
    return out;
  }

  /// Pauses the pool: running calls finish, queued ones wait, submits are
  /// still accepted (bg_pool_pause). Throws errc::shutdown once it closes.
  void pause() const { detail::check(bg_pool_pause(pool_), "bg::pool::pause"); }

  /// Lets a paused pool take queued work again (bg_pool_resume).
  void resume() const { detail::check(bg_pool_resume(pool_), "bg::pool::resume"); }

  /// True once nothing is queued or running (the pool stays open); false
  /// if `timeout` passed first. Throws errc::deadlock from a worker of the pool.
  template <class Rep = std::int64_t, class Period = std::nano>
  bool wait_idle(std::chrono::duration<Rep, Period> timeout = std::chrono::duration<Rep, Period>::max()) const {
    const bg_status status = bg_pool_wait_idle(pool_, detail::to_timeout_ns(timeout));
    if (status == BG_ETIMEDOUT) return false;
    detail::check(status, "bg::pool::wait_idle");
    return true;
  }

  /// submit() with options (bg_submit_options: priority, start deadline,
  /// delay, key, limiter, waiting for room; see submit_options). A call
  /// whose start deadline passes first never runs: get() throws errc::expired.
  template <class F, class... Args>
  future_of<F, Args...> submit_with(const submit_options &options, F &&f, Args &&...args) const {
    using R = detail::value_t<detail::call_result_t<F, Args...>>;
    bg_pool *const pool = pool_;
    return detail::submit_future<R, detail::bound_t<F, Args...>>(
        pool, "bg::submit_with",
        [pool, &options](bg_fn run, void *arg, bg_drop_fn drop, bg_task **out) {
          bg_submit_options o = options.c_options();
          o.drop = drop;
          return bg_pool_submit_ex(pool, run, arg, &o, out);
        },
        std::in_place, std::forward<F>(f), std::forward<Args>(args)...);
  }

  /// submit(), waiting up to `timeout` for room when the pool's max_queued
  /// bound is reached (bg_pool_submit_wait); throws errc::timed_out then.
  template <class Rep, class Period, class F, class... Args>
  future_of<F, Args...> submit_wait(std::chrono::duration<Rep, Period> timeout, F &&f, Args &&...args) const {
    submit_options o;
    o.wait_for_room = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout);
    return submit_with(o, std::forward<F>(f), std::forward<Args>(args)...);
  }

  /// Queue-wait and run-time totals, percentiles and histograms of the
  /// pool's timed tasks (pool_options::timing, or task hooks set); zeros otherwise.
  bg_timing timing() const {
    bg_timing out{};
    detail::check(bg_pool_timing(pool_, &out), "bg::pool::timing");
    return out;
  }

  /// Hooks around each task, for a tracer (see bg_pool_set_task_hooks());
  /// C functions so that they cost no allocation and cannot throw into the
  /// pool. `ctx` must stay valid until the pool is shut down.
  void set_task_hooks(bg_task_hook on_start, bg_task_hook on_end, void *ctx) const {
    detail::check(bg_pool_set_task_hooks(pool_, on_start, on_end, ctx), "bg::pool::set_task_hooks");
  }

  bg_pool *c_pool() const noexcept { return pool_; }

 protected:
  bg_pool *pool_;
};

/// The library's default pool (started on first use, never freed).
inline pool_ref default_pool() {
  bg_pool *const pool = bg_default_pool();
  if (!pool) detail::throw_status(BG_ENOMEM, "bg::default_pool");
  return pool_ref(pool);
}

/// The pool of the task running on this thread, else the default pool.
inline pool_ref current_pool() { return pool_ref(detail::current_pool_ptr()); }

/// Submits to current_pool(): from inside a task, its own pool.
template <class F, class... Args>
future_of<F, Args...> submit(F &&f, Args &&...args) {
  return current_pool().submit(std::forward<F>(f), std::forward<Args>(args)...);
}

/// Fire and forget on current_pool(); exceptions go to the error handler.
template <class F, class... Args>
void spawn(F &&f, Args &&...args) {
  current_pool().spawn(std::forward<F>(f), std::forward<Args>(args)...);
}

/// How to build a bg::pool. Zero means "the library's default" throughout.
struct pool_options {
  std::size_t threads = 0;     // worker threads; 0: one per available CPU
  std::string name;            // thread name prefix ("<name>-<index>"); empty: "bg"
  std::size_t stack_size = 0;  // bytes per worker stack; 0: system default
  std::size_t max_queued = 0;  // refuse submits (errc::full) beyond this many queued; 0: no bound
  // Run on each worker as it starts (before any task) and as it stops
  // (after its last task), with its index; an exception goes to the error handler.
  std::function<void(std::size_t)> on_thread_start;
  std::function<void(std::size_t)> on_thread_stop;
  bool timing = false;  // time each task's queue wait and run (pool::timing())
  // Workers plus spare threads started while workers are blocked in a task;
  // 0: the default (4 per worker, at least 256, at most 1024); = threads: no spares.
  std::size_t max_threads = 0;
  bg_qos qos = BG_QOS_DEFAULT;  // the threads' CPU and I/O priority class
};

/// What shutdown() does with tasks still queued.
enum class shutdown_mode : std::uint32_t {
  drain = BG_SHUTDOWN_DRAIN,    // run them (and what they submit), refuse new work
  cancel = BG_SHUTDOWN_CANCEL,  // never run them: their captured state is destroyed
};

/// No time limit, for pool::shutdown().
inline constexpr std::chrono::nanoseconds forever = std::chrono::nanoseconds::max();

/// An owned pool of worker threads. Move-only. The destructor shuts the
/// pool down in drain mode (running everything queued) and joins its
/// threads, so tasks that borrow from the owner's scope are safe.
/// Destroying a pool from one of its own tasks cannot join: the error
/// handler is told and the pool is leaked.
class pool : public pool_ref {
 public:
  explicit pool(const pool_options &options = pool_options()) : pool_ref(nullptr) {
    bg_pool_options c;
    bg_pool_options_init(&c);
    c.threads = options.threads;
    c.name_prefix = options.name.empty() ? nullptr : options.name.c_str();
    c.stack_size = options.stack_size;
    c.max_queued = options.max_queued;
    c.timing = options.timing ? 1 : 0;
    c.max_threads = options.max_threads;
    c.qos = options.qos;
    if (options.on_thread_start || options.on_thread_stop) {
      hooks_ = std::make_unique<hooks>(hooks{options.on_thread_start, options.on_thread_stop});
      c.on_thread_start = &hooks::start;
      c.on_thread_stop = &hooks::stop;
      c.hook_ctx = hooks_.get();
    }
    detail::check(bg_pool_new(&c, &pool_), "bg::pool");
  }

  /// A pool with `threads` workers and default options.
  explicit pool(std::size_t threads) : pool(with_threads(threads)) {}

  pool(pool &&other) noexcept : pool_ref(std::exchange(other.pool_, nullptr)), hooks_(std::move(other.hooks_)) {}

  pool &operator=(pool &&other) noexcept {
    if (this != &other) {
      destroy();
      pool_ = std::exchange(other.pool_, nullptr);
      hooks_ = std::move(other.hooks_);
    }
    return *this;
  }

  ~pool() { destroy(); }

  /// Closes the pool to new work (submits throw errc::shutdown) and joins its
  /// threads. Returns true once they have exited, false if `timeout` passed
  /// first (they keep finishing; call again to wait more; a cancel after a
  /// drain that timed out escalates). Throws bg::error (errc::deadlock)
  /// from one of the pool's own tasks.
  template <class Rep = std::int64_t, class Period = std::nano>
  bool shutdown(shutdown_mode mode = shutdown_mode::drain,
                std::chrono::duration<Rep, Period> timeout = std::chrono::duration<Rep, Period>::max()) {
    const bg_status status =
        bg_pool_shutdown(pool_, static_cast<std::uint32_t>(mode), detail::to_timeout_ns(timeout));
    if (status == BG_ETIMEDOUT) return false;
    detail::check(status, "bg::pool::shutdown");
    return true;
  }

 private:
  struct hooks {
    std::function<void(std::size_t)> on_start;
    std::function<void(std::size_t)> on_stop;

    static void call(const std::function<void(std::size_t)> &hook, std::size_t index) noexcept {
      if (!hook) return;
      try {
        hook(index);
      } catch (...) {
        report_exception(std::current_exception());
      }
    }
    static void start(void *ctx, std::size_t index) noexcept { call(static_cast<hooks *>(ctx)->on_start, index); }
    static void stop(void *ctx, std::size_t index) noexcept { call(static_cast<hooks *>(ctx)->on_stop, index); }
  };

  static pool_options with_threads(std::size_t threads) {
    pool_options options;
    options.threads = threads;
    return options;
  }

  void destroy() noexcept {
    if (!pool_) return;
    const bg_status status = bg_pool_free(std::exchange(pool_, nullptr));
    if (status == BG_EDEADLK) {
      static_cast<void>(hooks_.release());  // its threads may still call the hooks
      report_exception(std::make_exception_ptr(error(status, "bg::pool destroyed by one of its own tasks; leaked")));
    }
    hooks_.reset();
  }

  std::unique_ptr<hooks> hooks_;
};

}  // namespace bg

#endif  // BACKGROUND_HPP_POOL_HPP
