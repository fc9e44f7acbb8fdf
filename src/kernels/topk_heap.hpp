// Bounded heaps for top-k selection (private to the kernel layer).
//
// Keys are distance-like: smaller is nearer (similarities are negated, which is
// exact). A candidate (key, id) is nearer than another when its key is smaller,
// or the keys are equal and its id is smaller; this total order makes the result
// independent of the order candidates arrive in, so top-k is a prefix of
// top-(k+1) and any split of the work gives the same lists. NaN keys never enter.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

namespace latent::kernels::detail {

template <class Key>
bool nearer(Key key_a, std::int64_t id_a, Key key_b, std::int64_t id_b) {
  return key_a < key_b || (key_a == key_b && id_a < id_b);
}

/// A max-heap (root = the farthest kept candidate) over caller-owned arrays of
/// capacity k: keys[k], ids[k]. Key is float or double.
template <class Key>
class TopKHeap {
 public:
  TopKHeap(Key* keys, std::int64_t* ids, std::int64_t capacity, std::int64_t size = 0)
      : keys_(keys), ids_(ids), capacity_(capacity), size_(size) {}

  std::int64_t size() const { return size_; }
  bool full() const { return size_ == capacity_; }
  /// The key a candidate must beat (or tie with a smaller id) once the heap is full.
  Key worst_key() const { return keys_[0]; }

  /// Offers a candidate; keeps it if it is among the k nearest seen so far.
  void offer(Key key, std::int64_t id) {
    if (!(key == key)) return;  // NaN
    if (size_ < capacity_) {
      std::int64_t child = size_++;
      while (child > 0) {  // sift up
        const std::int64_t parent = (child - 1) / 2;
        if (!nearer(keys_[parent], ids_[parent], key, id)) break;
        keys_[child] = keys_[parent];
        ids_[child] = ids_[parent];
        child = parent;
      }
      keys_[child] = key;
      ids_[child] = id;
      return;
    }
    if (!nearer(key, id, keys_[0], ids_[0])) return;
    std::int64_t parent = 0;
    while (true) {  // sift down from the root
      const std::int64_t left = 2 * parent + 1;
      if (left >= size_) break;
      std::int64_t farther = left;
      const std::int64_t right = left + 1;
      if (right < size_ && nearer(keys_[left], ids_[left], keys_[right], ids_[right])) farther = right;
      if (!nearer(key, id, keys_[farther], ids_[farther])) break;
      keys_[parent] = keys_[farther];
      ids_[parent] = ids_[farther];
      parent = farther;
    }
    keys_[parent] = key;
    ids_[parent] = id;
  }

  /// Sorts the kept candidates nearest first (in place) and pads the arrays up to
  /// the capacity with id -1 and key +Inf.
  void sort_and_pad() {
    std::vector<std::int64_t> order(static_cast<std::size_t>(size_));
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
      return nearer(keys_[a], ids_[a], keys_[b], ids_[b]);
    });
    std::vector<Key> keys(static_cast<std::size_t>(size_));
    std::vector<std::int64_t> ids(static_cast<std::size_t>(size_));
    for (std::size_t i = 0; i < order.size(); ++i) {
      keys[i] = keys_[order[i]];
      ids[i] = ids_[order[i]];
    }
    std::copy(keys.begin(), keys.end(), keys_);
    std::copy(ids.begin(), ids.end(), ids_);
    for (std::int64_t i = size_; i < capacity_; ++i) {
      keys_[i] = static_cast<Key>(__builtin_huge_val());
      ids_[i] = -1;
    }
  }

 private:
  Key* keys_;
  std::int64_t* ids_;
  std::int64_t capacity_;
  std::int64_t size_;
};

}  // namespace latent::kernels::detail
