// One of two TUs that include background.hpp and are linked together.
#include <background.hpp>
#include <background.hpp>  // and twice in one TU: the include guards hold

#include <system_error>
#include <utility>

int answer_from_a() { return bg::submit([] { return 40; }).get(); }

const std::error_category *category_from_a() { return &bg::error_category(); }

void install_handler_from_a(bg::error_handler h) { bg::set_error_handler(std::move(h)); }
