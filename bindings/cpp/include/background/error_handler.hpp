// Where exceptions go when nobody can receive them: a spawned task that
// threw, a thread hook that threw, a task_group destroyed with an exception
// nobody waited for. Never into the C library, never std::terminate.
#ifndef BACKGROUND_HPP_ERROR_HANDLER_HPP
#define BACKGROUND_HPP_ERROR_HANDLER_HPP

#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace bg {

/// Receives an exception nobody else can. Called on the thread where the
/// exception became unobservable (usually a worker), possibly from several
/// threads at once.
using error_handler = std::function<void(std::exception_ptr)>;

namespace detail {

inline std::string describe(const std::exception_ptr &e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception &x) {
    return x.what();
  } catch (...) {
    return "an exception not derived from std::exception";
  }
}

/// One line on stderr, written with a single call so lines from several
/// threads do not interleave.
inline void print_error(const std::exception_ptr &e) noexcept {
  try {
    std::string line = "background: uncaught exception in a background task: " + describe(e) + "\n";
    std::fputs(line.c_str(), stderr);
  } catch (...) {
    std::fputs("background: uncaught exception in a background task\n", stderr);
  }
}

struct handler_slot {
  std::mutex lock;
  std::shared_ptr<const error_handler> handler;  // empty: print_error
};

// Never destroyed: worker threads of the default pool may report while the
// program's static destructors run.
inline handler_slot &handler_storage() noexcept {
  static handler_slot *slot = new handler_slot();
  return *slot;
}

}  // namespace detail

/// Replaces the handler and returns the previous one. An empty function
/// restores the default: one line on stderr with what().
inline error_handler set_error_handler(error_handler handler) {
  auto next = handler ? std::make_shared<const error_handler>(std::move(handler)) : nullptr;
  auto &slot = detail::handler_storage();
  std::lock_guard<std::mutex> guard(slot.lock);
  std::swap(slot.handler, next);
  return next ? *next : error_handler();
}

/// Hands `e` to the current handler. If the handler itself throws, that
/// exception is printed and dropped.
inline void report_exception(std::exception_ptr e) noexcept {
  std::shared_ptr<const error_handler> handler;
  {
    auto &slot = detail::handler_storage();
    std::lock_guard<std::mutex> guard(slot.lock);
    handler = slot.handler;
  }
  if (!handler) {
    detail::print_error(e);
    return;
  }
  try {
    (*handler)(std::move(e));
  } catch (...) {
    detail::print_error(std::current_exception());
  }
}

}  // namespace bg

#endif  // BACKGROUND_HPP_ERROR_HANDLER_HPP
