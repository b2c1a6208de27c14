// The scene set: determinism, scene i independent of the set's size, masks consistent
// with each other, the image and the boxes, and the drawing rules (object counts, class
// balance, sizes, at least half of each object visible).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "runtime/scenes.hpp"
#include "support.hpp"

using namespace kiln::scenes;

namespace {

bool same_objects(const std::vector<SceneObject>& a, const std::vector<SceneObject>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& p, const auto& q) {
    return p.class_id == q.class_id && p.shape.kind == q.shape.kind &&
           p.shape.colour == q.shape.colour && p.shape.cx == q.shape.cx &&
           p.shape.cy == q.shape.cy && p.shape.half == q.shape.half && p.shape.rgb == q.shape.rgb &&
           p.box.x0 == q.box.x0 && p.box.y0 == q.box.y0 && p.box.x1 == q.box.x1 &&
           p.box.y1 == q.box.y1;
  });
}

// Whether scene i of a equals scene j of b, byte for byte.
bool same_scene(const SceneSet& a, int i, const SceneSet& b, int j) {
  return a.size == b.size && std::equal(a.image(i), a.image(i) + a.image_size(), b.image(j)) &&
         std::equal(a.semantic_mask(i), a.semantic_mask(i) + a.mask_size(), b.semantic_mask(j)) &&
         std::equal(a.instance_mask(i), a.instance_mask(i) + a.mask_size(), b.instance_mask(j)) &&
         same_objects(a.objects[i], b.objects[j]);
}

}  // namespace

TEST_CASE("scenes: the same bytes for the same seed, others for another", "[scenes]") {
  const SceneSet a = make_scenes(12, 96, 5), b = make_scenes(12, 96, 5), c = make_scenes(12, 96, 6);
  REQUIRE((a.count == 12 && a.size == 96));
  REQUIRE(a.images.size() == 12u * 3 * 96 * 96);
  REQUIRE((a.semantic.size() == 12u * 96 * 96 && a.instances.size() == 12u * 96 * 96));
  REQUIRE(a.objects.size() == 12u);
  CHECK(a.images == b.images);
  CHECK(a.semantic == b.semantic);
  CHECK(a.instances == b.instances);
  for (int i = 0; i < a.count; ++i) CHECK(same_objects(a.objects[i], b.objects[i]));
  CHECK(a.images != c.images);
  CHECK(a.instances != c.instances);
  // Neighbouring scenes of one set differ too (no scene copies another's stream).
  for (int i = 1; i < a.count; ++i) CHECK_FALSE(same_scene(a, i - 1, a, i));
}

TEST_CASE("scenes: scene i depends only on the seed and i", "[scenes]") {
  const SceneSet small = make_scenes(4, 64, 9), large = make_scenes(11, 64, 9);
  for (int i = 0; i < small.count; ++i) CHECK(same_scene(small, i, large, i));
  // A range that starts later, made without the scenes before it.
  const SceneSet tail = make_scenes(3, 64, 9, 7);
  for (int i = 0; i < tail.count; ++i) CHECK(same_scene(tail, i, large, 7 + i));
  CHECK(make_scenes(0, 64, 9).images.empty());
}

TEST_CASE("scenes: masks, image and boxes agree; the drawing rules hold", "[scenes]") {
  const int count = 300, size = 128;
  const SceneSet set = make_scenes(count, size, 2024);
  std::vector<int> per_class(class_count), per_count(max_objects + 1);
  int objects_total = 0, hidden_somewhat = 0;
  for (int i = 0; i < count; ++i) {
    INFO("scene " << i);
    const auto& objects = set.objects[i];
    REQUIRE((int(objects.size()) >= min_objects && int(objects.size()) <= max_objects));
    ++per_count[objects.size()];
    const uint8_t* semantic = set.semantic_mask(i);
    const uint8_t* instances = set.instance_mask(i);
    const float* image = set.image(i);
    std::vector<int> visible(objects.size());
    std::vector<kiln::metrics::Box> tight(objects.size(), {float(size), float(size), 0, 0});
    // Pixels that break a rule, counted rather than asserted one by one.
    int bad_owner = 0, bad_semantic = 0, bad_colour = 0, not_on_top = 0;
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size; ++x) {
        const int p = y * size + x, owner = instances[p];
        bad_semantic += (semantic[p] == 0) != (owner == 0);
        if (owner == 0) continue;
        if (owner > int(objects.size())) {
          ++bad_owner;
          continue;
        }
        const SceneObject& object = objects[owner - 1];
        bad_semantic += int(semantic[p]) != 1 + object.class_id;
        // The instance that owns a pixel is the one painted last there.
        for (int c = 0; c < 3; ++c) bad_colour += image[c * size * size + p] != object.shape.rgb[c];
        for (size_t later = owner; later < objects.size(); ++later)
          not_on_top += kiln::shapes::covers(objects[later].shape, x + 0.5f, y + 0.5f);
        ++visible[owner - 1];
        auto& box = tight[owner - 1];
        box = {std::min(box.x0, float(x)), std::min(box.y0, float(y)),
               std::max(box.x1, float(x + 1)), std::max(box.y1, float(y + 1))};
      }
    CHECK(bad_owner == 0);
    CHECK(bad_semantic == 0);
    CHECK(bad_colour == 0);
    CHECK(not_on_top == 0);
    for (size_t k = 0; k < objects.size(); ++k) {
      const SceneObject& object = objects[k];
      const auto& shape = object.shape;
      INFO("object " << k);
      REQUIRE((object.class_id >= 0 && object.class_id < class_count));
      CHECK(shape.kind == kiln::shapes::Kind(object.class_id));
      ++per_class[object.class_id];
      ++objects_total;
      CHECK(object.box.x0 == tight[k].x0);
      CHECK(object.box.y0 == tight[k].y0);
      CHECK(object.box.x1 == tight[k].x1);
      CHECK(object.box.y1 == tight[k].y1);
      // Nominal box side 2 half in 8..64, the whole shape inside the image, and the
      // visible box inside the nominal one.
      CHECK((shape.half >= 4 && shape.half <= 32));
      CHECK((shape.cx - shape.half >= 0 && shape.cx + shape.half <= size));
      CHECK((shape.cy - shape.half >= 0 && shape.cy + shape.half <= size));
      CHECK(object.box.x0 >= std::floor(shape.cx - shape.half));
      CHECK(object.box.x1 <= std::ceil(shape.cx + shape.half));
      CHECK(object.box.y0 >= std::floor(shape.cy - shape.half));
      CHECK(object.box.y1 <= std::ceil(shape.cy + shape.half));
      // At least half of the painted area shows.
      int painted = 0;
      for (int y = 0; y < size; ++y)
        for (int x = 0; x < size; ++x) painted += kiln::shapes::covers(shape, x + 0.5f, y + 0.5f);
      CHECK(painted > 0);
      CHECK(2 * visible[k] >= painted);
      hidden_somewhat += visible[k] < painted;
    }
  }
  // Classes uniform: each near a third of roughly 900 objects (one standard deviation is
  // about 14 objects, so the bounds are many deviations wide).
  for (int n : per_class) CHECK((n > 0.27 * objects_total && n < 0.40 * objects_total));
  for (int n = min_objects; n <= max_objects; ++n) CHECK(per_count[n] > count / 10);
  // Overlaps are allowed and happen.
  CHECK(hidden_somewhat > 20);
}

TEST_CASE("scenes: small images keep the objects inside", "[scenes]") {
  const SceneSet set = make_scenes(40, 32, 1);
  for (const auto& objects : set.objects)
    for (const SceneObject& object : objects) {
      CHECK((object.shape.half >= 4 && object.shape.half <= 8));
      CHECK(
          (object.box.x0 >= 0 && object.box.x1 <= 32 && object.box.y0 >= 0 && object.box.y1 <= 32));
    }
}

TEST_CASE("scenes: bad arguments are named", "[scenes]") {
  using kiln::test::error_from;
  CHECK(error_from([] { make_scenes(-1, 64, 0); }) == "scenes: count -1 is negative");
  CHECK(error_from([] { make_scenes(3, 31, 0); }) ==
        "scenes: size 31 is below the minimum of 32 pixels");
  CHECK(error_from([] { make_scenes(3, 64, 0, -2); }) == "scenes: first scene -2 is negative");
}
