// 062 replaced messages' two foreign keys with per-statement triggers. Two transactions racing on
// real Postgres get what the foreign keys gave them: a delete of a conversation that an uncommitted
// insert refers to waits for it and then deletes the new message too; an insert into a conversation
// whose delete is not yet committed waits for it and then fails with 23503. No orphan either way.
// 065 did the same for the reply key (a reply's target, in the same conversation): a reply waits for
// the uncommitted delete of its target and fails; a target's delete waits for an uncommitted reply
// and then leaves it without its target. No reply to a missing message either way.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>

#include "tests/support/db.h"

namespace mqchat::test {
namespace {

constexpr auto kHold = std::chrono::milliseconds(800);

struct Pair {
  std::string a, b, a_id, room;
};

Pair make_pair_with_conversation() {
  Pair p{unique_username("ref-a"), unique_username("ref-b"), "", ""};
  p.a_id = create_user(p.a, "pw");
  const std::string b_id = create_user(p.b, "pw");
  auto conn = connect_db();
  pqxx::work tx(*conn);
  p.room = tx.exec_params1("insert into conversations (participant_1, participant_2) values ($1, $2) returning room",
                           p.a_id, b_id)[0]
               .as<std::string>();
  tx.commit();
  return p;
}

const char* kInsert =
    "insert into messages (conversation_id, sender_id, content, origin) "
    "values (mqchat_conversation_id($1), $2, 'racing', 'mqtt')";

long orphans() {
  return std::stol(query_value(
      "select count(*) from messages m where not exists (select 1 from conversations c where c.id = m.conversation_id) "
      "or not exists (select 1 from profiles p where p.id = m.sender_id)"));
}

// Runs `statement` in its own connection and transaction, committed: "" when it succeeds, else
// the SQLSTATE and the message.
std::future<std::string> in_background(std::function<void(pqxx::work&)> statement) {
  return std::async(std::launch::async, [statement]() -> std::string {
    auto conn = connect_db();
    try {
      pqxx::work tx(*conn);
      statement(tx);
      tx.commit();
      return "";
    } catch (const pqxx::sql_error& e) {
      return e.sqlstate() + " " + e.what();
    }
  });
}

// An uncommitted insert holds its conversation and its sender: `delete_sql` ($1 = `key`) waits for
// it, then deletes the new message along with what it deletes.
void expect_delete_waits_and_takes_the_message(const Pair& p, const std::string& delete_sql, const std::string& key) {
  auto inserter = connect_db();
  pqxx::work insert_tx(*inserter);
  insert_tx.exec_params(kInsert, p.room, p.a_id);

  auto deleted = in_background([&](pqxx::work& tx) { tx.exec_params(delete_sql, key); });
  ASSERT_EQ(deleted.wait_for(kHold), std::future_status::timeout) << "the delete did not wait for the insert";
  insert_tx.commit();
  EXPECT_EQ(deleted.get(), "");
  const std::string in_room = "select count(*) from messages where conversation_id = mqchat_conversation_id('";
  EXPECT_EQ(query_value(in_room + p.room + "')"), "0");
  EXPECT_EQ(query_value("select count(*) from messages where sender_id = '" + p.a_id + "'"), "0");
  EXPECT_EQ(orphans(), 0);
}

TEST(MessageReferences, DeleteWaitsForAnUncommittedInsertAndTakesItsMessage) {
  const Pair p = make_pair_with_conversation();
  expect_delete_waits_and_takes_the_message(p, "delete from conversations where room = $1", p.room);
}

TEST(MessageReferences, ProfileDeleteWaitsForAnUncommittedInsertAndTakesItsMessage) {
  const Pair p = make_pair_with_conversation();
  expect_delete_waits_and_takes_the_message(p, "delete from profiles where id = $1", p.a_id);
}

TEST(MessageReferences, InsertWaitsForAnUncommittedDeleteAndFails) {
  const Pair p = make_pair_with_conversation();
  auto deleter = connect_db();
  pqxx::work delete_tx(*deleter);
  delete_tx.exec_params("delete from conversations where room = $1", p.room);

  auto inserted = in_background([&](pqxx::work& tx) { tx.exec_params(kInsert, p.room, p.a_id); });
  ASSERT_EQ(inserted.wait_for(kHold), std::future_status::timeout) << "the insert did not wait for the delete";
  delete_tx.commit();
  const std::string outcome = inserted.get();
  EXPECT_EQ(outcome.rfind("23503", 0), 0u) << outcome;
  EXPECT_NE(outcome.find("messages_conversation_id_fkey"), std::string::npos) << outcome;
  EXPECT_EQ(orphans(), 0);
}

// The lock itself, where no other trigger locks the same row: the sender's profile is held
// FOR KEY SHARE until the insert ends, as a foreign key's check holds it. Another transaction can
// still take FOR KEY SHARE (other senders' inserts) but not FOR UPDATE (a delete).
TEST(MessageReferences, AnUncommittedInsertHoldsItsSenderForKeyShare) {
  const Pair p = make_pair_with_conversation();
  auto inserter = connect_db();
  pqxx::work insert_tx(*inserter);
  insert_tx.exec_params(kInsert, p.room, p.a_id);

  const std::string lock = "select 1 from profiles where id = $1 ";
  EXPECT_EQ(in_background([&](pqxx::work& tx) { tx.exec_params(lock + "for key share nowait", p.a_id); }).get(), "");
  const std::string update = in_background([&](pqxx::work& tx) {
                               tx.exec_params(lock + "for update nowait", p.a_id);
                             }).get();
  EXPECT_EQ(update.rfind("55P03", 0), 0u) << update;
  insert_tx.commit();
  EXPECT_EQ(in_background([&](pqxx::work& tx) { tx.exec_params(lock + "for update nowait", p.a_id); }).get(), "");
}

// A message of the pair's conversation, committed; returns its id.
std::string insert_target(const Pair& p) {
  auto conn = connect_db();
  pqxx::work tx(*conn);
  const std::string id = tx.exec_params1("insert into messages (conversation_id, sender_id, content, origin) "
                                         "values (mqchat_conversation_id($1), $2, 'target', 'mqtt') returning id",
                                         p.room, p.a_id)[0]
                             .as<std::string>();
  tx.commit();
  return id;
}

// Makes a message of the pair's conversation answer `target`, in `tx`; returns the message's id.
// By insert, or by update of a message stored before: an update of reply_to touches no
// conversation counter, so only the target's lock makes it and a delete of the target wait for
// each other (an insert also waits on the conversation's row, which both update).
using Replier = std::function<std::string(pqxx::work&, const Pair&, const std::string& target)>;

std::string reply_by_insert(pqxx::work& tx, const Pair& p, const std::string& target) {
  return tx
      .exec_params1("insert into messages (conversation_id, sender_id, content, origin, reply_to) "
                    "values (mqchat_conversation_id($1), $2, 'racing reply', 'mqtt', $3) returning id",
                    p.room, p.a_id, target)[0]
      .as<std::string>();
}

Replier reply_by_update(const Pair& p) {
  const std::string message = insert_target(p);
  return [message](pqxx::work& tx, const Pair&, const std::string& target) {
    tx.exec_params("update messages set reply_to = $2 where id = $1", message, target);
    return message;
  };
}

long dangling_replies() {
  return std::stol(query_value(
      "select count(*) from messages m where m.reply_to is not null and not exists "
      "(select 1 from messages t where t.id = m.reply_to and t.conversation_id = m.conversation_id)"));
}

// A reply waits for the uncommitted delete of its target, then fails with the key's 23503.
void expect_reply_waits_for_the_delete_and_fails(const Pair& p, const Replier& reply) {
  const std::string target = insert_target(p);
  auto deleter = connect_db();
  pqxx::work delete_tx(*deleter);
  delete_tx.exec_params("delete from messages where id = $1", target);

  auto replied = in_background([&](pqxx::work& tx) { reply(tx, p, target); });
  ASSERT_EQ(replied.wait_for(kHold), std::future_status::timeout) << "the reply did not wait for the delete";
  delete_tx.commit();
  const std::string outcome = replied.get();
  EXPECT_EQ(outcome.rfind("23503", 0), 0u) << outcome;
  EXPECT_NE(outcome.find("messages_reply_same_conversation"), std::string::npos) << outcome;
  EXPECT_EQ(query_value("select count(*) from messages where reply_to = '" + target + "'"), "0");
  EXPECT_EQ(dangling_replies(), 0);
}

// The delete of a target waits for an uncommitted reply to it, then leaves the reply without it.
void expect_delete_waits_for_the_reply_and_nulls_it(const Pair& p, const Replier& reply) {
  const std::string target = insert_target(p);
  auto replier = connect_db();
  pqxx::work reply_tx(*replier);
  const std::string id = reply(reply_tx, p, target);

  auto deleted = in_background([&](pqxx::work& tx) { tx.exec_params("delete from messages where id = $1", target); });
  ASSERT_EQ(deleted.wait_for(kHold), std::future_status::timeout) << "the delete did not wait for the reply";
  reply_tx.commit();
  EXPECT_EQ(deleted.get(), "");
  EXPECT_EQ(query_value("select count(*) from messages where id = '" + target + "'"), "0");
  EXPECT_EQ(query_value("select count(*) || ' ' || count(reply_to) from messages where id = '" + id + "'"), "1 0")
      << "the reply is stored, without its target";
  EXPECT_EQ(dangling_replies(), 0);
}

TEST(MessageReferences, ReplyWaitsForAnUncommittedDeleteOfItsTargetAndFails) {
  const Pair p = make_pair_with_conversation();
  expect_reply_waits_for_the_delete_and_fails(p, reply_by_insert);
}

TEST(MessageReferences, NewTargetWaitsForAnUncommittedDeleteOfItAndFails) {
  const Pair p = make_pair_with_conversation();
  expect_reply_waits_for_the_delete_and_fails(p, reply_by_update(p));
}

TEST(MessageReferences, TargetDeleteWaitsForAnUncommittedReplyAndLeavesItWithoutItsTarget) {
  const Pair p = make_pair_with_conversation();
  expect_delete_waits_for_the_reply_and_nulls_it(p, reply_by_insert);
}

TEST(MessageReferences, TargetDeleteWaitsForAnUncommittedNewTargetAndLeavesItWithoutIt) {
  const Pair p = make_pair_with_conversation();
  expect_delete_waits_for_the_reply_and_nulls_it(p, reply_by_update(p));
}

// The lock itself: a reply holds its target FOR KEY SHARE until its transaction ends, as the key's
// check held it. Others may still take FOR KEY SHARE (other replies) but not FOR UPDATE (a delete).
TEST(MessageReferences, AnUncommittedReplyHoldsItsTargetForKeyShare) {
  const Pair p = make_pair_with_conversation();
  const std::string target = insert_target(p);
  auto replier = connect_db();
  pqxx::work reply_tx(*replier);
  reply_by_insert(reply_tx, p, target);

  const std::string lock = "select 1 from messages where id = $1 ";
  EXPECT_EQ(in_background([&](pqxx::work& tx) { tx.exec_params(lock + "for key share nowait", target); }).get(), "");
  const std::string update = in_background([&](pqxx::work& tx) {
                               tx.exec_params(lock + "for update nowait", target);
                             }).get();
  EXPECT_EQ(update.rfind("55P03", 0), 0u) << update;
  reply_tx.commit();
  EXPECT_EQ(in_background([&](pqxx::work& tx) { tx.exec_params(lock + "for update nowait", target); }).get(), "");
}

}  // namespace
}  // namespace mqchat::test
