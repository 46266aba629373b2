// mqchat-bench-micro: Google Benchmark of the plugin's per-message work on the broker thread,
// using the plugin's own core library (no broker, no Postgres): the ACL checks a QoS 1 chat
// message costs (WRITE for the publisher, READ for the one subscriber), validation + enrichment
// (parse, UUIDv7, conversation id, stored JSON), the spool append (one write(2)), and all of it
// together as the broker thread runs it.
#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/message.h"
#include "common/room.h"
#include "common/uuid.h"
#include "plugin/access_policy.h"
#include "plugin/group_directory.h"
#include "plugin/ingest_row.h"
#include "plugin/dedup_cache.h"
#include "plugin/message_pipeline.h"
#include "plugin/spool.h"
#include "plugin/user_directory.h"

namespace {

using namespace mqchat;
namespace fs = std::filesystem;

constexpr char kSender[] = "bench-s1";
constexpr char kReceiver[] = "bench-r1";

// The user directory as the plugin reads it on every ACL check: a mutex-guarded shared_ptr
// snapshot of all profiles (10,000 here), copied per check (plugin.cpp on_acl_check).
struct Directory {
  std::mutex mu;
  std::shared_ptr<const UserTable> users;
  Directory() {
    auto m = std::make_shared<UserTable>();
    for (int i = 0; i < 5000; ++i) {
      m->set("bench-s" + std::to_string(i), UserRecord{"id", "hash"});
      m->set("bench-r" + std::to_string(i), UserRecord{"id", "hash"});
    }
    users = m;
  }
  std::shared_ptr<const UserTable> snapshot() {
    std::lock_guard<std::mutex> lock(mu);
    return users;
  }
};

bool acl(Directory& dir, const Principal& who, const std::string& topic, int access) {
  const auto users = dir.snapshot();
  const auto exists = [&users](std::string_view name) { return users->contains(name); };
  return is_allowed(who, topic, access, exists);
}

std::string chat_topic_of_pair() { return "chat/" + *make_room(kSender, kReceiver) + "/messages"; }

// The load generator's payload shape (unique client_id per message, as real clients send).
std::string payload(uint64_t seq) {
  char buf[160];
  const int n = std::snprintf(buf, sizeof buf, R"({"content":"bench 1 %llu 1700000000000000","client_id":"b1-%llu","sender":"bench-s1"})",
                              static_cast<unsigned long long>(seq), static_cast<unsigned long long>(seq));
  return std::string(buf, static_cast<size_t>(n));
}

// The cost of making the payload inside BM_HotPath's loop, to subtract from it.
void BM_MakePayload(benchmark::State& state) {
  uint64_t seq = 0;
  for (auto _ : state) benchmark::DoNotOptimize(payload(seq++));
}
BENCHMARK(BM_MakePayload);

// A spool in a private temporary directory, removed afterwards.
struct TempSpool {
  std::string dir;
  std::unique_ptr<SpoolWriter> writer;
  TempSpool() {
    const char* base = std::getenv("MQCHAT_BENCH_TMP");
    dir = std::string(base ? base : "/tmp") + "/mqchat-micro-" + std::to_string(::getpid());
    writer = std::make_unique<SpoolWriter>(dir, FsyncPolicy::Interval, 10, 64ull << 20);
    writer->open();
  }
  ~TempSpool() {
    writer->close();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

void BM_AclPublishWrite(benchmark::State& state) {
  Directory dir;
  const std::string topic = chat_topic_of_pair();
  const Principal who{kSender, false};
  for (auto _ : state) benchmark::DoNotOptimize(acl(dir, who, topic, kAccessWrite));
}
BENCHMARK(BM_AclPublishWrite);

void BM_AclDeliveryRead(benchmark::State& state) {
  Directory dir;
  const std::string topic = chat_topic_of_pair();
  const Principal who{kReceiver, false};
  for (auto _ : state) benchmark::DoNotOptimize(acl(dir, who, topic, kAccessRead));
}
BENCHMARK(BM_AclDeliveryRead);

// A delivery of a group room's message (issue 17): the READ check looks the receiver up in the
// group directory's snapshot (1,000 groups; this one has 256 members), as plugin.cpp does.
void BM_AclDeliveryReadGroup(benchmark::State& state) {
  Directory dir;
  LogQueue log;
  GroupDirectory groups("", 60000, log);
  auto members = std::make_shared<GroupMembers>();
  char room[32];
  for (int g = 0; g < 1000; ++g) {
    std::snprintf(room, sizeof room, "g:%016x", g);
    for (int i = 0; i < (g == 500 ? 256 : 10); ++i) members->add(room, "bench-s" + std::to_string(i));
  }
  groups.install(members);
  std::snprintf(room, sizeof room, "g:%016x", 500);
  const std::string topic = "chat/" + std::string(room) + "/messages";
  const Principal who{"bench-s128", false};
  for (auto _ : state) {
    const auto users = dir.snapshot();
    const auto exists = [&users](std::string_view name) { return users->contains(name); };
    benchmark::DoNotOptimize(is_allowed(who, topic, kAccessRead, exists, &groups));
  }
}
BENCHMARK(BM_AclDeliveryReadGroup);

void BM_ParseValidate(benchmark::State& state) {
  const MessageLimits limits;
  const std::string p = payload(42);
  for (auto _ : state) benchmark::DoNotOptimize(parse_message_payload(p, limits));
}
BENCHMARK(BM_ParseValidate);

// What on_chat_message does besides parsing and the spool: ids, names, time, stored JSON.
void BM_Enrich(benchmark::State& state) {
  const MessageLimits limits;
  Uuidv7Generator ids;
  const std::string room = *make_room(kSender, kReceiver);
  const auto draft = *parse_message_payload(payload(42), limits).value;
  for (auto _ : state) {
    const int64_t now = now_unix_us();
    StoredMessage m;
    m.id = to_string(ids.next(static_cast<uint64_t>(now / 1000)));
    m.conversation_id = to_string(conversation_id(room));
    m.room = room;
    m.sender = kSender;
    m.draft = draft;
    m.created_at = rfc3339_utc(now);
    benchmark::DoNotOptimize(to_json(m));
  }
}
BENCHMARK(BM_Enrich);

// The parts of BM_Enrich, to find where its time goes.
void BM_EnrichConversationId(benchmark::State& state) {
  const std::string room = *make_room(kSender, kReceiver);
  for (auto _ : state) benchmark::DoNotOptimize(to_string(conversation_id(room)));
}
BENCHMARK(BM_EnrichConversationId);

void BM_EnrichUuidv7(benchmark::State& state) {
  Uuidv7Generator ids;
  for (auto _ : state) benchmark::DoNotOptimize(to_string(ids.next(static_cast<uint64_t>(now_unix_us() / 1000))));
}
BENCHMARK(BM_EnrichUuidv7);

void BM_EnrichTimestamp(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(rfc3339_utc(now_unix_us()));
}
BENCHMARK(BM_EnrichTimestamp);

void BM_EnrichToJson(benchmark::State& state) {
  const MessageLimits limits;
  StoredMessage m;
  m.id = "01890f4e-7b1c-7a3e-9f00-0123456789ab";
  m.conversation_id = to_string(conversation_id(*make_room(kSender, kReceiver)));
  m.room = *make_room(kSender, kReceiver);
  m.sender = kSender;
  m.draft = *parse_message_payload(payload(42), limits).value;
  m.created_at = rfc3339_utc(now_unix_us());
  for (auto _ : state) benchmark::DoNotOptimize(to_json(m));
}
BENCHMARK(BM_EnrichToJson);

// In a cluster every chat message routed from another node is checked as a stored message and
// its retry key remembered (MessagePipeline::remember_routed): the key read with common/json_scan,
// and, for comparison, what it cost when the record was parsed into a DOM (nlohmann::json) first.
std::string stored_message() {
  StoredMessage m;
  m.id = "01890f4e-7b1c-7a3e-9f00-0123456789ab";
  m.room = *make_room(kSender, kReceiver);
  m.conversation_id = to_string(conversation_id(m.room));
  m.sender = kSender;
  m.draft = *parse_message_payload(payload(42), MessageLimits{}).value;
  m.created_at = rfc3339_utc(now_unix_us());
  return to_json(m);
}

void BM_RoutedMessageKey(benchmark::State& state) {
  const std::string record = stored_message();
  for (auto _ : state) benchmark::DoNotOptimize(stored_message_key(record));
}
BENCHMARK(BM_RoutedMessageKey);

void BM_RoutedMessageKeyThroughDom(benchmark::State& state) {
  const std::string record = stored_message();
  for (auto _ : state) {
    const auto j = nlohmann::json::parse(record, nullptr, false);
    benchmark::DoNotOptimize(j.value("sender", "") + j.value("room", "") + j.value("client_id", ""));
  }
}
BENCHMARK(BM_RoutedMessageKeyThroughDom);

void BM_SpoolAppend(benchmark::State& state) {
  TempSpool spool;
  const std::string record(static_cast<size_t>(state.range(0)), 'x');
  for (auto _ : state) benchmark::DoNotOptimize(spool.writer->append(record));
  state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(BM_SpoolAppend)->Arg(300);

void BM_DedupRemember(benchmark::State& state) {
  DedupCache dedup(600, 100000);
  const std::string stored(300, 'x');
  uint64_t seq = 0;
  const int64_t now_s = now_unix_us() / 1000000;
  for (auto _ : state) {
    const std::string id = "b1-" + std::to_string(seq++);
    benchmark::DoNotOptimize(dedup.find(kSender, "room", id, now_s));
    dedup.remember(kSender, "room", id, stored, now_s);
  }
}
BENCHMARK(BM_DedupRemember);

// The whole per-message path of a chat message on the broker thread: ACL WRITE, the pipeline
// (validate, dedup, enrich, spool append, remember), ACL READ for the subscriber's delivery.
void BM_HotPath(benchmark::State& state) {
  Directory dir;
  TempSpool spool;
  DedupCache dedup(600, 100000);
  MessagePipeline pipeline(MessageLimits{}, *spool.writer, dedup);
  const std::string topic = chat_topic_of_pair();
  const Principal sender{kSender, false}, receiver{kReceiver, false};
  uint64_t seq = 0;
  for (auto _ : state) {
    const std::string p = payload(seq++);  // BM_MakePayload: subtract
    if (!acl(dir, sender, topic, kAccessWrite)) state.SkipWithError("ACL refused the publish");
    auto d = pipeline.on_publish(sender, topic, p);
    if (d.action != PublishDecision::Action::Replace) state.SkipWithError("pipeline did not accept the message");
    benchmark::DoNotOptimize(acl(dir, receiver, topic, kAccessRead));
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_HotPath);

}  // namespace

BENCHMARK_MAIN();
