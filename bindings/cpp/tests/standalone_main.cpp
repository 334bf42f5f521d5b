// The only include is the public header: it must bring everything it uses.
#include <background.hpp>

int main() {
  auto f = bg::submit([](int x) { return x + 1; }, 41);
  return f.get() == 42 ? 0 : 1;
}
