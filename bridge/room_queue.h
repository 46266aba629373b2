#pragma once
// Per-room ordered work: requests of one room run one at a time, in arrival order; a request whose
// message is not in Postgres yet is parked (its room with it) until a deadline or until the room is
// woken by a database notification. Other rooms keep going. Not thread-safe (guard it).
#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace mqchat::bridge {

template <typename T>
class RoomQueue {
 public:
  using Clock = std::chrono::steady_clock;

  void push(const std::string& room, T item) {
    auto [it, fresh] = rooms_.try_emplace(room);
    it->second.items.push_back(std::move(item));
    ++size_;
    if (fresh) ready_.push_back(room);
  }

  // A room whose head may run now (ready, or parked past its time). The head stays queued until
  // done() or park() is called for that room; the room is not offered again before that.
  std::optional<std::string> next(Clock::time_point now) {
    for (auto& [room, st] : rooms_) {
      if (st.parked_until && *st.parked_until <= now) {
        st.parked_until.reset();
        ready_.push_back(room);
      }
    }
    if (ready_.empty()) return std::nullopt;
    std::string room = std::move(ready_.front());
    ready_.pop_front();
    rooms_.at(room).running = true;
    return room;
  }

  T& head(const std::string& room) { return rooms_.at(room).items.front(); }

  void done(const std::string& room) {
    auto it = rooms_.find(room);
    if (it == rooms_.end()) return;
    it->second.items.pop_front();
    it->second.running = false;
    --size_;
    if (it->second.items.empty()) rooms_.erase(it);
    else ready_.push_back(room);
  }

  void park(const std::string& room, Clock::time_point until) {
    auto& st = rooms_.at(room);
    st.running = false;
    st.parked_until = until;
  }

  // Something changed for this room in the database: retry its parked head now.
  bool wake(const std::string& room) {
    auto it = rooms_.find(room);
    if (it == rooms_.end() || !it->second.parked_until) return false;
    it->second.parked_until.reset();
    ready_.push_back(room);
    return true;
  }

  // The earliest time a parked room becomes ready on its own.
  std::optional<Clock::time_point> next_wakeup() const {
    std::optional<Clock::time_point> best;
    for (const auto& [room, st] : rooms_)
      if (st.parked_until && (!best || *st.parked_until < *best)) best = st.parked_until;
    return best;
  }

  bool has_ready() const { return !ready_.empty(); }
  size_t size() const { return size_; }
  size_t rooms() const { return rooms_.size(); }
  size_t parked() const {
    size_t n = 0;
    for (const auto& [room, st] : rooms_) n += st.parked_until.has_value();
    return n;
  }

 private:
  struct RoomState {
    std::deque<T> items;
    std::optional<Clock::time_point> parked_until;
    bool running = false;
  };
  std::unordered_map<std::string, RoomState> rooms_;
  std::deque<std::string> ready_;
  size_t size_ = 0;
};

}  // namespace mqchat::bridge
