// The other TU: uses the same header-defined entities as double_include_a.cpp
// and checks that the program has one of each (category, error handler).
#include <background.hpp>

#include <cstdio>
#include <exception>
#include <stdexcept>
#include <system_error>

int answer_from_a();
const std::error_category *category_from_a();
void install_handler_from_a(bg::error_handler h);

int main() {
  int failures = 0;
  if (answer_from_a() + bg::submit([] { return 2; }).get() != 42) {
    std::fputs("double_include: wrong answer\n", stderr);
    ++failures;
  }
  if (category_from_a() != &bg::error_category()) {
    std::fputs("double_include: two error categories\n", stderr);
    ++failures;
  }
  int reported = 0;
  install_handler_from_a([&reported](std::exception_ptr) { ++reported; });
  bg::report_exception(std::make_exception_ptr(std::runtime_error("shared")));
  bg::set_error_handler(nullptr);
  if (reported != 1) {
    std::fputs("double_include: two error handler slots\n", stderr);
    ++failures;
  }
  return failures;
}
