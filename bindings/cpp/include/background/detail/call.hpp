// What every task carries: the callable and its arguments, stored by value
// (decayed, as std::thread does) and invoked once, as rvalues.
#ifndef BACKGROUND_HPP_DETAIL_CALL_HPP
#define BACKGROUND_HPP_DETAIL_CALL_HPP

#include <background.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "../error.hpp"

namespace bg {
namespace detail {

/// The C result code of a task whose callable threw, in every construct
/// (the same code Go uses). The exception itself travels in C++ state; the
/// code tells the C library the task failed, so statistics, groups, batches
/// and bg_then see a failure, and a C error handler set on the pool hears of
/// it; the library's default handler leaves the printing to this binding.
inline constexpr int exception_result = BG_RESULT_BINDING_FAILED;

template <class F, class... Args>
class bound_call {
 public:
  template <class G, class... A>
  bound_call(std::in_place_t, G &&f, A &&...args) : f_(std::forward<G>(f)), args_(std::forward<A>(args)...) {}

  decltype(auto) operator()() { return std::apply(std::move(f_), std::move(args_)); }

 private:
  F f_;
  std::tuple<Args...> args_;
};

template <class F, class... Args>
using bound_t = bound_call<std::decay_t<F>, std::decay_t<Args>...>;

template <class F, class... Args>
using call_result_t = std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>;

/// What a future of a call returning T holds: T& stays a reference,
/// anything else is stored as a plain value.
template <class T>
using value_t = std::conditional_t<std::is_lvalue_reference_v<T>, T, std::remove_cv_t<std::remove_reference_t<T>>>;

/// std::chrono to the C API's nanoseconds; saturates at BG_FOREVER, and a
/// negative duration means "do not wait".
template <class Rep, class Period>
std::uint64_t to_timeout_ns(const std::chrono::duration<Rep, Period> &d) {
  if (d == std::chrono::duration<Rep, Period>::max()) return BG_FOREVER;
  using ns = std::chrono::duration<long double, std::nano>;
  const long double n = std::chrono::duration_cast<ns>(d).count();
  if (!(n > 0)) return 0;
  if (n >= static_cast<long double>(BG_FOREVER)) return BG_FOREVER;
  return static_cast<std::uint64_t>(n);
}

/// The running task's pool (the library's bg_current_pool(), whatever
/// submitted the task: C, C++ or Go), or else the default pool (started on
/// first use). bg::submit() from inside a task thus stays on its pool, as
/// bg_submit() does in C.
inline bg_pool *current_pool_ptr() {
  if (bg_pool *pool = bg_current_pool()) return pool;
  if (bg_pool *pool = bg_default_pool()) return pool;
  throw_status(BG_ENOMEM, "bg::default_pool");
}

}  // namespace detail
}  // namespace bg

#endif  // BACKGROUND_HPP_DETAIL_CALL_HPP
