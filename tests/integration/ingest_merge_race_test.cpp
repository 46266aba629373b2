// 066: the shipper's merge inserts a batch without ON CONFLICT and merges it again, skipping what
// exists, only when it collides. Two shippers (two nodes, or a restarted one replaying) merging the
// same message at once, on real Postgres: the second waits for the first, then stores only what
// the first did not; if the first rolls back, the second stores its copy. Never twice, never lost.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>

#include "tests/support/db.h"

namespace mqchat::test {
namespace {

constexpr auto kHold = std::chrono::milliseconds(800);

struct Room {
  std::string room, conversation_id, alice_id;
};

Room make_room() {
  const std::string a = unique_username("merge-a"), b = unique_username("merge-b");
  Room r{"", "", create_user(a, "pw")};
  const std::string b_id = create_user(b, "pw");
  auto conn = connect_db();
  pqxx::work tx(*conn);
  const auto row = tx.exec_params1(
      "insert into conversations (participant_1, participant_2) values ($1, $2) returning room, id", r.alice_id, b_id);
  r.room = row[0].as<std::string>();
  r.conversation_id = row[1].as<std::string>();
  tx.commit();
  return r;
}

// One shipper's transaction: stages (id, client_id) rows of alice in `r` as the COPY leaves them
// and merges them; the merge's count of stored rows.
int merge(pqxx::work& tx, const Room& r, const std::vector<std::pair<std::string, std::string>>& rows) {
  tx.exec("create temporary table if not exists mqchat_ingest_stage (like mqchat_ingest_stage_shape) "
          "on commit delete rows");
  for (const auto& [id, client_id] : rows) {
    tx.exec_params("insert into pg_temp.mqchat_ingest_stage (id, conversation_id, sender_id, content, message_type, "
                   "metadata, client_id, created_at) values ($1, $2, $3, 'merged ' || $4, 'text', '{}', $4, now())",
                   id, r.conversation_id, r.alice_id, client_id);
  }
  return tx.exec1("select mqchat_ingest_staged()")[0].as<int>();
}

std::string new_id() { return query_value("select uuidv7()"); }

std::string stored(const Room& r, const std::string& client_id) {
  return query_value("select string_agg(id::text, ',') from messages where conversation_id = '" + r.conversation_id +
                     "' and client_id = '" + client_id + "'");
}

// The second merge runs in its own connection; the first stays open in `first_tx` until the test
// commits or aborts it.
std::future<int> merge_in_background(const Room& r, std::vector<std::pair<std::string, std::string>> rows) {
  return std::async(std::launch::async, [r, rows]() {
    auto conn = connect_db();
    pqxx::work tx(*conn);
    const int n = merge(tx, r, rows);
    tx.commit();
    return n;
  });
}

TEST(IngestMergeRace, TheSameClientIdFromTwoNodesIsStoredOnceAndTheRestOfTheBatchToo) {
  const Room r = make_room();
  const std::string first_id = new_id(), second_id = new_id(), other_id = new_id();
  auto conn = connect_db();
  pqxx::work first_tx(*conn);
  ASSERT_EQ(merge(first_tx, r, {{first_id, "k1"}}), 1);

  auto second = merge_in_background(r, {{other_id, "k2"}, {second_id, "k1"}});
  ASSERT_EQ(second.wait_for(kHold), std::future_status::timeout) << "the second merge did not wait for the first";
  first_tx.commit();
  EXPECT_EQ(second.get(), 1) << "only k2 is new";
  EXPECT_EQ(stored(r, "k1"), first_id);
  EXPECT_EQ(stored(r, "k2"), other_id);
}

TEST(IngestMergeRace, WhenTheFirstRollsBackTheSecondStoresItsCopy) {
  const Room r = make_room();
  const std::string first_id = new_id(), second_id = new_id();
  auto conn = connect_db();
  auto first_tx = std::make_unique<pqxx::work>(*conn);
  ASSERT_EQ(merge(*first_tx, r, {{first_id, "k1"}}), 1);

  auto second = merge_in_background(r, {{second_id, "k1"}});
  ASSERT_EQ(second.wait_for(kHold), std::future_status::timeout) << "the second merge did not wait for the first";
  first_tx->abort();
  EXPECT_EQ(second.get(), 1);
  EXPECT_EQ(stored(r, "k1"), second_id);
}

TEST(IngestMergeRace, ABatchReplayedWhileItIsBeingMergedStoresNothingTwice) {
  const Room r = make_room();
  const std::vector<std::pair<std::string, std::string>> batch = {
      {new_id(), "r1"}, {new_id(), "r2"}, {new_id(), "r3"}};
  auto conn = connect_db();
  pqxx::work first_tx(*conn);
  ASSERT_EQ(merge(first_tx, r, batch), 3);

  auto replay = merge_in_background(r, batch);
  ASSERT_EQ(replay.wait_for(kHold), std::future_status::timeout) << "the replay did not wait for the first merge";
  first_tx.commit();
  EXPECT_EQ(replay.get(), 0);
  EXPECT_EQ(query_value("select count(*) from messages where conversation_id = '" + r.conversation_id + "'"), "3");
  // The counters saw each message once (021): bob has three unread, not six.
  EXPECT_EQ(query_value("select case when participant_1 = '" + r.alice_id + "' then unread_2 else unread_1 end "
                        "from conversations where id = '" + r.conversation_id + "'"),
            "3");
}

}  // namespace
}  // namespace mqchat::test
