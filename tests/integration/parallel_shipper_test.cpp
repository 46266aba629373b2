// Issue 14: with a backlog the shipper splits full batches by conversation over shipper.connections
// connections. On real Postgres and a broker of the test's own (sharing the stack's Postgres), with
// row locks of the test's own conversations holding merges back: a backlog goes on four
// connections at once, and nothing is lost or stored twice, every reply keeps its link to a message
// of an earlier batch, each conversation becomes visible in id order, the counts are right, and
// every batch announces its rooms to the bridge once its rows are visible.
#include <future>
#include <map>
#include <thread>

#include "common/pg_listener.h"
#include "tests/integration/fixtures.h"
#include "tests/support/broker.h"
namespace mqchat::test {
namespace {

constexpr int kConnections = 4;
constexpr int kBatch = 10;
constexpr auto kWait = std::chrono::seconds(20);

// FOR NO KEY UPDATE on one conversation, as a merge's trigger takes it, while it lives.
class ConversationLock {
 public:
  explicit ConversationLock(const std::string& conversation_id)
      : conn_(connect_db()), tx_(std::make_unique<pqxx::work>(*conn_)) {
    tx_->exec_params("select from conversations where id = $1 for no key update", conversation_id);
  }

 private:
  std::unique_ptr<pqxx::connection> conn_;
  std::unique_ptr<pqxx::work> tx_;
};

// A conversation between `a` and `b`, made now; its id.
std::string make_conversation(const std::string& a, const std::string& b) {
  return query_value("insert into conversations (participant_1, participant_2) select p.id, q.id from profiles p, "
                     "profiles q where p.username = '" + a + "' and q.username = '" + b + "' returning id");
}

// Waits until `n` backends of `application` wait for a lock; the last count seen.
int wait_for_lock_waiters(const std::string& application, int n) {
  const std::string sql = "select count(*) from pg_stat_activity where application_name = '" + application +
                          "' and wait_event_type = 'Lock'";
  return std::stoi(wait_for_value(sql, std::to_string(n), kWait));
}

struct Room {
  std::string alice, peer, room, conversation_id;
  std::unique_ptr<TestClient> client;  // alice, subscribed to her own room to learn her messages' ids
};

Room make_room(const std::string& tag) {
  const std::string alice = unique_username("ship-" + tag), peer = unique_username("ship-" + tag + "-peer");
  create_user(alice, kPassword);
  create_user(peer, kPassword);
  Room r{alice, peer, "", make_conversation(alice, peer), nullptr};
  r.room = query_value("select room from conversations where id = '" + r.conversation_id + "'");
  return r;
}

// Connects alice to `broker`, whose plugin loads its user directory at start: retried until it knows her.
void connect_alice(const TestBroker& broker, Room& r) {
  ClientOptions o;
  o.uri = broker.uri();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    r.client = std::make_unique<TestClient>(r.alice, kPassword, o);
    if (r.client->try_connect()) return;
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error(r.alice + " cannot log in to the test broker");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// A broker of the test's own whose shipper uses `connections` connections and batches of at most
// `batch_max`, named `application` in pg_stat_activity; each room's alice logged in to it.
std::unique_ptr<TestBroker> start_shipping_broker(std::vector<Room>& rooms, int connections, int batch_max,
                                                  const std::string& application) {
  BrokerSetup setup;
  setup.plugin_opts = {"shipper.connections " + std::to_string(connections),
                       "shipper.batch_max " + std::to_string(batch_max),
                       "database.dsn " + Stack::dsn() + " application_name=" + application};
  auto broker = std::make_unique<TestBroker>(setup);
  for (auto& r : rooms) connect_alice(*broker, r);
  return broker;
}

// Publishes `payload` as alice in `r` and returns the id the plugin gave it (from its delivery).
std::string send(Room& r, const std::string& payload) {
  EXPECT_EQ(r.client->publish(messages_topic(r.room), payload), 0);
  const auto got = r.client->wait_message(messages_topic(r.room));
  if (!got) throw std::runtime_error("no delivery of a message in " + r.room);
  return nlohmann::json::parse(got->payload)["id"].get<std::string>();
}

class ParallelShipper : public StackTest {};

TEST_F(ParallelShipper, ABacklogGoesOnEveryConnectionAndKeepsOrderRepliesAndCounts) {
  const std::string application = "mqchat-parallel-" + random_hex();
  // rooms[0] holds the first batch back; then one room per connection, for the backlog: rooms with
  // (nearly) equal records go one to each connection (lane_planner.h).
  std::vector<Room> rooms;
  rooms.push_back(make_room("first"));
  while (rooms.size() < 1 + kConnections) rooms.push_back(make_room("lane"));
  const auto broker = start_shipping_broker(rooms, kConnections, kBatch, application);
  for (auto& r : rooms) ASSERT_EQ(r.client->subscribe(messages_topic(r.room)), 1);

  // A first, part batch waits in its merge for the lock on rooms[0]; the shipper waits for it.
  auto hold_first = std::make_unique<ConversationLock>(rooms[0].conversation_id);
  send(rooms[0], R"({"content":"first"})");
  ASSERT_EQ(wait_for_lock_waiters(application, 1), 1);

  // Behind it, a backlog of full batches over the other rooms in turn; every third message
  // replies to a message two turns before it in the same room (often in an earlier batch). A reply
  // is delivered by the bridge once stored, and this broker has none: it is found by its client_id.
  const size_t backlog_rooms = rooms.size() - 1;
  std::vector<std::pair<std::string, std::string>> replies;  // client_id, target id
  std::vector<std::vector<std::string>> targets(rooms.size());
  std::vector<size_t> sent(rooms.size(), 0);
  sent[0] = 1;
  for (size_t i = 0; i < 4 * kConnections * kBatch; ++i) {
    const size_t k = 1 + i % backlog_rooms;
    auto& mine = targets[k];
    ++sent[k];
    if (mine.size() >= 2 && i % 3 == 0) {
      const std::string client_id = "reply-" + random_hex();
      replies.emplace_back(client_id, mine[mine.size() - 2]);
      ASSERT_EQ(rooms[k].client->publish(messages_topic(rooms[k].room),
                                         nlohmann::json{{"content", "reply " + std::to_string(i)},
                                                        {"reply_to", replies.back().second},
                                                        {"client_id", client_id}}
                                             .dump()),
                0);
    } else {
      mine.push_back(send(rooms[k], nlohmann::json{{"content", "backlog " + std::to_string(i)}}.dump()));
    }
  }
  ASSERT_FALSE(replies.empty());

  // Let the first batch through while every backlog room is held: the next batch's parts go on
  // all the connections at once, each waiting in its merge for its own room.
  std::vector<std::unique_ptr<ConversationLock>> hold_backlog;
  for (size_t k = 1; k < rooms.size(); ++k) hold_backlog.push_back(std::make_unique<ConversationLock>(rooms[k].conversation_id));
  hold_first.reset();
  EXPECT_EQ(wait_for_lock_waiters(application, kConnections), kConnections)
      << "the backlog's parts were not in flight together";
  hold_backlog.clear();

  size_t total = 0;
  std::vector<std::string> conversations;
  for (size_t k = 0; k < rooms.size(); ++k) total += sent[k], conversations.push_back(rooms[k].conversation_id);
  const std::string list = sql_array(conversations, "uuid");
  EXPECT_EQ(wait_for_value("select count(*) from messages where conversation_id = any(" + list + ")",
                           std::to_string(total), kWait),
            std::to_string(total));
  for (const auto& [client_id, target] : replies)
    EXPECT_EQ(query_value("select reply_to from messages where client_id = '" + client_id + "'"), target)
        << "a reply lost its link to its target";
  for (size_t k = 0; k < rooms.size(); ++k) {  // nothing read yet: every message of alice's is unread for her peer
    const std::string c = "'" + rooms[k].conversation_id + "'";
    EXPECT_EQ(query_value("select count(*) from messages where conversation_id = " + c), std::to_string(sent[k]));
    EXPECT_EQ(query_value("select case when participant_1 = (select id from profiles where username = '" +
                          rooms[k].alice + "') then unread_2 else unread_1 end from conversations where id = " + c),
              std::to_string(sent[k]));
    EXPECT_EQ(query_value("select last_message_id from conversations where id = " + c),
              query_value("select max(id::text collate \"C\") from messages where conversation_id = " + c));
  }
}

TEST_F(ParallelShipper, EachConversationBecomesVisibleInIdOrder) {
  // A reader paging a room "after the last id it saw" must never skip a row: per conversation, no
  // row may commit after a row with a higher id. xmin is the committing transaction of each row:
  // along a conversation's ids it never goes down when its batches committed in order.
  const std::string application = "mqchat-order-" + random_hex();
  std::vector<Room> rooms;
  for (int i = 0; i < 6; ++i) rooms.push_back(make_room("order"));
  const auto broker = start_shipping_broker(rooms, 3, 7, application);
  // Held back by a lock on the first room, so that the rest piles up into full batches.
  auto hold = std::make_unique<ConversationLock>(rooms[0].conversation_id);
  std::vector<std::string> conversations;
  for (const auto& r : rooms) conversations.push_back(r.conversation_id);
  constexpr int kPerRoom = 40;
  for (int i = 0; i < kPerRoom; ++i)
    for (auto& r : rooms)
      ASSERT_EQ(r.client->publish(messages_topic(r.room), R"({"content":"ordered )" + std::to_string(i) + "\"}"), 0);
  hold.reset();
  const std::string list = sql_array(conversations, "uuid");
  ASSERT_EQ(wait_for_value("select count(*) from messages where conversation_id = any(" + list + ")",
                           std::to_string(kPerRoom * rooms.size()), kWait),
            std::to_string(kPerRoom * rooms.size()));
  EXPECT_EQ(query_value("select count(*) from (select xmin::text::bigint < lag(xmin::text::bigint) over "
                        "(partition by conversation_id order by id) as back from messages "
                        "where conversation_id = any(" + list + ")) x where back"),
            "0")
      << "a conversation's row committed after a row of it with a higher id";
  EXPECT_GT(std::stoi(query_value("select count(distinct xmin::text) from messages where conversation_id = any(" + list +
                                  ")")),
            3)
      << "the rows did not go in several transactions";
}

// Every batch announces its rooms on mqchat_rooms, which the bridge's summaries follow, and the
// announcement arrives when the batch's rows are visible (the merge NOTIFYs in its transaction).
TEST_F(ParallelShipper, EveryBatchAnnouncesItsRoomsOnceItsRowsAreVisible) {
  const std::string application = "mqchat-announce-" + random_hex();
  std::vector<Room> rooms;
  for (int i = 0; i < 3; ++i) rooms.push_back(make_room("announce"));
  const auto broker = start_shipping_broker(rooms, 2, 5, application);

  const auto listening = connect_db();
  const auto reading = connect_db();
  std::map<std::string, int> visible_when_announced;  // room -> its rows seen at its latest announcement
  PgListener listener(*listening, "mqchat_rooms", [&](const std::string& room) {
    const auto r = std::find_if(rooms.begin(), rooms.end(), [&](const Room& x) { return x.room == room; });
    if (r == rooms.end()) return;  // another test's, or the stack's own traffic
    pqxx::read_transaction tx(*reading);
    visible_when_announced[room] =
        tx.exec_params1("select count(*) from messages where conversation_id = $1", r->conversation_id)[0].as<int>();
  });

  // Held back behind a lock on the first room, so that full batches with parts on both connections
  // pile up, then a last part batch.
  auto hold = std::make_unique<ConversationLock>(rooms[0].conversation_id);
  constexpr int kPerRoom = 12;
  for (int i = 0; i < kPerRoom; ++i)
    for (auto& r : rooms)
      ASSERT_EQ(r.client->publish(messages_topic(r.room), R"({"content":"announced )" + std::to_string(i) + "\"}"), 0);
  hold.reset();

  const auto deadline = std::chrono::steady_clock::now() + kWait;
  const auto all_announced = [&] {
    for (const auto& r : rooms)
      if (visible_when_announced[r.room] != kPerRoom) return false;
    return true;
  };
  while (!all_announced() && std::chrono::steady_clock::now() < deadline) listening->await_notification(0, 100000);
  for (const auto& r : rooms)
    EXPECT_EQ(visible_when_announced[r.room], kPerRoom)
        << r.room << ": its last batch was not announced, or announced before its rows were visible";
}

}  // namespace
}  // namespace mqchat::test
