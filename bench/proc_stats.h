#pragma once
// CPU time and memory of another process, from /proc/<pid>/stat and /proc/<pid>/status.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
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
