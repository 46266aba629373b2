#include "plugin/lane_planner.h"

#include <algorithm>

namespace mqchat {

LanePlan LanePlanner::plan(const std::vector<std::string_view>& conversation_ids) {
  struct Group {
    std::string_view id;
    size_t records = 0;
    Flying* flying = nullptr;  // its entry in flying_ (elements stay put when the map grows)
  };
  std::vector<Group> groups;  // in order of first appearance: ties go the same way every time
  std::unordered_map<std::string_view, size_t> group_of;
  std::vector<size_t> group_index(conversation_ids.size());
  for (size_t i = 0; i < conversation_ids.size(); ++i) {
    const auto [it, fresh] = group_of.emplace(conversation_ids[i], groups.size());
    if (fresh) groups.push_back(Group{conversation_ids[i]});
    ++groups[it->second].records;
    group_index[i] = it->second;
  }

  // One lookup per conversation: one with parts in flight keeps its lane, the rest are placed.
  std::vector<size_t> load(lanes_, 0);
  std::vector<Group*> free;
  std::string key;  // one buffer for the lookups (C++17 has no heterogeneous find)
  for (auto& g : groups) {
    key.assign(g.id);
    g.flying = &flying_.try_emplace(key, Flying{0, 0}).first->second;
    if (g.flying->parts > 0)
      load[g.flying->lane] += g.records;
    else
      free.push_back(&g);
  }
  std::stable_sort(free.begin(), free.end(), [](const Group* a, const Group* b) { return a->records > b->records; });
  for (Group* g : free) {
    g->flying->lane = size_t(std::min_element(load.begin(), load.end()) - load.begin());
    load[g->flying->lane] += g->records;
  }

  LanePlan out;
  out.conversations.resize(lanes_);
  for (const auto& g : groups) {
    ++g.flying->parts;
    out.conversations[g.flying->lane].emplace_back(g.id);
  }
  out.lane_of_record.resize(conversation_ids.size());
  for (size_t i = 0; i < conversation_ids.size(); ++i) out.lane_of_record[i] = groups[group_index[i]].flying->lane;
  return out;
}

void LanePlanner::done(size_t lane, const std::vector<std::string>& conversations) {
  for (const auto& id : conversations) {
    const auto f = flying_.find(id);
    if (f == flying_.end() || f->second.lane != lane) continue;
    if (--f->second.parts == 0) flying_.erase(f);
  }
}

}  // namespace mqchat
