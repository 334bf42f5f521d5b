// resize_images: a photo service's request, with the C++ binding.
//
// The handler makes thumbnails of an upload concurrently (task_group),
// measures them with a parallel loop (parallel_for), chains a step with
// then(), and queues work for after the response (batch) that runs only if
// the handler succeeds. Images are generated in memory: no files needed.
//
//   bindings/cpp/run-tests.sh   builds and runs it
#include <background.hpp>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

struct image {
  std::string name;
  std::size_t width = 0;
  std::size_t height = 0;
  std::vector<std::uint8_t> pixels;  // grey, row-major
};

image make_image(std::string name, std::size_t width, std::size_t height) {
  image img{std::move(name), width, height, std::vector<std::uint8_t>(width * height)};
  for (std::size_t y = 0; y < height; ++y)
    for (std::size_t x = 0; x < width; ++x) img.pixels[y * width + x] = static_cast<std::uint8_t>((x ^ y) & 0xff);
  return img;
}

// Box filter: each output pixel is the mean of a factor x factor block.
image shrink(const image &in, std::size_t factor) {
  if (in.width < factor || in.height < factor) throw std::invalid_argument(in.name + ": too small to shrink");
  image out{in.name + ".thumb", in.width / factor, in.height / factor, {}};
  out.pixels.resize(out.width * out.height);
  for (std::size_t y = 0; y < out.height; ++y) {
    for (std::size_t x = 0; x < out.width; ++x) {
      unsigned sum = 0;
      for (std::size_t dy = 0; dy < factor; ++dy)
        for (std::size_t dx = 0; dx < factor; ++dx) sum += in.pixels[(y * factor + dy) * in.width + x * factor + dx];
      out.pixels[y * out.width + x] = static_cast<std::uint8_t>(sum / (factor * factor));
    }
  }
  return out;
}

// Mean brightness, one row per index of a parallel loop.
double brightness(const image &img) {
  std::vector<std::uint64_t> row_sums(img.height);
  bg::parallel_for(std::size_t{0}, img.height, [&](std::size_t y) {
    std::uint64_t s = 0;
    for (std::size_t x = 0; x < img.width; ++x) s += img.pixels[y * img.width + x];
    row_sums[y] = s;
  });
  std::uint64_t total = 0;
  for (std::uint64_t s : row_sums) total += s;
  return static_cast<double>(total) / static_cast<double>(img.width * img.height);
}

}  // namespace

int main() {
  bg::pool_options options;
  options.threads = 4;
  options.name = "thumbs";
  bg::pool pool(options);

  std::vector<image> uploads;
  for (std::size_t i = 0; i < 8; ++i) uploads.push_back(make_image("photo" + std::to_string(i), 256 + 64 * i, 192 + 32 * i));

  // Thumbnails, concurrently. Each task writes its own slot; the group's
  // wait() rethrows the first exception, had any task thrown.
  std::vector<image> thumbs(uploads.size());
  bg::task_group group(pool);
  for (std::size_t i = 0; i < uploads.size(); ++i) group.run([&, i] { thumbs[i] = shrink(uploads[i], 4); });
  group.wait();
  for (const image &t : thumbs)
    std::printf("%-12s %3zux%-3zu brightness %.1f\n", t.name.c_str(), t.width, t.height, brightness(t));

  // A corrupt upload: its exception comes back through the future.
  auto bad = pool.submit(shrink, make_image("corrupt", 2, 2), std::size_t{4});
  try {
    bad.get();
  } catch (const std::invalid_argument &e) {
    std::printf("rejected: %s\n", e.what());
  }

  // A pipeline: decode, then shrink, then report, each step on the pool.
  auto report = pool.submit(make_image, std::string("banner"), std::size_t{1024}, std::size_t{256})
                    .then([](image img) { return shrink(img, 8); })
                    .then([](image t) { return t.name + " " + std::to_string(t.width) + "x" + std::to_string(t.height); });
  std::printf("pipeline: %s\n", report.get().c_str());

  // After the response: queued in order, submitted only on success.
  std::atomic<int> notified{0};
  bg::batch after_response;
  after_response.add([&notified](std::size_t n) { notified += static_cast<int>(n); }, thumbs.size());
  after_response.add([] { std::printf("after response: cache warmed\n"); });
  after_response.submit(pool).get();
  std::printf("after response: %d users notified\n", notified.load());

  return notified.load() == static_cast<int>(thumbs.size()) ? 0 : 1;
}
