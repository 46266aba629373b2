#include "bridge/notifier.h"

#include <curl/curl.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "bridge/database.h"
#include "bridge/log.h"
#include "bridge/metrics.h"
#include "common/hex.h"
#include "common/sql_array.h"

namespace mqchat::bridge {

using nlohmann::json;
using namespace std::chrono_literals;

namespace notify {

const char* const kRecipientsSql = R"sql(
with members as (  -- one row per member of each conversation: the pair of a direct one, a group's members
  select c.id as conversation_id, m.user_id
    from conversations c
    cross join lateral (values (c.participant_1), (c.participant_2)) as m(user_id)
   where c.id = any($1::uuid[]) and m.user_id is not null
  union all
  select cm.conversation_id, cm.user_id from conversation_members cm where cm.conversation_id = any($1::uuid[]))
select m.conversation_id::text, p.username, coalesce(s.muted, false) as muted
  from members m
  join profiles p on p.id = m.user_id
  left join conversation_settings s on s.conversation_id = m.conversation_id and s.user_id = m.user_id
)sql";

std::string preview(const std::string& content, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < content.size(); ++i) {
    if ((static_cast<unsigned char>(content[i]) & 0xC0) == 0x80) continue;  // continuation byte
    if (chars == max_chars) return content.substr(0, i) + "\xE2\x80\xA6";   // "…"
    ++chars;
  }
  return content;
}

std::string hmac_sha256_hex(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), int(key.size()), reinterpret_cast<const unsigned char*>(data.data()), data.size(),
       mac, &len);
  return to_hex(mac, len);
}

std::string signature(const std::string& secret, const std::string& timestamp, const std::string& body) {
  return "sha256=" + hmac_sha256_hex(secret, timestamp + "." + body);
}

std::string batch_body(const std::string& batch_id, const std::string& user, const std::vector<Notification>& items) {
  json list = json::array();
  for (const auto& n : items)
    list.push_back({{"conversation_id", n.conversation_id},
                    {"room", n.room},
                    {"sender", n.sender},
                    {"message_id", n.message_id},
                    {"preview", n.preview},
                    {"created_at", n.created_at}});
  return json{{"id", batch_id}, {"user", user}, {"notifications", std::move(list)}}.dump();
}

Outcome classify(long status) {
  if (status >= 200 && status < 300) return Outcome::Delivered;
  if (status == 0 || status == 429 || status >= 500) return Outcome::Retry;
  return Outcome::Rejected;
}

std::chrono::milliseconds backoff(int attempt, std::chrono::milliseconds initial, std::chrono::milliseconds max,
                                  double unit) {
  double d = double(initial.count()) * std::pow(2.0, std::max(0, attempt - 1));
  d = std::min(d, double(max.count()));
  return std::chrono::milliseconds(long(d * (0.5 + 0.5 * std::clamp(unit, 0.0, 1.0))));
}

std::string Queue::new_id() {
  if (id_prefix_.empty()) {
    unsigned char r[8];
    RAND_bytes(r, sizeof r);
    id_prefix_ = to_hex(r, sizeof r);
  }
  return id_prefix_ + "-" + std::to_string(++ids_);
}

void Queue::add(Notification n, Clock::time_point now) {
  auto it = open_.find(n.user);
  if (it != open_.end() && it->second->items.size() >= max_batch_) {  // full: it goes now
    it->second->open = false;
    it->second->due = now;
    open_.erase(it);
    it = open_.end();
  }
  n.seq = ++seq_;
  if (it == open_.end()) {
    batches_.push_back(Batch{new_id(), n.user, {}, now + window_, 0, true});
    it = open_.emplace(n.user, std::prev(batches_.end())).first;
    by_oldest_.emplace(n.seq, it->second);
  }
  it->second->items.push_back(std::move(n));
  ++items_;
  trim();
}

std::optional<Batch> Queue::take_due(Clock::time_point now) {
  for (auto it = batches_.begin(); it != batches_.end(); ++it) {
    if (it->due > now) continue;
    if (it->open) open_.erase(it->user);
    by_oldest_.erase(it->items.front().seq);
    Batch b = std::move(*it);
    batches_.erase(it);
    b.open = false;
    items_ -= b.items.size();
    return b;
  }
  return std::nullopt;
}

void Queue::retry(Batch b, Clock::time_point at) {
  b.open = false;
  b.due = at;
  if (b.items.empty()) return;
  items_ += b.items.size();
  batches_.push_front(std::move(b));
  by_oldest_.emplace(batches_.front().items.front().seq, batches_.begin());
  trim();
}

std::optional<Clock::time_point> Queue::next_due() const {
  std::optional<Clock::time_point> due;
  for (const auto& b : batches_)
    if (!due || b.due < *due) due = b.due;
  return due;
}

void Queue::trim() {
  while (items_ > max_items_ && !by_oldest_.empty()) {
    const auto it = by_oldest_.begin()->second;  // the batch holding the oldest notification
    by_oldest_.erase(by_oldest_.begin());
    it->items.erase(it->items.begin());
    --items_;
    ++dropped_;
    if (!it->items.empty()) {
      by_oldest_.emplace(it->items.front().seq, it);
    } else {
      if (it->open) open_.erase(it->user);
      batches_.erase(it);
    }
  }
}

}  // namespace notify

namespace {
constexpr int kLookupTries = 20;
constexpr auto kLookupRetry = 250ms;
size_t discard(char*, size_t size, size_t n, void*) { return size * n; }
}  // namespace

Notifier::Notifier(const Options& options)
    : options_(options),
      cfg_(options.notify),
      queue_(options.notify.batch_window, options.notify.max_batch, options.notify.max_queue) {
  static const CURLcode global = curl_global_init(CURL_GLOBAL_DEFAULT);  // once, before any thread uses curl
  (void)global;
  curl_ = curl_easy_init();
}

Notifier::~Notifier() {
  stop();
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

void Notifier::start() {
  log("notify: webhook ", cfg_.url, ", batches of ", cfg_.batch_window.count(), " ms, at most ", cfg_.max_queue,
      " waiting");
  thread_ = std::thread([this] { run(); });
}

void Notifier::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Notifier::on_message(const std::string& payload) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (incoming_.size() >= cfg_.max_queue) {  // not looked up yet: counted as one dropped notification
      incoming_.pop_front();
      bridge_metrics.notify_dropped.inc();
    }
    incoming_.push_back(payload);
  }
  cv_.notify_one();
}

void Notifier::on_presence(const std::string& user, const std::string& payload) {
  bool is_online = false;
  try {
    if (!payload.empty()) is_online = json::parse(payload).value("status", "") == "online";
  } catch (const std::exception&) {
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (is_online)
    online_[user] = true;
  else
    online_.erase(user);
}

bool Notifier::online(const std::string& user) const {
  std::lock_guard<std::mutex> lock(mu_);
  return online_.count(user) > 0;
}

void Notifier::run() {
  db_ = std::make_unique<Database>(options_.dsn, "notify", stop_);
  while (!stop_) {
    std::vector<std::string> payloads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      payloads.assign(std::make_move_iterator(incoming_.begin()), std::make_move_iterator(incoming_.end()));
      incoming_.clear();
    }
    const auto now = notify::Clock::now();
    std::vector<json> messages;
    for (const auto& p : payloads) {
      try {
        json m = json::parse(p);
        if (m.is_object() && m.contains("conversation_id") && m.contains("sender")) messages.push_back(std::move(m));
      } catch (const std::exception&) {  // not a stored message: nothing to notify
      }
    }
    if (!unresolved_.empty() && now >= retry_unresolved_at_) {  // they came first: they go first
      messages.insert(messages.begin(), std::make_move_iterator(unresolved_.begin()),
                      std::make_move_iterator(unresolved_.end()));
      unresolved_.clear();
    }
    if (const size_t n = messages.size()) {
      try {
        route(std::move(messages), now);
      } catch (const Database::Stopping&) {
        break;
      } catch (const std::exception& e) {
        bridge_metrics.postgres_errors.inc();
        log("notify: looking up recipients failed (", e.what(), "); ", n, " message(s) not notified");
      }
    }
    while (!stop_) {
      auto batch = queue_.take_due(notify::Clock::now());
      if (!batch) break;
      send(std::move(*batch));
      std::lock_guard<std::mutex> lock(mu_);
      if (!incoming_.empty()) break;  // look the new ones up before the next POST
    }
    bridge_metrics.notify_waiting.set(int64_t(queue_.size()));
    std::unique_lock<std::mutex> lock(mu_);
    auto until = notify::Clock::now() + 250ms;
    if (const auto due = queue_.next_due()) until = std::min(until, *due);
    if (!unresolved_.empty()) until = std::min(until, retry_unresolved_at_);
    cv_.wait_until(lock, until, [this] { return stop_ || !incoming_.empty(); });
  }
}

void Notifier::route(std::vector<json> messages, notify::Clock::time_point now) {
  std::set<std::string> conversations;
  for (const auto& m : messages) conversations.insert(m["conversation_id"].get<std::string>());
  const std::string ids = array_literal({conversations.begin(), conversations.end()});
  struct Member {
    std::string user;
    bool muted;
  };
  std::unordered_map<std::string, std::vector<Member>> members;
  db_->run([&](pqxx::work& tx) {
    for (const auto& row : tx.exec_params(notify::kRecipientsSql, ids))
      members[row[0].as<std::string>()].push_back({row[1].as<std::string>(), row[2].as<bool>()});
    return 0;
  });
  const uint64_t dropped = queue_.dropped();
  // Conversations with a message waiting for its lookup: later ones wait behind it (in order).
  std::set<std::string> waiting;
  for (const auto& m : unresolved_) waiting.insert(m["conversation_id"].get<std::string>());
  for (auto& m : messages) {
    const auto conversation = m["conversation_id"].get<std::string>();
    const auto found = members.find(conversation);
    if (found == members.end() || waiting.count(conversation)) {
      waiting.insert(conversation);
      // Delivered before Postgres had its conversation (the first message of a new one): again
      // shortly, a few times.
      const int tries = m.value("_lookups", 0) + 1;
      if (tries < kLookupTries) {
        m["_lookups"] = tries;
        if (unresolved_.empty()) retry_unresolved_at_ = now + kLookupRetry;
        unresolved_.push_back(std::move(m));
        if (unresolved_.size() > cfg_.max_queue) {
          unresolved_.erase(unresolved_.begin());
          bridge_metrics.notify_dropped.inc();
        }
      } else {
        log("notify: conversation ", m["conversation_id"].get<std::string>(), " not found; message ",
            m.value("id", ""), " not notified");
      }
      continue;
    }
    const auto sender = m.value("sender", "");
    for (const auto& member : found->second) {
      if (member.muted || member.user == sender || online(member.user)) continue;
      queue_.add({member.user, m.value("conversation_id", ""), m.value("room", ""), sender, m.value("id", ""),
                  notify::preview(m.value("content", ""), cfg_.preview_chars), m.value("created_at", "")},
                 now);
      bridge_metrics.notify_queued.inc();
    }
  }
  bridge_metrics.notify_dropped.inc(queue_.dropped() - dropped);
}

void Notifier::send(notify::Batch batch) {
  const std::string body = notify::batch_body(batch.id, batch.user, batch.items);
  const long status = post(body);
  ++batch.attempts;
  switch (notify::classify(status)) {
    case notify::Outcome::Delivered:
      bridge_metrics.notify_delivered.inc(batch.items.size());
      return;
    case notify::Outcome::Rejected:
      bridge_metrics.notify_rejected.inc(batch.items.size());
      log("notify: the receiver refused a batch for ", batch.user, " (HTTP ", status, "); not retried");
      return;
    case notify::Outcome::Retry:
      break;
  }
  if (batch.attempts >= cfg_.max_attempts) {
    bridge_metrics.notify_gave_up.inc(batch.items.size());
    log("notify: gave up a batch of ", batch.items.size(), " for ", batch.user, " after ", batch.attempts,
        " attempts (last: ", status ? "HTTP " + std::to_string(status) : last_error_, ")");
    return;
  }
  bridge_metrics.notify_retries.inc();
  if (batch.attempts == 1)  // once per batch: a receiver that is down must not flood the log
    log("notify: POST for ", batch.user, " failed (", status ? "HTTP " + std::to_string(status) : last_error_,
        "); retrying");
  thread_local std::mt19937 rng(std::random_device{}());
  const auto delay = notify::backoff(batch.attempts, cfg_.backoff_initial, cfg_.backoff_max,
                                     std::uniform_real_distribution<double>(0, 1)(rng));
  const uint64_t dropped = queue_.dropped();
  queue_.retry(std::move(batch), notify::Clock::now() + delay);
  bridge_metrics.notify_dropped.inc(queue_.dropped() - dropped);
}

long Notifier::post(const std::string& body) {
  CURL* curl = static_cast<CURL*>(curl_);
  if (!curl) return 0;
  const std::string ts =
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, ("X-Mqchat-Timestamp: " + ts).c_str());
  headers = curl_slist_append(headers, ("X-Mqchat-Signature: " + notify::signature(cfg_.secret, ts, body)).c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(curl, CURLOPT_URL, cfg_.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, long(body.size()));
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "mqchat-bridge");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, long(cfg_.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, long(cfg_.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  if (rc == CURLE_OK)
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  else
    last_error_ = curl_easy_strerror(rc);
  curl_slist_free_all(headers);
  return status;
}

}  // namespace mqchat::bridge
