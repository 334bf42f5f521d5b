// bg::error: every failing C status becomes a std::system_error in the
// "background" category, whose messages are bg_strerror()'s.
#ifndef BACKGROUND_HPP_ERROR_HPP
#define BACKGROUND_HPP_ERROR_HPP

#include <background.h>

#include <string>
#include <system_error>
#include <type_traits>

namespace bg {

/// The C statuses as a std::error_code enum: `e.code() == bg::errc::full`.
enum class errc {
  failed = BG_EFAILED,
  cancelled = BG_ECANCELLED,
  shutdown = BG_ESHUTDOWN,
  timed_out = BG_ETIMEDOUT,
  full = BG_EFULL,
  invalid_argument = BG_EINVAL,
  running = BG_ERUNNING,
  done = BG_EDONE,
  deadlock = BG_EDEADLK,
  no_memory = BG_ENOMEM,
  forked = BG_EFORKED,
  internal = BG_EPANIC,
  expired = BG_EEXPIRED,  // its start deadline passed before a worker took it
};

namespace detail {

class category final : public std::error_category {
 public:
  const char *name() const noexcept override { return "background"; }

  std::string message(int code) const override { return bg_strerror(code); }

  // Lets portable code compare with std::errc, e.g. std::errc::timed_out.
  std::error_condition default_error_condition(int code) const noexcept override {
    switch (code) {
      case BG_ECANCELLED: return std::errc::operation_canceled;
      case BG_ETIMEDOUT: return std::errc::timed_out;
      case BG_EFULL: return std::errc::resource_unavailable_try_again;
      case BG_EINVAL: return std::errc::invalid_argument;
      case BG_EDEADLK: return std::errc::resource_deadlock_would_occur;
      case BG_ENOMEM: return std::errc::not_enough_memory;
      default: return std::error_condition(code, *this);
    }
  }
};

}  // namespace detail

/// The category of every bg::error. One instance per program (inline
/// function), never destroyed, so worker threads may still use it at exit.
inline const std::error_category &error_category() noexcept {
  static const detail::category *instance = new detail::category();
  return *instance;
}

inline std::error_code make_error_code(errc e) noexcept {
  return std::error_code(static_cast<int>(e), error_category());
}

/// Thrown for every failing C status: refused submits (full, shutdown),
/// tasks that never ran (cancelled, shutdown), misuse (invalid_argument,
/// deadlock). what() is "<where>: <bg_strerror text>".
class error : public std::system_error {
 public:
  error(bg_status status, const char *where)
      : std::system_error(static_cast<int>(status), error_category(), where) {}

  bg_status status() const noexcept { return static_cast<bg_status>(code().value()); }
};

namespace detail {

[[noreturn]] inline void throw_status(bg_status status, const char *where) { throw error(status, where); }

inline void check(bg_status status, const char *where) {
  if (status != BG_OK) throw_status(status, where);
}

}  // namespace detail
}  // namespace bg

namespace std {
template <>
struct is_error_code_enum<bg::errc> : true_type {};
}  // namespace std

#endif  // BACKGROUND_HPP_ERROR_HPP
