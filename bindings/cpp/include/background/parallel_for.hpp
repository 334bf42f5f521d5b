// bg::parallel_for: a loop split over a pool's work-stealing deques, the
// calling thread taking part; returns when every index has been visited.
#ifndef BACKGROUND_HPP_PARALLEL_FOR_HPP
#define BACKGROUND_HPP_PARALLEL_FOR_HPP

#include <background.h>

#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <type_traits>

#include "detail/call.hpp"
#include "error.hpp"

namespace bg {
namespace detail {

/// Borrowed by every chunk: bg_parallel_for() returns only after all ran.
template <class I, class Body>
struct loop {
  using U = std::make_unsigned_t<I>;

  loop(Body &b, I first_index) noexcept : body(b), begin(first_index) {}

  Body &body;
  I begin;
  std::atomic<bool> failed{false};
  std::mutex lock;
  std::exception_ptr first;

  I index(std::size_t offset) const noexcept { return static_cast<I>(static_cast<U>(begin) + static_cast<U>(offset)); }

  void visit(std::size_t lo, std::size_t hi) {
    if constexpr (std::is_invocable_v<Body &, I>) {
      for (std::size_t i = lo; i < hi; ++i) std::invoke(body, index(i));
    } else {
      std::invoke(body, index(lo), index(hi));
    }
  }

  // After the first exception, chunks not yet started are skipped.
  static void chunk(std::size_t lo, std::size_t hi, void *ctx) noexcept {
    auto *self = static_cast<loop *>(ctx);
    if (self->failed.load(std::memory_order_relaxed)) return;
    try {
      self->visit(lo, hi);
    } catch (...) {
      const std::lock_guard<std::mutex> guard(self->lock);
      if (!self->first) self->first = std::current_exception();
      self->failed.store(true, std::memory_order_relaxed);
    }
  }
};

template <class I, class Body>
void parallel_for(bg_pool *pool, I begin, I end, Body &body, std::size_t grain) {
  static_assert(std::is_integral_v<I> && !std::is_same_v<I, bool>, "parallel_for: the index must be an integer");
  static_assert(std::is_invocable_v<Body &, I> || std::is_invocable_v<Body &, I, I>,
                "parallel_for: body must take an index, or a half-open range (lo, hi)");
  if (!(begin < end)) return;
  using U = std::make_unsigned_t<I>;
  const auto count = static_cast<std::size_t>(static_cast<U>(static_cast<U>(end) - static_cast<U>(begin)));
  loop<I, Body> ctx(body, begin);
  check(bg_parallel_for(pool, 0, count, grain, &loop<I, Body>::chunk, &ctx), "bg::parallel_for");
  if (ctx.first) std::rethrow_exception(ctx.first);
}

}  // namespace detail

/// Calls body(i) for every i in [begin, end), or body(lo, hi) for disjoint
/// chunks covering it, in parallel on the running task's pool (else the
/// default pool). Chunks hold at most `grain` indices (0: automatic). If a
/// call throws, chunks not yet started are skipped and the first exception
/// is rethrown here once the others have finished.
template <class I, class Body>
void parallel_for(I begin, I end, Body &&body, std::size_t grain = 0) {
  detail::parallel_for(detail::current_pool_ptr(), begin, end, body, grain);
}

}  // namespace bg

#endif  // BACKGROUND_HPP_PARALLEL_FOR_HPP
