#include "bridge/request_dispatcher.h"

#include "bridge/database.h"
#include "bridge/log.h"
#include "bridge/request_handler.h"

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
  if (auto* err = std::get_if<RequestError>(&parsed)) {
    log("refused ", in.topic, ": ", err->code, " (", err->reason, ")");
    // Without a stamped requester nobody can be told (answering would trust the payload).
    if (!err->requester.empty()) link_->publish(error_publication(*err));
    return;
  }
  auto& request = std::get<Request>(parsed);
  const std::string room = request.room;
  std::unique_lock<std::mutex> lock(mu_);
  space_cv_.wait(lock, [this] { return stop_ || queue_.size() < options_.max_queued; });
  queue_.push(room, Item{std::move(request), Clock::now() + options_.pending_max});
  ready_cv_.notify_one();
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

    Outcome outcome;
    try {
      outcome = db.run([&](pqxx::work& tx) { return handle_request(item.request, tx); }, stop_);
    } catch (const std::exception& e) {
      log("request ", item.request.topic, " failed: ", e.what());
      outcome.publications = {error_publication(refuse(item.request, "internal", "the request failed; try again"))};
    }
    const bool retry = outcome.status == Outcome::Status::NotYetStored && Clock::now() < item.give_up_at &&
                       is_recent_message_id(item.request.target, options_.pending_max + std::chrono::seconds(2));
    if (!retry) {
      for (const auto& p : outcome.publications) link_->publish(p);
      log(kind_name(item.request.kind), " ", item.request.room, " by ", item.request.requester,
          outcome.status == Outcome::Status::Done ? "" : ": not found");
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
