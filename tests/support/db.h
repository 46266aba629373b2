#pragma once
// Direct database access for tests: create users, read what was stored.
#include <pqxx/pqxx>
#include <string>

namespace mqchat::test {

std::unique_ptr<pqxx::connection> connect_db();

// A fresh, unique, valid username starting with `prefix` (so tests never share users).
std::string unique_username(const std::string& prefix);

// Creates a profile with a bcrypt password (as `./mqchat user add` does); returns its id.
std::string create_user(const std::string& username, const std::string& password);

// Runs a query that returns a single value (as text; empty for NULL).
std::string query_value(const std::string& sql);

long count_messages_in_room(const std::string& room);

}  // namespace mqchat::test
