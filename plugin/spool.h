#pragma once
// The spool: an append-only log of accepted messages on local disk, so a message is durable
// before the broker acknowledges it, whatever Postgres is doing.
//
// Files: <dir>/<20-digit segment>.spool, each a run of records `u32 length | u32 crc32 | bytes`
// (little endian). <dir>/checkpoint holds the position up to which Postgres has everything.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/config.h"

namespace mqchat {

struct SpoolPosition {
  uint64_t segment = 0;
  uint64_t offset = 0;
  bool operator==(const SpoolPosition& o) const { return segment == o.segment && offset == o.offset; }
  bool operator!=(const SpoolPosition& o) const { return !(*this == o); }
};

constexpr size_t kRecordHeaderBytes = 8;

std::string segment_path(const std::string& dir, uint64_t segment);
std::vector<uint64_t> list_segments(const std::string& dir);  // ascending

// Appends records; used by the broker thread only (append), while end() may be read anywhere.
class SpoolWriter {
 public:
  SpoolWriter(std::string dir, FsyncPolicy policy, uint32_t fsync_interval_ms, uint64_t segment_bytes);
  ~SpoolWriter();
  SpoolWriter(const SpoolWriter&) = delete;
  SpoolWriter& operator=(const SpoolWriter&) = delete;

  // Creates the directory, truncates a torn tail left by a crash, starts a fresh segment and the
  // interval flusher. Throws std::runtime_error with the path on failure.
  void open();
  void close();

  // One write(2) of the framed record (plus fdatasync under `always`). False on an I/O error
  // (the partial record is cut off again, so the file stays well formed).
  bool append(std::string_view record);

  // Everything before this position has been written (is in the page cache at least).
  SpoolPosition end() const;
  const std::string& dir() const { return dir_; }

 private:
  void rotate();
  void flusher_loop();
  void publish_end();

  std::string dir_;
  FsyncPolicy policy_;
  uint32_t fsync_interval_ms_;
  uint64_t segment_bytes_;

  int fd_ = -1;  // written by the broker thread; read by the flusher under fd_mu_
  uint64_t segment_ = 0;
  uint64_t offset_ = 0;
  std::atomic<uint64_t> packed_end_{0};  // segment << 40 | offset
  std::atomic<bool> dirty_{false};

  std::mutex fd_mu_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread flusher_;
};

// Reads records from a position; any thread. Stops at `limit`, and at the end of a segment
// that is not `limit`'s it moves on to the next segment that exists.
class SpoolReader {
 public:
  explicit SpoolReader(std::string dir) : dir_(std::move(dir)) {}
  // Appends up to max_records records to `out` and advances `pos` past them.
  // `corrupt` is set when a damaged record forced a skip to the next segment.
  void read(SpoolPosition& pos, SpoolPosition limit, size_t max_records, std::vector<std::string>& out,
            bool* corrupt = nullptr);

 private:
  std::string dir_;
  std::vector<char> buffer_;
};

// The shipped-up-to position, replaced atomically (write + rename). Missing file → {0, 0}.
SpoolPosition load_checkpoint(const std::string& dir);
void save_checkpoint(const std::string& dir, SpoolPosition pos, bool sync);
// Removes segments wholly before `segment`.
void remove_segments_before(const std::string& dir, uint64_t segment);

}  // namespace mqchat
