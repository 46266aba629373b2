#pragma once
// CPU time and memory of another process, from /proc/<pid>/stat and /proc/<pid>/status.
#include <unistd.h>

#include <dirent.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <vector>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

namespace bench {

// utime + stime in clock ticks; -1 when the process is gone.
inline long long cpu_ticks(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto close = s.rfind(')');  // the command name may contain spaces
  if (close == std::string::npos) return -1;
  std::istringstream rest(s.substr(close + 2));
  std::string field;
  long long utime = 0, stime = 0;
  // Fields after the name start at 3 (state); utime and stime are fields 14 and 15.
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoll(field);
    if (i == 15) stime = std::stoll(field);
  }
  return utime + stime;
}

// A "VmRSS:" / "VmHWM:" line of /proc/<pid>/status in kB; -1 when absent.
inline long status_kb(int pid, const std::string& key) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::stol(line.substr(key.size() + 1));
  }
  return -1;
}

// The numeric fields after the command name of a /proc/.../stat line, starting at field 3 (state
// is skipped as 0); empty when the task is gone.
inline std::vector<long long> stat_fields(const std::string& path) {
  std::ifstream f(path);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto close = s.rfind(')');  // the command name may contain spaces
  std::vector<long long> out;
  if (close == std::string::npos) return out;
  std::istringstream rest(s.substr(close + 2));
  std::string field;
  for (int i = 3; rest >> field; ++i) out.push_back(i == 3 ? 0 : std::atoll(field.c_str()));
  return out;
}
// Index into stat_fields() of stat field N (1-based as in proc(5)).
constexpr size_t kField(int n) { return size_t(n - 3); }

inline std::vector<int> numeric_entries(const std::string& dir) {
  std::vector<int> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] >= '0' && e->d_name[0] <= '9') out.push_back(std::atoi(e->d_name));
    closedir(d);
  }
  return out;
}

// CPU ticks of one component of the deployment, for "CPU µs per message":
//   main:PID    the process's main thread alone (the broker thread)
//   others:PID  every other thread of the process (the plugin's shipper, directory, ...)
//   tree:PID    the process and all its descendants, including those that exited during the run
//               (reaped children's time is in cutime/cstime), e.g. the postmaster and its backends
// `exclude` names processes whose time is not the component's (the load generator's own backend).
inline long long component_ticks(const std::string& kind, int pid, const std::set<int>& exclude = {}) {
  const std::string proc = "/proc/" + std::to_string(pid);
  auto own = [](const std::vector<long long>& f) {
    return f.size() > kField(15) ? f[kField(14)] + f[kField(15)] : 0LL;
  };
  if (kind == "main") {
    const auto f = stat_fields(proc + "/task/" + std::to_string(pid) + "/stat");
    return f.empty() ? -1 : own(f);
  }
  if (kind == "others") {
    long long sum = 0;
    for (int tid : numeric_entries(proc + "/task"))
      if (tid != pid) sum += own(stat_fields(proc + "/task/" + std::to_string(tid) + "/stat"));
    return sum;
  }
  if (kind == "tree") {
    // parent -> children over all of /proc, then a walk from pid.
    std::multimap<int, std::pair<int, std::vector<long long>>> children;
    std::vector<long long> root;
    for (int p : numeric_entries("/proc")) {
      auto f = stat_fields("/proc/" + std::to_string(p) + "/stat");
      if (f.size() <= kField(17)) continue;
      if (p == pid) root = f;
      const int ppid = int(f[kField(4)]);
      children.emplace(ppid, std::make_pair(p, std::move(f)));
    }
    if (root.empty()) return -1;
    auto with_reaped = [&](const std::vector<long long>& f) { return own(f) + f[kField(16)] + f[kField(17)]; };
    long long sum = with_reaped(root);
    std::vector<int> todo{pid};
    while (!todo.empty()) {
      const int parent = todo.back();
      todo.pop_back();
      const auto range = children.equal_range(parent);
      for (auto it = range.first; it != range.second; ++it) {
        todo.push_back(it->second.first);
        if (!exclude.count(it->second.first)) sum += with_reaped(it->second.second);
      }
    }
    return sum;
  }
  return -1;
}

class CpuAccount {
 public:
  // spec: NAME=KIND:PID, KIND one of main | others | tree (see component_ticks)
  static CpuAccount parse(const std::string& spec) {
    const auto eq = spec.find('='), colon = spec.find(':', eq == std::string::npos ? 0 : eq);
    if (eq == std::string::npos || colon == std::string::npos) throw std::invalid_argument(spec);
    CpuAccount a;
    a.name = spec.substr(0, eq);
    a.kind_ = spec.substr(eq + 1, colon - eq - 1);
    a.pid_ = std::stoi(spec.substr(colon + 1));
    if (a.kind_ != "main" && a.kind_ != "others" && a.kind_ != "tree") throw std::invalid_argument(spec);
    return a;
  }
  // The calling process itself, all its threads, to the nanosecond: a short run of the load
  // generator can take less than one of /proc's 10 ms ticks.
  static CpuAccount this_process(const std::string& name) {
    CpuAccount a;
    a.name = name;
    a.kind_ = "self";
    a.pid_ = int(::getpid());
    return a;
  }
  void exclude(int pid) { exclude_.insert(pid); }
  void mark_start() { start_ = cpu_seconds(); }
  void mark_end() { end_ = cpu_seconds(); }
  nlohmann::json report(uint64_t messages) const {
    const bool ok = start_ >= 0 && end_ >= 0;
    const double cpu_s = ok ? end_ - start_ : -1;
    return {{"kind", kind_}, {"pid", pid_}, {"cpu_s", cpu_s},
            {"us_per_message", ok && messages ? cpu_s * 1e6 / double(messages) : -1}};
  }
  std::string name;

 private:
  double cpu_seconds() const {  // -1 when the component is gone
    if (kind_ == "self") {
      timespec t{};
      return clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t) == 0 ? double(t.tv_sec) + double(t.tv_nsec) * 1e-9 : -1;
    }
    const long long ticks = component_ticks(kind_, pid_, exclude_);
    return ticks < 0 ? -1 : double(ticks) / double(sysconf(_SC_CLK_TCK));
  }

  std::string kind_;
  int pid_ = 0;
  std::set<int> exclude_;
  double start_ = -1, end_ = -1;
};

class ProcWatch {
 public:
  ProcWatch(std::string name, int pid) : name(std::move(name)), pid_(pid) {}

  void mark_start() {
    start_ticks_ = cpu_ticks(pid_);
    rss_start_kb_ = status_kb(pid_, "VmRSS");
  }
  void mark_end() {
    end_ticks_ = cpu_ticks(pid_);
    rss_end_kb_ = status_kb(pid_, "VmRSS");
    hwm_kb_ = status_kb(pid_, "VmHWM");
  }
  long sample_rss_kb() {
    const long kb = status_kb(pid_, "VmRSS");
    rss_max_kb_ = std::max(rss_max_kb_, kb);
    return kb;
  }
  nlohmann::json report(double window_s) const {
    const double hz = double(sysconf(_SC_CLK_TCK));
    const double cpu_s = (end_ticks_ >= 0 && start_ticks_ >= 0) ? double(end_ticks_ - start_ticks_) / hz : -1;
    return {{"pid", pid_},
            {"cpu_pct", cpu_s >= 0 ? 100.0 * cpu_s / window_s : -1},
            {"rss_start_kb", rss_start_kb_},
            {"rss_end_kb", rss_end_kb_},
            {"rss_max_sampled_kb", rss_max_kb_},
            {"hwm_kb", hwm_kb_}};
  }

  std::string name;

 private:
  int pid_;
  long long start_ticks_ = -1, end_ticks_ = -1;
  long rss_start_kb_ = -1, rss_end_kb_ = -1, rss_max_kb_ = -1, hwm_kb_ = -1;
};

}  // namespace bench
