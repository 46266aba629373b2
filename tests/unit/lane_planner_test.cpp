#include "plugin/lane_planner.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

namespace mqchat {
namespace {

std::vector<std::string_view> views(const std::vector<std::string>& ids) { return {ids.begin(), ids.end()}; }

// Records per lane, and each conversation's one lane (fails the test if a conversation is split).
std::vector<size_t> loads(const std::vector<std::string>& ids, const LanePlan& plan, size_t lanes,
                          std::map<std::string, size_t>* lane_of = nullptr) {
  std::vector<size_t> load(lanes, 0);
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < ids.size(); ++i) {
    const size_t lane = plan.lane_of_record[i];
    EXPECT_LT(lane, lanes);
    ++load[lane];
    const auto [it, fresh] = seen.emplace(ids[i], lane);
    EXPECT_EQ(it->second, lane) << ids[i] << " split over two lanes";
  }
  if (lane_of) *lane_of = seen;
  return load;
}

// The drain's case: eight rooms, equal records, round robin. A hash split them 5 / 3.
TEST(LanePlanner, EqualConversationsSplitEvenly) {
  for (size_t lanes : {2u, 4u}) {
    LanePlanner planner(lanes);
    std::vector<std::string> ids;
    for (int i = 0; i < 2000; ++i) ids.push_back("room-" + std::to_string(i % 8));
    const auto load = loads(ids, planner.plan(views(ids)), lanes);
    for (size_t l = 0; l < lanes; ++l) EXPECT_EQ(load[l], 2000 / lanes) << lanes << " lanes";
  }
}

TEST(LanePlanner, LargestFirstKeepsUnequalConversationsClose) {
  LanePlanner planner(2);
  std::vector<std::string> ids;
  const std::map<std::string, int> sizes{{"a", 700}, {"b", 500}, {"c", 400}, {"d", 300}, {"e", 100}};
  for (const auto& [id, n] : sizes)
    for (int i = 0; i < n; ++i) ids.push_back(id);
  const auto load = loads(ids, planner.plan(views(ids)), 2);
  EXPECT_EQ(load[0] + load[1], 2000u);
  EXPECT_LE(std::max(load[0], load[1]), 1000u + 100u);  // 700+300 | 500+400+100
}

// Order: a conversation with a part in flight stays on that part's lane, however uneven that
// makes the next batch; once its parts are done it may move.
TEST(LanePlanner, AConversationInFlightStaysOnItsLaneUntilDone) {
  LanePlanner planner(2);
  const std::vector<std::string> first{"a", "a", "b", "b"};
  std::map<std::string, size_t> lane_of;
  const LanePlan p1 = planner.plan(views(first));
  loads(first, p1, 2, &lane_of);
  ASSERT_NE(lane_of["a"], lane_of["b"]);
  EXPECT_EQ(planner.in_flight(), 2u);

  // The next batch is all "a": it goes where "a" is in flight, not to the idle lane.
  const std::vector<std::string> second(6, "a");
  const LanePlan p2 = planner.plan(views(second));
  for (size_t lane : p2.lane_of_record) EXPECT_EQ(lane, lane_of["a"]);

  // "a" is done on its lane for the first part only: still in flight.
  planner.done(lane_of["a"], p1.conversations[lane_of["a"]]);
  const LanePlan p3 = planner.plan(views(std::vector<std::string>{"a", "c", "c", "c"}));
  EXPECT_EQ(p3.lane_of_record[0], lane_of["a"]);
  EXPECT_NE(p3.lane_of_record[1], lane_of["a"]) << "c goes to the lighter lane";

  // Every part done: nothing in flight.
  planner.done(lane_of["b"], p1.conversations[lane_of["b"]]);
  planner.done(lane_of["a"], p2.conversations[lane_of["a"]]);
  for (size_t l = 0; l < 2; ++l) planner.done(l, p3.conversations[l]);
  EXPECT_EQ(planner.in_flight(), 0u);
}

// Each lane's part lists exactly the conversations of its records, each once.
TEST(LanePlanner, EachPartListsItsConversationsOnce) {
  std::mt19937 rng(7);
  LanePlanner planner(3);
  std::vector<LanePlan> flying;
  for (int round = 0; round < 200; ++round) {
    std::vector<std::string> ids;
    std::uniform_int_distribution<int> conv(0, 20);
    for (int i = 0; i < 100; ++i) ids.push_back("c" + std::to_string(conv(rng)));
    std::map<std::string, size_t> lane_of;
    const LanePlan plan = planner.plan(views(ids));
    loads(ids, plan, 3, &lane_of);
    std::map<std::string, size_t> listed;
    for (size_t l = 0; l < 3; ++l)
      for (const auto& c : plan.conversations[l]) {
        EXPECT_EQ(lane_of.at(c), l);
        EXPECT_TRUE(listed.emplace(c, l).second) << c << " listed twice";
      }
    EXPECT_EQ(listed.size(), lane_of.size());
    flying.push_back(plan);
    if (flying.size() > 2) {  // parts complete in order, two batches in flight as in the shipper
      for (size_t l = 0; l < 3; ++l) planner.done(l, flying.front().conversations[l]);
      flying.erase(flying.begin());
    }
  }
  for (const auto& plan : flying)
    for (size_t l = 0; l < 3; ++l) planner.done(l, plan.conversations[l]);
  EXPECT_EQ(planner.in_flight(), 0u);
}

}  // namespace
}  // namespace mqchat
