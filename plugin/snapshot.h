#pragma once
// The current version of a table a worker thread reloads (plugin/table_follower.h) and the broker
// thread reads on every check. An install takes a lock; the broker thread reads through a copy of
// its own, taken again only after an install, so each ACL check or delivery costs an atomic load
// instead of a lock and two reference-count updates.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace mqchat {

template <typename T>
class Snapshot {
 public:
  explicit Snapshot(std::shared_ptr<const T> first) : current_(std::move(first)) {}

  std::shared_ptr<const T> get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return current_;
  }

  void install(std::shared_ptr<const T> next) {
    std::lock_guard<std::mutex> lock(mu_);
    current_ = std::move(next);
    generation_.fetch_add(1, std::memory_order_release);
  }

  // For the broker thread alone. Valid until its next call.
  const T& broker_view() const {
    if (const uint64_t g = generation_.load(std::memory_order_acquire); g != view_generation_ || !view_) {
      view_ = get();
      view_generation_ = g;
    }
    return *view_;
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const T> current_;
  std::atomic<uint64_t> generation_{0};  // installs so far
  mutable std::shared_ptr<const T> view_;
  mutable uint64_t view_generation_ = 0;
};

}  // namespace mqchat
