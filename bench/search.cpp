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

using Queries = std::vector<std::pair<std::string, std::string>>;  // (requester, query)

// Times every kind's queries round robin (one of each kind in turn), so that all kinds see the same
// conditions: a new connection's first queries are slower (its backend touches shared buffers for
// the first time), and whichever kind ran first used to pay for that alone. The first `warmup` of
// each kind are not counted.
nlohmann::json time_queries(pqxx::connection& c, const std::vector<std::pair<std::string, Queries>>& kinds,
                            int warmup) {
  std::vector<std::vector<double>> ms(kinds.size());
  std::vector<long> results(kinds.size(), 0);
  const size_t n = kinds.empty() ? 0 : kinds.front().second.size();
  for (size_t i = 0; i < n; ++i) {
    for (size_t k = 0; k < kinds.size(); ++k) {
      const auto& q = kinds[k].second[i];
      const auto t0 = std::chrono::steady_clock::now();
      pqxx::nontransaction tx(c);
      const auto page = nlohmann::json::parse(tx.exec_prepared1("search", q.first, q.second)[0].as<std::string>());
      const auto t1 = std::chrono::steady_clock::now();
      if (static_cast<int>(i) >= warmup) {
        ms[k].push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        results[k] += static_cast<long>(page["results"].size());
      }
    }
  }
  nlohmann::json out = nlohmann::json::object();
  for (size_t k = 0; k < kinds.size(); ++k) {
    auto& v = ms[k];
    std::sort(v.begin(), v.end());
    auto pct = [&](double p) { return v.empty() ? 0.0 : v[std::min(v.size() - 1, size_t(p * double(v.size())))]; };
    out[kinds[k].first] = {{"queries", v.size()},
                           {"mean_results", v.empty() ? 0.0 : double(results[k]) / double(v.size())},
                           {"p50_ms", pct(0.5)},
                           {"p99_ms", pct(0.99)},
                           {"max_ms", v.empty() ? 0.0 : v.back()}};
  }
  return out;
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
      Queries qs;
      for (int i = 0; i < queries + warmup; ++i) qs.emplace_back(users[rng() % users.size()], query());
      return qs;
    };
    const auto common = make([&] { return word(1, 10); });
    const auto medium = make([&] { return word(100, 1000); });
    const auto rare = make([&] { return word(10000, 20000); });
    const auto two_words = make([&] { return word(1, 100) + " " + word(100, 1000); });
    const auto cyrillic = make([&] { return "привет" + std::to_string(rng() % 1000); });
    nlohmann::json out = time_queries(c, {{"common", common}, {"medium", medium}, {"rare", rare},
                                          {"two_words", two_words}, {"cyrillic", cyrillic}}, warmup);
    out["rows"] = total;
    out["query"] = kSearch;
    out["order"] = "round robin over the kinds";
    std::cout << out.dump(2) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "mqchat-bench-search: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
