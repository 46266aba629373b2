#pragma once
// The leader's work: retained conversation summaries and the live fan-out of what was done
// through the SQL API (messages, read receipts, edits, deletions: the mqchat_outbox table). Exactly one bridge instance leads (a Postgres advisory lock held by its
// listening connection); the others wait and take over when the leader's connection goes away.
// A leader whose MQTT link has been down for 2 s steps down (closes that connection), and a
// bridge without a link does not compete: in a cluster, a node whose broker died while its bridge
// lives hands the lead to another node's bridge.
//
// Every change to a room arrives as a NOTIFY on mqchat_rooms (the shipper's batches, receipts,
// edits, deletions, SQL sends); new outbox rows as a NOTIFY on mqchat_outbox. Both participants (a
// group's members: looked up) are marked stale; a user removed from a group by a NOTIFY on mqchat_users; stale users are recomputed
// together, at most once per `summary_delay`, in one set-based query — a burst of 10,000 messages
// costs a handful of recomputations, not 10,000. A user whose summary took long (many
// conversations) waits 39× that long before the next (summary_pacer.h).
#include <atomic>
#include <set>
#include <string>
#include <thread>

#include "bridge/coalescer.h"
#include "bridge/mqtt_link.h"
#include "bridge/options.h"

#include <pqxx/pqxx>

namespace mqchat::bridge {

class SummaryPublisher {
 public:
  SummaryPublisher(const Options& options, MqttLink*& link);
  ~SummaryPublisher();
  void start();
  void stop();  // joins; publishes nothing afterwards

 private:
  void run();
  void lead(pqxx::connection& conn);
  void mark_room(const std::string& room);
  void mark_group_members(pqxx::connection& conn);  // the members of the group rooms marked since
  void mark_everyone(pqxx::connection& conn);
  bool fan_out_outbox(pqxx::connection& conn);  // false when publishing failed (or stopping)
  void publish_due_summaries(pqxx::connection& conn);

  const Options& options_;
  MqttLink*& link_;
  Coalescer stale_;  // users whose summary is due; a costly one is held longer (summary_pacer.h)
  std::set<std::string> stale_groups_;
  bool fanout_due_ = true;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace mqchat::bridge
