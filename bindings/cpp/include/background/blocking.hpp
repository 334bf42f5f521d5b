// bg::blocking_section: tells the pool running this task that it is about
// to block (bg_blocking_begin / bg_blocking_end), so that a spare thread
// takes the work queued behind it at once. Never required: the pool finds
// blocked tasks without it.
#ifndef BACKGROUND_HPP_BLOCKING_HPP
#define BACKGROUND_HPP_BLOCKING_HPP

#include <background.h>

namespace bg {

/// For the lifetime of the object the calling task counts as blocked
/// (bg_blocking_begin() in the constructor, bg_blocking_end() in the
/// destructor); sections nest. Outside a pool's threads it does nothing.
/// Trusted: code that computes inside one puts a thread more on the CPUs.
class blocking_section {
 public:
  blocking_section() noexcept { (void)bg_blocking_begin(); }
  ~blocking_section() { (void)bg_blocking_end(); }
  blocking_section(const blocking_section &) = delete;
  blocking_section &operator=(const blocking_section &) = delete;
};

}  // namespace bg

#endif  // BACKGROUND_HPP_BLOCKING_HPP
