// Procedural scenes for detection and segmentation: each an RGB image of 1 to 5 coloured
// shapes (circle, square, triangle) on a textured background, with a semantic mask, an
// instance mask and a box per object. Scene i depends only on (seed, i), so a held-out
// split is another seed or another range of indices.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "runtime/metrics.hpp"
#include "runtime/shapes.hpp"

namespace kiln::scenes {

// Class c is the shape kind shapes::Kind(c); semantic masks store 1 + c.
inline constexpr int class_count = 3;
inline constexpr std::array<std::string_view, class_count> class_names = {"circle", "square",
                                                                          "triangle"};
inline constexpr int min_objects = 1, max_objects = 5;
// Half-size in pixels, uniform in [min_half, min(max_half, size / 4)]: at size 128 and
// above a nominal box side (2 half) of 8 to 64 pixels. Painted extents are a little
// smaller (a square is 1.7 half wide, a triangle 1.9 half by 1.8 half).
inline constexpr float min_half = 4, max_half = 32;
// Every object keeps at least this fraction of its painted pixels visible: a placement
// that would leave an earlier object with less is redrawn.
inline constexpr double min_visible_fraction = 0.5;
// Placements tried per object before the scene stops adding objects.
inline constexpr int placement_tries = 20;

struct SceneObject {
  shapes::Object shape;  // kind, colour, centre and half-size, in pixels
  int class_id = 0;      // 0..class_count-1
  // The tight box of the object's visible pixels (instance-mask pixels), x1 and y1
  // exclusive: a lone visible pixel (3, 5) gives 3, 5, 4, 6.
  metrics::Box box;
};

// `count` scenes of `size` x `size` pixels, stored contiguously; entry i is scene
// first + i of the make_scenes call.
struct SceneSet {
  int count = 0, size = 0;
  std::vector<float> images;       // (count, 3, size, size), in [0, 1]
  std::vector<uint8_t> semantic;   // (count, size, size): 0 background, 1 + class id
  std::vector<uint8_t> instances;  // (count, size, size): 0 background, k + 1 = objects[i][k]
  std::vector<std::vector<SceneObject>> objects;  // (count, objects of the scene in paint order)

  size_t image_size() const { return size_t(3) * size * size; }
  size_t mask_size() const { return size_t(size) * size; }
  const float* image(int i) const { return images.data() + i * image_size(); }
  const uint8_t* semantic_mask(int i) const { return semantic.data() + i * mask_size(); }
  const uint8_t* instance_mask(int i) const { return instances.data() + i * mask_size(); }
};

// Scenes first..first+count-1 of the set `seed`: identical bytes for the same arguments,
// and scene i the same in every call that makes it, so scenes 8000.. of one seed are a
// held-out split of scenes 0..7999 of it. Each scene: a paint_background texture, then
// 1 to 5 objects (uniform) of uniform class and half-size, placed uniformly with the
// whole shape inside, coloured by choose_colour independently of the class, painted in
// order (later over earlier). A placement that would leave an earlier object with less
// than min_visible_fraction of its painted pixels visible is redrawn, up to
// placement_tries times, after which the scene keeps the objects it has.
// most_objects (1..max_objects) caps the objects per scene: 1 gives the single-object
// scenes of classification with localization (a set of its own: other draws).
// kiln::Error for count < 0, size < 32, first < 0 or most_objects outside 1..max_objects.
SceneSet make_scenes(int count, int size = 128, uint64_t seed = 0, int first = 0,
                     int most_objects = max_objects);

// The detectors' anchor sides for these scenes: `count` sizes spaced geometrically over
// the nominal box sides 2 min_half .. 2 max_half, each at the middle of its share.
std::vector<float> anchor_sizes(int count);

}  // namespace kiln::scenes
