#pragma once
// A participant of a room for the bridge's integration tests: a real MQTT client listening to the
// room and to its own users/<me>/#, with helpers for requests, events and the retained summary.
#include <functional>

#include "tests/integration/fixtures.h"

namespace mqchat::test {

using nlohmann::json;
using namespace std::chrono_literals;

inline std::string topic(const std::string& room, const std::string& channel) { return "chat/" + room + "/" + channel; }

// A participant connected and listening to the room and to users/<me>/#.
struct Person {
  Person(const std::string& name, const std::string& room) : client(name, kPassword), room(room) {
    client.connect();
    EXPECT_LT(client.subscribe("chat/" + room + "/#"), 0x80);
    EXPECT_LT(client.subscribe("users/" + name + "/#"), 0x80);
  }
  // Sends and returns the stored message (from the echo) once it is in Postgres.
  json send(const std::string& text) {
    EXPECT_EQ(client.publish(topic(room, "messages"), text), 0);
    auto echo = client.wait_message(topic(room, "messages"));
    EXPECT_TRUE(echo);
    if (!echo) return json();
    json m = json::parse(echo->payload);
    wait_for_value("select count(*) from messages where id = '" + m["id"].get<std::string>() + "'", "1", 5s);
    return m;
  }
  json request(const std::string& channel, json body, const std::string& reply_leaf) {
    if (body.is_null()) body = json::object();  // `{}` in a call makes a JSON null
    EXPECT_EQ(client.publish(topic(room, channel), body.dump()), 0);
    auto reply = client.wait_message("users/" + client.username() + "/" + reply_leaf, 5s);
    EXPECT_TRUE(reply) << "no reply on users/" << client.username() << "/" << reply_leaf << " to " << body;
    return reply ? json::parse(reply->payload) : json();
  }
  json history(json body) { return request("history", std::move(body), "history"); }
  json event(std::chrono::milliseconds timeout = 5s) {
    auto e = client.wait_message(topic(room, "events"), timeout);
    return e ? json::parse(e->payload) : json();
  }
  // The latest retained summary that satisfies `ok`, waiting up to `timeout`.
  json summary_where(const std::function<bool(const json&)>& ok, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    json last;
    while (std::chrono::steady_clock::now() < deadline) {
      auto s = client.wait_message("users/" + client.username() + "/conversations", 200ms);
      if (!s) continue;
      last = json::parse(s->payload);
      if (ok(last)) return last;
    }
    return last;
  }
  TestClient client;
  std::string room;
};

inline json find_room(const json& summary, const std::string& room) {
  for (const auto& c : summary)
    if (c["room"] == room) return c;
  return json();
}


// SQL as a web backend runs it: role mqchat_app, acting as a user with the token that user's
// sign-in produced. Each call is one committed transaction (what the bridge sees once committed).
class AppSession {
 public:
  AppSession(const std::string& user, const std::string& password) : conn_(connect_db()) {
    pqxx::work tx(*conn_);
    tx.exec("set local role mqchat_app");
    token_ = tx.exec_params1("select mqchat_sign_in($1, $2)", user, password)[0].as<std::string>();
    tx.commit();
  }
  // The first column of the first row, as text ("" for NULL); throws what Postgres raised.
  template <typename... Args>
  std::string value(const std::string& sql, Args&&... args) {
    pqxx::work tx(*conn_);
    tx.exec("set local role mqchat_app");
    tx.exec_params("select set_config('mqchat.token', $1, true)", token_);
    const pqxx::row row = tx.exec_params1(sql, std::forward<Args>(args)...);
    tx.commit();
    return row[0].is_null() ? "" : row[0].as<std::string>();
  }
  template <typename... Args>
  json json_value(const std::string& sql, Args&&... args) {
    return json::parse(value(sql, std::forward<Args>(args)...));
  }

 private:
  std::unique_ptr<pqxx::connection> conn_;
  std::string token_;
};

}  // namespace mqchat::test
