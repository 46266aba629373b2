// mqchat-bench-history: latency of one 50-message history page, keyset on (conversation_id, id),
// against the table bench/history_data.sql filled. Two kinds of page:
//   latest — the newest page of a conversation picked uniformly among all conversations;
//   deep   — a `before` page at a random depth of a large conversation (the older half of it).
// Cursors are found before timing starts. One JSON document on stdout.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

namespace {

constexpr char kPage[] =
    "select id, sender_id, content, message_type, metadata, client_id, is_edited, edited_at, created_at "
    "from messages where conversation_id = $1 and id < $2 order by id desc limit 50";
constexpr char kNewest[] = "ffffffff-ffff-ffff-ffff-ffffffffffff";

struct Cursor {
  std::string conversation, before;
};

nlohmann::json time_pages(pqxx::connection& c, const std::vector<Cursor>& cursors, int warmup) {
  std::vector<double> ms;
  long rows = 0;
  for (size_t i = 0; i < cursors.size(); ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    pqxx::nontransaction tx(c);
    const auto r = tx.exec_prepared("page", cursors[i].conversation, cursors[i].before);
    const auto t1 = std::chrono::steady_clock::now();
    if (int(i) >= warmup) {
      ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      rows += long(r.size());
    }
  }
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) { return ms.empty() ? 0.0 : ms[std::min(ms.size() - 1, size_t(p * double(ms.size())))]; };
  return {{"queries", ms.size()},  {"mean_rows", ms.empty() ? 0.0 : double(rows) / double(ms.size())},
          {"p50_ms", pct(0.5)},    {"p99_ms", pct(0.99)},
          {"p999_ms", pct(0.999)}, {"max_ms", ms.empty() ? 0.0 : ms.back()}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: mqchat-bench-history DSN QUERIES [SEED]\n";
    return 2;
  }
  const std::string dsn = argv[1];
  const int queries = std::stoi(argv[2]);
  std::mt19937_64 rng(argc > 3 ? std::stoull(argv[3]) : 42);
  try {
    pqxx::connection c(dsn);
    c.prepare("page", kPage);
    pqxx::nontransaction tx0(c);
    const long total = tx0.exec1("select count(*) from messages")[0].as<long>();
    // bench_conv_sizes: (conversation_id, n), made by history_data.sql.
    std::vector<std::pair<std::string, long>> convs;
    for (const auto& row : tx0.exec("select conversation_id::text, n from bench_conv_sizes"))
      convs.emplace_back(row[0].as<std::string>(), row[1].as<long>());
    if (convs.empty()) throw std::runtime_error("no bench_conv_sizes: run bench/history_data.sql first");
    std::sort(convs.begin(), convs.end(), [](auto& a, auto& b) { return a.second > b.second; });

    const int warmup = std::max(20, queries / 10);
    std::vector<Cursor> latest;
    for (int i = 0; i < queries + warmup; ++i)
      latest.push_back({convs[rng() % convs.size()].first, kNewest});

    // Deep pages: the 1% largest conversations (at least 10), with a `before` cursor at a random
    // time in the older half of the data (UUIDv7 ids sort by time, so any time makes a cursor;
    // messages are spread evenly over time, so this lands in the older half of each conversation).
    const auto bounds = tx0.exec1(  // uuid has no min()/max(); the primary key gives both ends at once
        "select (select id::text from messages order by id limit 1), "
        "(select id::text from messages order by id desc limit 1)");
    const std::string min_id = bounds[0].as<std::string>(), max_id = bounds[1].as<std::string>();
    auto ms_of = [](const std::string& uuid) { return std::stoull(uuid.substr(0, 8) + uuid.substr(9, 4), nullptr, 16); };
    const uint64_t t_min = ms_of(min_id), t_mid = t_min + (ms_of(max_id) - t_min) / 2;
    const size_t big = std::max<size_t>(10, convs.size() / 100);
    std::vector<Cursor> deep;
    for (int i = 0; i < queries + warmup; ++i) {
      const uint64_t ms = t_min + rng() % std::max<uint64_t>(1, t_mid - t_min);
      char before[64];
      std::snprintf(before, sizeof before, "%08llx-%04llx-7000-8000-000000000000",
                    static_cast<unsigned long long>(ms >> 16), static_cast<unsigned long long>(ms & 0xffff));
      deep.push_back({convs[rng() % std::min(big, convs.size())].first, before});
    }
    tx0.commit();

    nlohmann::json out = {{"rows", total},
                          {"conversations", convs.size()},
                          {"largest_conversation", convs.front().second},
                          {"median_conversation", convs[convs.size() / 2].second},
                          {"deep_conversations", big},
                          {"query", kPage},
                          {"latest", time_pages(c, latest, warmup)},
                          {"deep", time_pages(c, deep, warmup)}};
    std::cout << out.dump(2) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "mqchat-bench-history: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
