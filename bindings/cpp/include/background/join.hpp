// bg::join: fork-join without a handle or an allocation on a worker
// (bg_join): g() is offered to the other workers while f() runs here.
#ifndef BACKGROUND_HPP_JOIN_HPP
#define BACKGROUND_HPP_JOIN_HPP

#include <background.h>

#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "error.hpp"

namespace bg {
namespace detail {

/// One half of a join, on the caller's stack: the callable, where its
/// result goes, and what it threw.
template <class F>
struct join_half {
  using R = std::invoke_result_t<F &>;
  using value_type = std::conditional_t<std::is_void_v<R>, std::monostate, R>;

  explicit join_half(F &fn) noexcept : f(fn) {}

  F &f;
  std::optional<value_type> value;
  std::exception_ptr error;

  static int run(void *p) noexcept {
    auto *self = static_cast<join_half *>(p);
    try {
      if constexpr (std::is_void_v<R>) {
        std::invoke(self->f);
        self->value.emplace();
      } else {
        self->value.emplace(std::invoke(self->f));
      }
      return 0;
    } catch (...) {
      self->error = std::current_exception();
      return BG_RESULT_BINDING_FAILED;
    }
  }
};

}  // namespace detail

/// Runs f() and g(), possibly in parallel, and returns when both have: on
/// a worker of a pool, g() is offered to that pool's other workers from
/// this stack frame while f() runs here, and runs here too if nobody took
/// it (nothing is allocated); from any other thread, on the default pool,
/// g() is queued and runs here if no worker has started it (see bg_join()).
/// While every worker is busy, g() is offered only once one idles (at the
/// next join) or this thread waits: f() and g() must not wait for each
/// other by other means.
/// Returns nothing if both return void, else both results as a pair (a void
/// side is std::monostate). If either throws, both still run to the end
/// and the first exception (f's before g's) is rethrown here. Throws
/// bg::error if the pool refused the work (neither ran).
template <class F, class G>
auto join(F &&f, G &&g) {
  detail::join_half<std::remove_reference_t<F>> a(f);
  detail::join_half<std::remove_reference_t<G>> b(g);
  const bg_status s = bg_join(&decltype(a)::run, &a, &decltype(b)::run, &b, nullptr, nullptr);
  if (a.error) std::rethrow_exception(a.error);
  if (b.error) std::rethrow_exception(b.error);
  detail::check(s, "bg::join");
  if constexpr (std::is_void_v<typename decltype(a)::R> && std::is_void_v<typename decltype(b)::R>) {
    return;
  } else {
    return std::pair<typename decltype(a)::value_type, typename decltype(b)::value_type>(std::move(*a.value),
                                                                                          std::move(*b.value));
  }
}

}  // namespace bg

#endif  // BACKGROUND_HPP_JOIN_HPP
