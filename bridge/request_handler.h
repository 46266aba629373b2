#pragma once
// Serves one request against Postgres and says what to publish: the history page, the event for
// the room, or an error for the requester. An edit/read/delete whose message is not stored yet
// (it is still between the broker's spool and Postgres) is reported as NotYetStored, so the
// dispatcher retries it shortly instead of refusing it.
#include <pqxx/pqxx>

#include <vector>

#include "bridge/mqtt_link.h"
#include "bridge/request.h"

namespace mqchat::bridge {

struct Outcome {
  enum class Status { Done, NotYetStored } status = Status::Done;
  std::vector<Publication> publications;
};

Outcome handle_request(const Request& r, pqxx::work& tx);

// The error publication for a refused request (to users/<requester>/errors).
Publication error_publication(const RequestError& e);

// Could `id` be a message that was published moments ago? (UUIDv7 time within `window` of now.)
bool is_recent_message_id(const std::string& id, std::chrono::milliseconds window);

}  // namespace mqchat::bridge
