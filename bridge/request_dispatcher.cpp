#include "bridge/request_dispatcher.h"

#include "bridge/log.h"
#include "bridge/metrics.h"
#include "bridge/request_handler.h"
#include "common/room.h"

namespace mqchat::bridge {

constexpr auto kRetryEvery = std::chrono::milliseconds(25);

RequestDispatcher::RequestDispatcher(const Options& options, MqttLink*& link) : options_(options), link_(link) {}

RequestDispatcher::~RequestDispatcher() { stop(std::chrono::milliseconds(0)); }

void RequestDispatcher::start() {
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this, i] { work(i); });
}

void RequestDispatcher::answer_busy(const ParsedRequest& parsed) {
  RequestError busy;
  if (const auto* r = std::get_if<Request>(&parsed)) {
    busy = refuse(*r, "busy", "the bridge is busy; try again shortly");
    bridge_metrics.request(r->kind, BridgeMetrics::Result::Busy);
  } else {
    busy = std::get<RequestError>(parsed);  // already a refusal: answer that one
    bridge_metrics.invalid_request();
  }
  if (busy.requester.empty()) return;       // nobody to answer (see work())
  if (refusals_.size() >= kMaxRefusals) {
    bridge_metrics.dropped.inc();
    if (dropped_++ % 1000 == 0) log("overloaded: dropped a request of ", busy.requester, " (", dropped_.load(), " so far)");
    return;
  }
  ++refused_busy_;
  refusals_.push_back(std::move(busy));
  ready_cv_.notify_one();
}

void RequestDispatcher::submit(IncomingRequest in) {
  auto parsed = parse_request(in.topic, in.payload, in.response_topic, in.correlation_data);
  const std::string room = queue_key(in.topic);  // a room, or users/<u> for a user's own requests
  std::lock_guard<std::mutex> lock(mu_);
  if (closing_ || queue_.size() >= options_.max_queued) {
    answer_busy(parsed);
    return;
  }
  const auto now = Clock::now();
  queue_.push(room, Item{std::move(parsed), now + options_.pending_max, now});
  bridge_metrics.queued.set(int64_t(queue_.size()));
  ready_cv_.notify_one();
}

void RequestDispatcher::publish_reply(const Publication& p, const std::string& room, const std::string& requester) {
  if (!is_allowed_reply_topic(p.topic, room, requester)) {
    log("refused to answer ", requester, " on ", p.topic, " (not the room's events nor the requester's own topic)");
    return;
  }
  link_->publish(p);
}

void RequestDispatcher::serve(const Request& request, const Item& item, bool& retry, Database& db) {
  Outcome outcome;
  auto result = BridgeMetrics::Result::Ok;
  try {
    outcome = db.run([&](pqxx::work& tx) { return handle_request(request, tx); });
  } catch (const Database::Stopping&) {
    outcome.publications = {error_publication(refuse(request, "busy", "the bridge is restarting; try again shortly"))};
    result = BridgeMetrics::Result::Busy;
  } catch (const std::exception& e) {
    log("request ", request.topic, " failed: ", e.what());
    outcome.publications = {error_publication(refuse(request, "internal", "the request failed; try again"))};
    result = BridgeMetrics::Result::Failed;
    bridge_metrics.postgres_errors.inc();
  }
  retry = outcome.status == Outcome::Status::NotYetStored && Clock::now() < item.give_up_at && !stop_ &&
          is_recent_message_id(request.target, options_.pending_max + std::chrono::seconds(2));
  if (retry) return;
  const std::string errors = user_topic(request.requester, "errors");
  if (result == BridgeMetrics::Result::Ok)
    for (const auto& p : outcome.publications)
      if (p.topic == errors) result = BridgeMetrics::Result::Refused;
  // Counted before it is answered: whoever has the answer finds it in the metrics.
  bridge_metrics.request(request.kind, result);
  if (result != BridgeMetrics::Result::Busy)
    bridge_metrics.served(request.kind, std::chrono::duration<double>(Clock::now() - item.received).count());
  // A user's requests (search, archived list) answer privately only: no room's events.
  const std::string room = is_user_request(request.kind) ? std::string() : request.room;
  for (const auto& p : outcome.publications) publish_reply(p, room, request.requester);
  log(kind_name(request.kind), " ", request.room, " by ", request.requester,
      outcome.status == Outcome::Status::Done ? "" : ": not found");
}

void RequestDispatcher::work(int index) {
  Database db(options_.dsn, "worker " + std::to_string(index), stop_);
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (!refusals_.empty()) {
      RequestError busy = std::move(refusals_.front());
      refusals_.pop_front();
      lock.unlock();
      publish_reply(error_publication(busy), "", busy.requester);
      lock.lock();
      continue;
    }
    if (closing_ && (queue_.size() == 0 || Clock::now() >= drain_until_)) break;
    const auto room = queue_.next(Clock::now());
    if (!room) {
      auto wake = queue_.next_wakeup();
      if (closing_ && (!wake || drain_until_ < *wake)) wake = drain_until_;
      if (wake) ready_cv_.wait_until(lock, *wake);
      else ready_cv_.wait(lock);
      continue;
    }
    Item item = queue_.head(*room);
    lock.unlock();

    bool retry = false;
    if (const auto* request = std::get_if<Request>(&item.parsed)) {
      serve(*request, item, retry, db);
    } else {
      const auto& err = std::get<RequestError>(item.parsed);
      bridge_metrics.invalid_request();
      log("refused ", err.topic, ": ", err.code, " (", err.reason, ")");
      // Without a stamped requester nobody can be told (answering would trust the payload).
      if (!err.requester.empty()) publish_reply(error_publication(err), "", err.requester);
    }

    lock.lock();
    if (retry) queue_.park(*room, Clock::now() + kRetryEvery);
    else queue_.done(*room);
    bridge_metrics.queued.set(int64_t(queue_.size()));
    ready_cv_.notify_one();
  }
  ++exited_;
  exited_cv_.notify_all();
}

void RequestDispatcher::stop(std::chrono::milliseconds drain) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (workers_.empty()) return;
    closing_ = true;
    drain_until_ = Clock::now() + drain;
  }
  ready_cv_.notify_all();
  // Workers leave once the queue is drained or the time is up; then a request still in progress
  // (say, waiting for Postgres to come back) is told to give up.
  {
    std::unique_lock<std::mutex> lock(mu_);
    exited_cv_.wait_until(lock, drain_until_, [this] { return exited_ == workers_.size(); });
  }
  stop_ = true;
  ready_cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
  // Whatever is still queued is answered "busy" rather than forgotten: the client retries.
  std::vector<RequestError> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& r : refusals_) left.push_back(std::move(r));
    refusals_.clear();
    while (const auto room = queue_.next(Clock::time_point::max())) {
      const auto& parsed = queue_.head(*room).parsed;
      if (const auto* r = std::get_if<Request>(&parsed)) {
        left.push_back(refuse(*r, "busy", "the bridge is restarting; try again shortly"));
        bridge_metrics.request(r->kind, BridgeMetrics::Result::Busy);
      }
      queue_.done(*room);
    }
  }
  if (!left.empty()) log("stopping: answering ", left.size(), " request(s) still queued with \"busy\"");
  for (const auto& e : left)
    if (!e.requester.empty()) publish_reply(error_publication(e), "", e.requester);
}

}  // namespace mqchat::bridge
