// A program built against an installed libbackground with
// find_package(background) and background::cpp (tests/packaging.rs builds
// and runs it). Exits 0 when the binding works end to end.
#include <background.hpp>

#include <atomic>
#include <cstdio>
#include <stdexcept>

int main() {
  const int value = bg::submit([](int x) { return x * 2; }, 21).get();

  std::atomic<int> ran{0};
  bg::task_group group;
  for (int i = 0; i < 8; ++i) group.run([&ran] { ran.fetch_add(1); });
  group.wait();

  bool rethrown = false;
  try {
    bg::submit([] { throw std::runtime_error("expected"); }).get();
  } catch (const std::runtime_error &) {
    rethrown = true;
  }

  std::printf("background.hpp over libbackground %s: %d, %d tasks, exception %s\n", bg_version(), value,
              ran.load(), rethrown ? "rethrown" : "lost");
  return value == 42 && ran.load() == 8 && rethrown ? 0 : 1;
}
