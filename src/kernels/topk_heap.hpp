// Bounded heaps for top-k selection (private to the kernel layer).
//
// Keys are distance-like: smaller is nearer (similarities are negated, which is
// exact). A candidate (key, id) is nearer than another when its key is smaller,
// or the keys are equal and its id is smaller; this total order makes the result
// independent of the order candidates arrive in, so top-k is a prefix of
// top-(k+1) and any split of the work gives the same lists. NaN keys never enter.
#pragma once

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <type_traits>
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
    std::sort(order.begin(), order.end(),
              [&](std::int64_t a, std::int64_t b) { return nearer(keys_[a], ids_[a], keys_[b], ids_[b]); });
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

/// The candidate lists of m queries, k each, kept by several threads at once:
/// thread 0 in the caller's arrays (keys, ids), every other thread in a copy
/// of its own (`copies` of them, 0 when each query is served by one thread).
template <class Key>
class ThreadLists {
 public:
  ThreadLists(Key* keys, std::int64_t* ids, std::int64_t m, std::int64_t k, std::size_t copies)
      : keys_(keys),
        ids_(ids),
        m_(m),
        k_(k),
        sizes_(static_cast<std::size_t>(m), 0),
        copy_keys_(copies, std::vector<Key>(static_cast<std::size_t>(m * k))),
        copy_ids_(copies, std::vector<std::int64_t>(static_cast<std::size_t>(m * k))),
        copy_sizes_(copies, std::vector<std::int64_t>(static_cast<std::size_t>(m), 0)) {}

  /// The arrays `thread` writes: keys and ids [m x k], sizes [m].
  struct Arrays {
    Key* keys;
    std::int64_t* ids;
    std::int64_t* sizes;
  };
  Arrays of(int thread) {
    const auto t = static_cast<std::size_t>(thread);
    if (copy_keys_.empty() || t == 0) return {keys_, ids_, sizes_.data()};
    return {copy_keys_[t - 1].data(), copy_ids_[t - 1].data(), copy_sizes_[t - 1].data()};
  }

  /// Merges the copies into the caller's arrays, sorts every list nearest first
  /// and turns keys back into scores: NaN where a list is short (id -1), the
  /// negated key for similarities, then `transform` of every kept score.
  template <class Transform>
  void finish(bool similarity, Transform transform) {
    for (std::int64_t query = 0; query < m_; ++query) {
      TopKHeap<Key> heap(keys_ + query * k_, ids_ + query * k_, k_, sizes_[static_cast<std::size_t>(query)]);
      for (std::size_t t = 0; t < copy_keys_.size(); ++t)
        for (std::int64_t r = 0; r < copy_sizes_[t][static_cast<std::size_t>(query)]; ++r) {
          const auto at = static_cast<std::size_t>(query * k_ + r);
          heap.offer(copy_keys_[t][at], copy_ids_[t][at]);
        }
      heap.sort_and_pad();
      for (std::int64_t r = 0; r < k_; ++r) {
        Key& value = keys_[query * k_ + r];
        if (ids_[query * k_ + r] < 0) {
          value = static_cast<Key>(__builtin_nan(""));
        } else {
          value = transform(similarity ? -value : value);
        }
      }
    }
  }

 private:
  Key* keys_;
  std::int64_t* ids_;
  std::int64_t m_, k_;
  std::vector<std::int64_t> sizes_;
  std::vector<std::vector<Key>> copy_keys_;
  std::vector<std::vector<std::int64_t>> copy_ids_;
  std::vector<std::vector<std::int64_t>> copy_sizes_;
};

// True when none of the four scores at `scores` can enter a full heap whose
// farthest key is `worst` (keys are scores, negated for similarities; a key equal
// to the worst may still win on its id, so it counts as a candidate).
inline bool no_candidate(const float* scores, float worst, bool similarity) {
#if defined(__SSE2__)
  const __m128 values = _mm_loadu_ps(scores);
  const __m128 hits = similarity ? _mm_cmpge_ps(values, _mm_set1_ps(-worst)) : _mm_cmple_ps(values, _mm_set1_ps(worst));
  return _mm_movemask_ps(hits) == 0;
#else
  for (int t = 0; t < 4; ++t) {
    if ((similarity ? -scores[t] : scores[t]) <= worst) return false;
  }
  return true;
#endif
}

// The same against four heaps at once: lane t's score against worst[t].
inline bool no_candidate_each(const float* scores, const float* worst, bool similarity) {
#if defined(__SSE2__)
  const __m128 values = _mm_loadu_ps(scores), bounds = _mm_loadu_ps(worst);
  const __m128 hits =
      similarity ? _mm_cmpge_ps(values, _mm_xor_ps(bounds, _mm_set1_ps(-0.0f))) : _mm_cmple_ps(values, bounds);
  return _mm_movemask_ps(hits) == 0;
#else
  for (int t = 0; t < 4; ++t) {
    if ((similarity ? -scores[t] : scores[t]) <= worst[t]) return false;
  }
  return true;
#endif
}

// The same two tests in double (two SSE2 pairs).
inline bool no_candidate(const double* scores, double worst, bool similarity) {
#if defined(__SSE2__)
  const __m128d low = _mm_loadu_pd(scores), high = _mm_loadu_pd(scores + 2);
  const __m128d bound = _mm_set1_pd(similarity ? -worst : worst);
  const __m128d hits = similarity ? _mm_or_pd(_mm_cmpge_pd(low, bound), _mm_cmpge_pd(high, bound))
                                  : _mm_or_pd(_mm_cmple_pd(low, bound), _mm_cmple_pd(high, bound));
  return _mm_movemask_pd(hits) == 0;
#else
  for (int t = 0; t < 4; ++t) {
    if ((similarity ? -scores[t] : scores[t]) <= worst) return false;
  }
  return true;
#endif
}

inline bool no_candidate_each(const double* scores, const double* worst, bool similarity) {
#if defined(__SSE2__)
  const __m128d sign = _mm_set1_pd(-0.0);
  __m128d low = _mm_loadu_pd(worst), high = _mm_loadu_pd(worst + 2);
  if (similarity) low = _mm_xor_pd(low, sign), high = _mm_xor_pd(high, sign);
  const __m128d a = _mm_loadu_pd(scores), b = _mm_loadu_pd(scores + 2);
  const __m128d hits = similarity ? _mm_or_pd(_mm_cmpge_pd(a, low), _mm_cmpge_pd(b, high))
                                  : _mm_or_pd(_mm_cmple_pd(a, low), _mm_cmple_pd(b, high));
  return _mm_movemask_pd(hits) == 0;
#else
  for (int t = 0; t < 4; ++t) {
    if ((similarity ? -scores[t] : scores[t]) <= worst[t]) return false;
  }
  return true;
#endif
}

/// Offers a row of `cols` scores (of base ids base_begin + j; similarities when
/// `similarity`, negated into keys) to `heap`, leaving out the id `self`.
template <class T>
void offer_row(TopKHeap<T>& heap, const T* row, std::int64_t cols, std::int64_t base_begin, std::int64_t self,
               bool similarity) {
  auto offer = [&](std::int64_t j) {
    const T key = similarity ? -row[j] : row[j];
    if (heap.full() && key > heap.worst_key()) return;
    const std::int64_t id = base_begin + j;
    if (id != self) heap.offer(key, id);
  };
  std::int64_t j = 0;
  // Once the heap is full most scores lose to its worst entry: test four at a
  // time and look closer only at the groups that hold a candidate.
  for (; j + 4 <= cols; j += 4) {
    if (heap.full() && no_candidate(row + j, heap.worst_key(), similarity)) continue;
    for (std::int64_t lane = j; lane < j + 4; ++lane) offer(lane);
  }
  for (; j < cols; ++j) offer(j);
}

}  // namespace latent::kernels::detail
