#pragma once
// Which of the shipper's connections ships each conversation of a full batch.
//
// A conversation's records must commit in spool order (history pages after an id, replies after
// their targets), so one with records still in flight stays on their connection. The others go,
// largest first, to the connection with the fewest of this batch's records. A hash of the id split
// the 1M-message drain's eight rooms five to three: one connection then shipped 5/8 of every batch
// while the other's backend sat idle ~35 % of the time (pg_stat_activity). Reader thread only,
// under the shipper's lock.
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mqchat {

struct LanePlan {
  std::vector<size_t> lane_of_record;                   // in the batch's order
  std::vector<std::vector<std::string>> conversations;  // per lane: the conversations its part holds
};

class LanePlanner {
 public:
  explicit LanePlanner(size_t lanes) : lanes_(lanes ? lanes : 1) {}

  // Places a full batch, given each record's conversation id. Its conversations are then in flight
  // on their lanes until done() is told of each part.
  LanePlan plan(const std::vector<std::string_view>& conversation_ids);
  // The part on `lane` holding `conversations` (as plan() gave them) is committed, or given up.
  void done(size_t lane, const std::vector<std::string>& conversations);

  size_t in_flight() const { return flying_.size(); }  // conversations with a part in flight

 private:
  struct Flying {
    size_t lane;
    size_t parts;  // parts in flight that hold some of its records
  };
  size_t lanes_;
  std::unordered_map<std::string, Flying> flying_;
};

}  // namespace mqchat
