#include "bridge/request_dispatcher.h"

#include "bridge/log.h"
#include "bridge/request_handler.h"
#include "common/room.h"

namespace mqchat::bridge {

using Clock = std::chrono::steady_clock;
constexpr auto kRetryEvery = std::chrono::milliseconds(25);

RequestDispatcher::RequestDispatcher(const Options& options, MqttLink*& link) : options_(options), link_(link) {}

RequestDispatcher::~RequestDispatcher() {
  stop_ = true;
  ready_cv_.notify_all();
  space_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void RequestDispatcher::start() {
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this, i] { work(i); });
}

void RequestDispatcher::submit(IncomingRequest in) {
  auto parsed = parse_request(in.topic, in.payload, in.response_topic, in.correlation_data);
  const auto topic = parse_chat_topic(in.topic);
  const std::string room = topic ? std::string(topic->room_name) : std::string();
  std::unique_lock<std::mutex> lock(mu_);
  space_cv_.wait(lock, [this] { return stop_ || queue_.size() < options_.max_queued; });
  queue_.push(room, Item{std::move(parsed), Clock::now() + options_.pending_max});
  ready_cv_.notify_one();
}

void RequestDispatcher::serve(const Request& request, Clock::time_point give_up_at, bool& retry, Database& db) {
  Outcome outcome;
  try {
    outcome = db.run([&](pqxx::work& tx) { return handle_request(request, tx); }, stop_);
  } catch (const std::exception& e) {
    log("request ", request.topic, " failed: ", e.what());
    outcome.publications = {error_publication(refuse(request, "internal", "the request failed; try again"))};
  }
  retry = outcome.status == Outcome::Status::NotYetStored && Clock::now() < give_up_at &&
          is_recent_message_id(request.target, options_.pending_max + std::chrono::seconds(2));
  if (retry) return;
  for (const auto& p : outcome.publications) link_->publish(p);
  log(kind_name(request.kind), " ", request.room, " by ", request.requester,
      outcome.status == Outcome::Status::Done ? "" : ": not found");
}

void RequestDispatcher::work(int index) {
  Database db(options_.dsn, "worker " + std::to_string(index));
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    const auto room = queue_.next(Clock::now());
    if (!room) {
      if (const auto wake = queue_.next_wakeup()) ready_cv_.wait_until(lock, *wake);
      else ready_cv_.wait(lock);
      continue;
    }
    Item item = queue_.head(*room);
    lock.unlock();

    bool retry = false;
    if (const auto* request = std::get_if<Request>(&item.parsed)) {
      serve(*request, item.give_up_at, retry, db);
    } else {
      const auto& err = std::get<RequestError>(item.parsed);
      log("refused ", err.topic, ": ", err.code, " (", err.reason, ")");
      // Without a stamped requester nobody can be told (answering would trust the payload).
      if (!err.requester.empty()) link_->publish(error_publication(err));
    }

    lock.lock();
    if (retry) {
      queue_.park(*room, Clock::now() + kRetryEvery);
    } else {
      queue_.done(*room);
      space_cv_.notify_one();
    }
    ready_cv_.notify_one();
  }
}

}  // namespace mqchat::bridge
