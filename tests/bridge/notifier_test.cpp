// The notifier's pure logic: previews, signing, the POST body, outcomes, backoff, batching per user
// and the queue bound. The real thing (a bridge POSTing to a receiver on loopback): notify_test.cpp.
#include "bridge/notifier.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace mqchat::bridge::notify {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

Notification note(const std::string& user, int n) {
  return {user, "c-" + user, "room", "alice", "m" + std::to_string(n), "text " + std::to_string(n), "t"};
}

TEST(NotifyPreview, KeepsWholeCodePointsAndMarksTheCut) {
  EXPECT_EQ(preview("hello", 10), "hello");
  EXPECT_EQ(preview("hello", 5), "hello");
  EXPECT_EQ(preview("hello world", 5), "hello\xE2\x80\xA6");
  EXPECT_EQ(preview("h\xC3\xA9llo", 2), "h\xC3\xA9\xE2\x80\xA6");  // é is two bytes, one character
  EXPECT_EQ(preview("\xF0\x9F\x91\x8D\xF0\x9F\x91\x8D", 1), "\xF0\x9F\x91\x8D\xE2\x80\xA6");
  EXPECT_EQ(preview("abc", 0), "\xE2\x80\xA6");
  EXPECT_EQ(preview("", 0), "");
}

TEST(NotifySignature, IsHmacSha256OfTimestampDotBody) {
  // RFC 4231 test case 2.
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(signature("Jefe", "what do ya want", " for nothing?"),
            "sha256=" + hmac_sha256_hex("Jefe", "what do ya want. for nothing?"));
  EXPECT_NE(signature("k", "1700000000", "{}"), signature("k", "1700000001", "{}")) << "the timestamp is signed";
  EXPECT_NE(signature("k", "1", "{}"), signature("k2", "1", "{}"));
}

TEST(NotifyBody, ListsTheBatchInOrderWithItsId) {
  const json b = json::parse(batch_body("b-1", "bob", {note("bob", 1), note("bob", 2)}));
  EXPECT_EQ(b["id"], "b-1");
  EXPECT_EQ(b["user"], "bob");
  ASSERT_EQ(b["notifications"].size(), 2u);
  EXPECT_EQ(b["notifications"][0]["message_id"], "m1");
  EXPECT_EQ(b["notifications"][1]["preview"], "text 2");
  for (const char* k : {"conversation_id", "room", "sender", "message_id", "preview", "created_at"})
    EXPECT_TRUE(b["notifications"][0].contains(k)) << k;
}

TEST(NotifyOutcome, RetriesServerErrorsAndSilenceOnlyRejectsOther4xx) {
  for (long s : {200L, 201L, 204L}) EXPECT_EQ(classify(s), Outcome::Delivered) << s;
  for (long s : {0L, 429L, 500L, 502L, 503L, 504L}) EXPECT_EQ(classify(s), Outcome::Retry) << s;
  for (long s : {301L, 400L, 401L, 403L, 404L, 410L, 413L}) EXPECT_EQ(classify(s), Outcome::Rejected) << s;
}

TEST(NotifyBackoff, DoublesUpToTheCapWithJitterBetweenHalfAndAll) {
  EXPECT_EQ(backoff(1, 100ms, 10s, 1.0), 100ms);
  EXPECT_EQ(backoff(2, 100ms, 10s, 1.0), 200ms);
  EXPECT_EQ(backoff(4, 100ms, 10s, 1.0), 800ms);
  EXPECT_EQ(backoff(30, 100ms, 10s, 1.0), 10s);
  EXPECT_EQ(backoff(4, 100ms, 10s, 0.0), 400ms);
  EXPECT_EQ(backoff(4, 100ms, 10s, 0.5), 600ms);
  for (double u = 0; u <= 1.0; u += 0.1) {
    EXPECT_GE(backoff(3, 100ms, 10s, u), 200ms);
    EXPECT_LE(backoff(3, 100ms, 10s, u), 400ms);
  }
}

TEST(NotifyQueue, OneBatchPerUserPerWindow) {
  Queue q(1000ms, 100, 1000);
  const auto t0 = Clock::now();
  q.add(note("bob", 1), t0);
  q.add(note("carol", 2), t0 + 100ms);
  q.add(note("bob", 3), t0 + 500ms);
  EXPECT_EQ(q.size(), 3u);
  EXPECT_FALSE(q.take_due(t0 + 999ms)) << "the window is still open";
  EXPECT_EQ(*q.next_due(), t0 + 1000ms);
  auto bob = q.take_due(t0 + 1000ms);
  ASSERT_TRUE(bob);
  EXPECT_EQ(bob->user, "bob");
  ASSERT_EQ(bob->items.size(), 2u);
  EXPECT_EQ(bob->items[0].message_id, "m1");
  EXPECT_EQ(bob->items[1].message_id, "m3");
  EXPECT_FALSE(q.take_due(t0 + 1000ms)) << "carol's window opened later";
  auto carol = q.take_due(t0 + 1100ms);
  ASSERT_TRUE(carol);
  EXPECT_EQ(carol->items.size(), 1u);
  EXPECT_NE(carol->id, bob->id);
  // bob's next message opens a new window.
  q.add(note("bob", 4), t0 + 1200ms);
  EXPECT_FALSE(q.take_due(t0 + 2100ms));
  EXPECT_EQ(q.take_due(t0 + 2200ms)->items.size(), 1u);
  EXPECT_EQ(q.size(), 0u);
  EXPECT_FALSE(q.next_due());
}

TEST(NotifyQueue, AFullBatchGoesAtOnce) {
  Queue q(10s, 3, 1000);
  const auto t0 = Clock::now();
  for (int i = 0; i < 4; ++i) q.add(note("bob", i), t0);
  auto full = q.take_due(t0);
  ASSERT_TRUE(full);
  EXPECT_EQ(full->items.size(), 3u);
  EXPECT_FALSE(q.take_due(t0)) << "the fourth waits for its window";
  EXPECT_EQ(q.size(), 1u);
}

TEST(NotifyQueue, ARetriedBatchKeepsItsIdAndWaitsForItsTime) {
  Queue q(0ms, 100, 1000);
  const auto t0 = Clock::now();
  q.add(note("bob", 1), t0);
  auto b = q.take_due(t0);
  ASSERT_TRUE(b);
  const std::string id = b->id;
  b->attempts = 1;
  q.retry(std::move(*b), t0 + 500ms);
  EXPECT_EQ(q.size(), 1u);
  EXPECT_FALSE(q.take_due(t0 + 499ms));
  auto again = q.take_due(t0 + 500ms);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->id, id);
  EXPECT_EQ(again->attempts, 1);
}

TEST(NotifyQueue, WhenFullTheOldestAreDroppedAndCounted) {
  Queue q(1s, 100, 5);
  const auto t0 = Clock::now();
  for (int i = 0; i < 8; ++i) q.add(note(i % 2 ? "bob" : "carol", i), t0 + std::chrono::milliseconds(i));
  EXPECT_EQ(q.size(), 5u);
  EXPECT_EQ(q.dropped(), 3u);
  std::vector<std::string> kept;
  while (auto b = q.take_due(t0 + 10s))
    for (const auto& n : b->items) kept.push_back(n.message_id);
  std::sort(kept.begin(), kept.end());
  EXPECT_EQ(kept, (std::vector<std::string>{"m3", "m4", "m5", "m6", "m7"}));

  // A batch waiting for a retry is the oldest: it loses first.
  Queue r(1s, 100, 3);
  r.add(note("bob", 1), t0);
  r.add(note("bob", 2), t0);
  auto b = r.take_due(t0 + 1s);
  r.add(note("bob", 3), t0 + 1s);
  r.add(note("bob", 4), t0 + 1s);
  r.retry(std::move(*b), t0 + 2s);
  EXPECT_EQ(r.size(), 3u);
  EXPECT_EQ(r.dropped(), 1u);
  auto first = r.take_due(t0 + 2s);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->items.size(), 1u);
  EXPECT_EQ(first->items[0].message_id, "m2") << "m1, the oldest, went";
  EXPECT_EQ(r.take_due(t0 + 2s)->items.size(), 2u);
}

}  // namespace
}  // namespace mqchat::bridge::notify

namespace mqchat::bridge {
namespace {

using namespace std::chrono_literals;

// --notify-config: the YAML file (secret file relative to it), then single flags override it.
TEST(NotifyOptions, TheFileThenFlags) {
  const std::string dir = ::testing::TempDir() + "notify-options-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/pw") << "bridge-pw\n";
  std::ofstream(dir + "/hook.secret") << "s3cret\nignored second line\n";
  std::ofstream(dir + "/notify.yaml") << "notify:\n  url: \"https://hooks.example/mqchat\"\n"
                                         "  secret_file: hook.secret\n  batch_window_ms: 750\n  max_queue: 33\n"
                                         "  max_attempts: 4\n  backoff_initial_ms: 100\n  backoff_max_ms: 900\n"
                                         "  timeout_ms: 1500\n  preview_chars: 40\n  max_batch: 7\n";
  std::vector<std::string> args = {"mqchat-bridge", "--password-file", dir + "/pw", "--dsn", "dbname=x",
                                   "--notify-config", dir + "/notify.yaml", "--notify-max-queue", "44"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  const Options o = parse_options(int(argv.size()), argv.data());
  EXPECT_TRUE(o.notify.enabled());
  EXPECT_EQ(o.notify.url, "https://hooks.example/mqchat");
  EXPECT_EQ(o.notify.secret, "s3cret");
  EXPECT_EQ(o.notify.batch_window, 750ms);
  EXPECT_EQ(o.notify.max_queue, 44u) << "the flag wins";
  EXPECT_EQ(o.notify.max_attempts, 4);
  EXPECT_EQ(o.notify.backoff_initial, 100ms);
  EXPECT_EQ(o.notify.backoff_max, 900ms);
  EXPECT_EQ(o.notify.timeout, 1500ms);
  EXPECT_EQ(o.notify.preview_chars, 40u);
  EXPECT_EQ(o.notify.max_batch, 7u);

  std::vector<std::string> plain = {"mqchat-bridge", "--password-file", dir + "/pw", "--dsn", "dbname=x"};
  std::vector<char*> argv2;
  for (auto& a : plain) argv2.push_back(a.data());
  EXPECT_FALSE(parse_options(int(argv2.size()), argv2.data()).notify.enabled()) << "off unless configured";

  // The shipped config/notify.yaml: no URL, so off, and its secret file need not exist.
  std::vector<std::string> shipped = {"mqchat-bridge", "--password-file", dir + "/pw", "--dsn", "dbname=x",
                                      "--notify-config", std::string(MQCHAT_SOURCE_DIR) + "/config/notify.yaml"};
  std::vector<char*> argv3;
  for (auto& a : shipped) argv3.push_back(a.data());
  const Options off = parse_options(int(argv3.size()), argv3.data());
  EXPECT_FALSE(off.notify.enabled());
  EXPECT_EQ(off.notify.batch_window, 2000ms);
}

TEST(NotifyOptions, MistakesStopTheBridgeNamingThem) {
  const std::string dir = ::testing::TempDir() + "notify-bad-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/pw") << "bridge-pw\n";
  auto run = [&](const std::string& yaml) {
    std::ofstream(dir + "/n.yaml", std::ios::trunc) << yaml;
    std::vector<std::string> args = {"mqchat-bridge", "--password-file", dir + "/pw", "--dsn", "x",
                                     "--notify-config", dir + "/n.yaml"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    parse_options(int(argv.size()), argv.data());
  };
  EXPECT_EXIT(run("notify:\n  url: \"http://x\"\n  secret: k\n  nope: 1\n"), ::testing::ExitedWithCode(2), "notify.nope");
  EXPECT_EXIT(run("notify:\n  url: \"http://x\"\n"), ::testing::ExitedWithCode(2), "need a secret");
  EXPECT_EXIT(run("notify:\n  url: \"ftp://x\"\n  secret: k\n"), ::testing::ExitedWithCode(2), "http");
  EXPECT_EXIT(run("notify:\n  url: \"http://x\"\n  secret: k\n  max_queue: 0\n"), ::testing::ExitedWithCode(2),
              "notify.max_queue");
}

}  // namespace
}  // namespace mqchat::bridge
