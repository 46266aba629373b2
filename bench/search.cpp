// mqchat-bench-search: latency of one search page (mqchat_search: the bridge's entry point, 20
// results with headlines, history form) against the table bench/search_data.sql filled. The
// requester is a random participant of a random conversation (so every user, whatever their number
// of conversations); the query is a word of one of three frequencies: common (ranks 1-10, in ~10 %
// of messages each), medium (ranks 100-1,000), rare (ranks 10,000-20,000); plus a two-word query
// and a non-Latin word. One JSON document on stdout.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

namespace {

constexpr char kSearch[] = "select mqchat_search($1, $2, null, null, 20)::text";

nlohmann::json time_queries(pqxx::connection& c, const std::vector<std::pair<std::string, std::string>>& qs,
                            int warmup) {
  std::vector<double> ms;
  long results = 0;
  for (size_t i = 0; i < qs.size(); ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    pqxx::nontransaction tx(c);
    const auto page = nlohmann::json::parse(tx.exec_prepared1("search", qs[i].first, qs[i].second)[0].as<std::string>());
    const auto t1 = std::chrono::steady_clock::now();
    if (static_cast<int>(i) >= warmup) {
      ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      results += static_cast<long>(page["results"].size());
    }
  }
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) { return ms.empty() ? 0.0 : ms[std::min(ms.size() - 1, size_t(p * double(ms.size())))]; };
  return {{"queries", ms.size()}, {"mean_results", ms.empty() ? 0.0 : double(results) / double(ms.size())},
          {"p50_ms", pct(0.5)},   {"p99_ms", pct(0.99)},
          {"max_ms", ms.empty() ? 0.0 : ms.back()}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: mqchat-bench-search DSN QUERIES [SEED]\n";
    return 2;
  }
  const std::string dsn = argv[1];
  const int queries = std::stoi(argv[2]);
  std::mt19937_64 rng(argc > 3 ? std::stoull(argv[3]) : 7);
  try {
    pqxx::connection c(dsn);
    c.prepare("search", kSearch);
    std::vector<std::string> users;
    long total = 0;
    {
      pqxx::nontransaction tx(c);
      // Users by conversation: a user with many conversations is picked more often, like traffic.
      for (const auto& row : tx.exec("select p.username from conversations c join profiles p on p.id = "
                                     "case when random() < 0.5 then c.participant_1 else c.participant_2 end"))
        users.push_back(row[0].as<std::string>());
      total = tx.exec1("select count(*) from messages")[0].as<long>();
    }
    if (users.empty()) throw std::runtime_error("no conversations: run bench/search_data.sql first");
    const int warmup = std::max(10, queries / 20);
    auto word = [&](int lo, int hi) { return "w" + std::to_string(lo + static_cast<int>(rng() % uint64_t(hi - lo + 1))); };
    auto make = [&](auto query) {
      std::vector<std::pair<std::string, std::string>> qs;
      for (int i = 0; i < queries + warmup; ++i) qs.emplace_back(users[rng() % users.size()], query());
      return qs;
    };
    const auto common = make([&] { return word(1, 10); });
    const auto medium = make([&] { return word(100, 1000); });
    const auto rare = make([&] { return word(10000, 20000); });
    const auto two_words = make([&] { return word(1, 100) + " " + word(100, 1000); });
    const auto cyrillic = make([&] { return "привет" + std::to_string(rng() % 1000); });
    nlohmann::json out = {{"rows", total},
                          {"query", kSearch},
                          {"common", time_queries(c, common, warmup)},
                          {"medium", time_queries(c, medium, warmup)},
                          {"rare", time_queries(c, rare, warmup)},
                          {"two_words", time_queries(c, two_words, warmup)},
                          {"cyrillic", time_queries(c, cyrillic, warmup)}};
    std::cout << out.dump(2) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "mqchat-bench-search: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
