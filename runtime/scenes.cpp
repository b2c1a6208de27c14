#include "runtime/scenes.hpp"

#include <algorithm>
#include <cmath>

#include "runtime/error.hpp"

namespace kiln::scenes {
namespace {

// Class ids are shape kinds: the names must agree.
static_assert([] {
  for (int c = 0; c < class_count; ++c)
    if (class_names[c] != shapes::kind_names[c]) return false;
  return true;
}());

// The generator of scene `index` of the set `seed`: the seed is mixed once, the index
// added, and the sum mixed again, so scenes of different indices or seeds start from
// unrelated states and no scene depends on how many others were made.
SplitMix64 scene_rng(uint64_t seed, uint64_t index) {
  SplitMix64 seed_mix(seed);
  SplitMix64 index_mix(seed_mix.next() + index);
  return SplitMix64(index_mix.next());
}

// Calls visit(x, y) for each pixel whose centre the object covers, over the same pixel
// range as shapes::paint; the object lies inside the size x size image.
template <class Visit>
void for_each_covered(const shapes::Object& object, int size, Visit visit) {
  const int x0 = std::max(0, int(std::floor(object.cx - object.half)));
  const int x1 = std::min(size - 1, int(std::ceil(object.cx + object.half)));
  const int y0 = std::max(0, int(std::floor(object.cy - object.half)));
  const int y1 = std::min(size - 1, int(std::ceil(object.cy + object.half)));
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x)
      if (shapes::covers(object, x + 0.5f, y + 0.5f)) visit(x, y);
}

// Paints one scene into image (3, size, size) and the masks (size, size), which hold
// zeros on entry, and appends its objects.
void make_scene(SplitMix64 rng, int size, int most_objects, float* image, uint8_t* semantic,
                uint8_t* instances, std::vector<SceneObject>& objects) {
  const shapes::Canvas canvas{size, size, image};
  const auto base = shapes::paint_background(canvas, rng);
  const int wanted = min_objects + int(rng.below(most_objects - min_objects + 1));
  const float top_half = std::min(max_half, float(size) / 4);
  // Per object placed so far: its painted area and how much of it still shows (pixels).
  std::vector<int> painted, visible, hidden;
  for (int k = 0; k < wanted; ++k) {
    SceneObject object;
    object.class_id = int(rng.below(class_count));
    object.shape.kind = shapes::Kind(object.class_id);
    bool placed = false;
    int area = 0;
    for (int attempt = 0; attempt < placement_tries && !placed; ++attempt) {
      shapes::Object& shape = object.shape;
      shape.half = rng.uniform(min_half, top_half);
      shape.cx = rng.uniform(shape.half, float(size) - shape.half);
      shape.cy = rng.uniform(shape.half, float(size) - shape.half);
      // hidden[j]: the visible pixels of object j this placement would cover.
      hidden.assign(objects.size(), 0);
      area = 0;
      for_each_covered(shape, size, [&](int x, int y) {
        ++area;
        if (const int owner = instances[size_t(y) * size + x]; owner > 0) ++hidden[owner - 1];
      });
      placed = area > 0;
      for (size_t j = 0; j < objects.size() && placed; ++j)
        placed = double(visible[j] - hidden[j]) >= min_visible_fraction * painted[j];
    }
    if (!placed) break;
    shapes::choose_colour(object.shape, base, rng);
    shapes::paint(canvas, object.shape);
    for_each_covered(object.shape, size, [&](int x, int y) {
      instances[size_t(y) * size + x] = uint8_t(k + 1);
      semantic[size_t(y) * size + x] = uint8_t(1 + object.class_id);
    });
    for (size_t j = 0; j < objects.size(); ++j) visible[j] -= hidden[j];
    painted.push_back(area);
    visible.push_back(area);
    objects.push_back(object);
  }

  // Tight boxes of the visible pixels; every object keeps at least one.
  for (auto& object : objects) object.box = {float(size), float(size), 0, 0};
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x)
      if (const int owner = instances[size_t(y) * size + x]; owner > 0) {
        metrics::Box& box = objects[owner - 1].box;
        box.x0 = std::min(box.x0, float(x));
        box.y0 = std::min(box.y0, float(y));
        box.x1 = std::max(box.x1, float(x + 1));
        box.y1 = std::max(box.y1, float(y + 1));
      }
}

}  // namespace

SceneSet make_scenes(int count, int size, uint64_t seed, int first, int most_objects) {
  if (count < 0) fail("scenes: count {} is negative", count);
  if (size < 32) fail("scenes: size {} is below the minimum of 32 pixels", size);
  if (first < 0) fail("scenes: first scene {} is negative", first);
  if (most_objects < min_objects || most_objects > max_objects)
    fail("scenes: {} objects at most is outside {}..{}", most_objects, min_objects, max_objects);
  SceneSet set;
  set.count = count;
  set.size = size;
  set.images.resize(count * set.image_size());
  set.semantic.assign(count * set.mask_size(), 0);
  set.instances.assign(count * set.mask_size(), 0);
  set.objects.resize(count);
  for (int i = 0; i < count; ++i)
    make_scene(scene_rng(seed, uint64_t(first) + i), size, most_objects, set.images.data() + i * set.image_size(),
               set.semantic.data() + i * set.mask_size(),
               set.instances.data() + i * set.mask_size(), set.objects[i]);
  return set;
}

std::vector<float> anchor_sizes(int count) {
  const float lo = 2 * min_half, hi = 2 * max_half;
  std::vector<float> sizes;
  for (int a = 0; a < count; ++a) sizes.push_back(lo * std::pow(hi / lo, (a + 0.5f) / float(count)));
  return sizes;
}

}  // namespace kiln::scenes
