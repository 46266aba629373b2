#include "plugin/spool.h"

#include "common/crc32c.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>

#include "plugin/metrics.h"
#include "plugin/thread_name.h"

namespace mqchat {

namespace fs = std::filesystem;

namespace {

constexpr uint32_t kMaxRecordBytes = 64u << 20;  // anything bigger is damage, not data
// A record's first word is its length; this bit set says its checksum is CRC-32C. Records
// without it (spools written before CRC-32C) carry zlib's CRC-32 and are still read.
constexpr uint32_t kCrc32cFlag = 1u << 31;

void put_u32(char* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(v >> (8 * i));
}

uint32_t get_u32(const char* in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<unsigned char>(in[i])} << (8 * i);
  return v;
}

// The length of the record whose header is at `header`, or nullopt if it cannot be one.
std::optional<uint32_t> record_length(const char* header) {
  const uint32_t len = get_u32(header) & ~kCrc32cFlag;
  if (len > kMaxRecordBytes) return std::nullopt;
  return len;
}

bool record_intact(const char* header, const char* body, uint32_t len) {
  const uint32_t sum = (get_u32(header) & kCrc32cFlag)
                           ? crc32c(body, len)
                           : static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(body), len));
  return sum == get_u32(header + 4);
}

std::runtime_error io_error(const std::string& what, const std::string& path) {
  return std::runtime_error(what + " '" + path + "': " + std::strerror(errno));
}

void sync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// Length of the well-formed prefix of a segment: where a crash may have cut a record short.
uint64_t valid_prefix(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  uint64_t off = 0;
  while (off + kRecordHeaderBytes <= data.size()) {
    const auto len = record_length(&data[off]);
    if (!len || off + kRecordHeaderBytes + *len > data.size()) break;
    if (!record_intact(&data[off], &data[off + kRecordHeaderBytes], *len)) break;
    off += kRecordHeaderBytes + *len;
  }
  return off;
}

}  // namespace

std::string segment_path(const std::string& dir, uint64_t segment) {
  char name[32];
  std::snprintf(name, sizeof name, "%020" PRIu64 ".spool", segment);
  return dir + "/" + name;
}

std::vector<uint64_t> list_segments(const std::string& dir) {
  std::vector<uint64_t> segments;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() != 26 || name.substr(20) != ".spool") continue;
    if (!std::all_of(name.begin(), name.begin() + 20, ::isdigit)) continue;
    segments.push_back(std::stoull(name.substr(0, 20)));
  }
  std::sort(segments.begin(), segments.end());
  return segments;
}

SpoolWriter::SpoolWriter(std::string dir, FsyncPolicy policy, uint32_t fsync_interval_ms, uint64_t segment_bytes)
    : dir_(std::move(dir)), policy_(policy), fsync_interval_ms_(fsync_interval_ms), segment_bytes_(segment_bytes) {}

SpoolWriter::~SpoolWriter() { close(); }

void SpoolWriter::open() {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw std::runtime_error("cannot create spool directory '" + dir_ + "': " + ec.message());
  const auto segments = list_segments(dir_);
  if (!segments.empty()) {
    const std::string last = segment_path(dir_, segments.back());
    const uint64_t good = valid_prefix(last);
    if (good != fs::file_size(last) && ::truncate(last.c_str(), static_cast<off_t>(good)) != 0)
      throw io_error("cannot truncate torn spool tail of", last);
  }
  uint64_t bytes = 0;
  for (const uint64_t s : segments) bytes += fs::file_size(segment_path(dir_, s), ec);
  plugin_metrics.spool_bytes.set(int64_t(bytes));
  plugin_metrics.spool_segments.set(int64_t(segments.size()));
  // Always start a fresh segment: the old ones are sealed and only read from now on.
  segment_ = segments.empty() ? 1 : segments.back() + 1;
  rotate();
  if (policy_ == FsyncPolicy::Interval) flusher_ = std::thread([this] { flusher_loop(); });
}

void SpoolWriter::close() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  std::lock_guard<std::mutex> lock(fd_mu_);
  if (fd_ >= 0) {
    if (policy_ != FsyncPolicy::Never) ::fdatasync(fd_);
    ::close(fd_);
    fd_ = -1;
  }
}

void SpoolWriter::rotate() {
  const std::string path = segment_path(dir_, fd_ >= 0 ? segment_ + 1 : segment_);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) throw io_error("cannot create spool segment", path);
  plugin_metrics.spool_segments.add(1);
  if (policy_ != FsyncPolicy::Never) sync_directory(dir_);
  {
    std::lock_guard<std::mutex> lock(fd_mu_);
    if (fd_ >= 0) {
      if (policy_ != FsyncPolicy::Never) ::fdatasync(fd_);
      ::close(fd_);
      ++segment_;
    }
    fd_ = fd;
  }
  offset_ = 0;
  publish_end();
}

bool SpoolWriter::append(std::string_view record) {
  if (fd_ < 0) return false;
  if (offset_ >= segment_bytes_) {
    try {
      rotate();
    } catch (const std::exception&) {
      return false;  // keep writing to the current segment is not possible either: refuse
    }
  }
  if (record.size() > kMaxRecordBytes) return false;
  char header[kRecordHeaderBytes];
  put_u32(header, static_cast<uint32_t>(record.size()) | kCrc32cFlag);
  put_u32(header + 4, crc32c(record.data(), record.size()));
  iovec parts[2] = {{header, sizeof header}, {const_cast<char*>(record.data()), record.size()}};
  const size_t total = sizeof header + record.size();
  const ssize_t n = ::writev(fd_, parts, 2);
  if (n != static_cast<ssize_t>(total)) {
    if (n > 0 && ::ftruncate(fd_, static_cast<off_t>(offset_)) != 0) {
      // The torn record fails its CRC and is cut off on the next start.
    }
    plugin_metrics.spool_write_errors.inc();
    return false;
  }
  plugin_metrics.spool_bytes.add(int64_t(total));
  if (policy_ == FsyncPolicy::Always && ::fdatasync(fd_) != 0) {
    plugin_metrics.spool_write_errors.inc();
    return false;
  }
  offset_ += total;
  dirty_.store(true, std::memory_order_relaxed);
  publish_end();
  return true;
}

void SpoolWriter::publish_end() { packed_end_.store(segment_ << 40 | offset_, std::memory_order_release); }

SpoolPosition SpoolWriter::end() const {
  const uint64_t packed = packed_end_.load(std::memory_order_acquire);
  return SpoolPosition{packed >> 40, packed & ((uint64_t{1} << 40) - 1)};
}

void SpoolWriter::flusher_loop() {
  name_this_thread("mqchat-fsync");
  std::unique_lock<std::mutex> stop_lock(stop_mu_);
  while (!stop_cv_.wait_for(stop_lock, std::chrono::milliseconds(fsync_interval_ms_), [this] { return stopping_; })) {
    if (!dirty_.exchange(false, std::memory_order_relaxed)) continue;
    std::lock_guard<std::mutex> lock(fd_mu_);
    if (fd_ >= 0) ::fdatasync(fd_);
  }
}

void SpoolReader::read(SpoolPosition& pos, SpoolPosition limit, size_t max_records, std::vector<std::string>& out,
                       bool* corrupt) {
  size_t taken = 0;
  while (taken < max_records && (pos.segment < limit.segment ||
                                 (pos.segment == limit.segment && pos.offset < limit.offset))) {
    const std::string path = segment_path(dir_, pos.segment);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {  // shipped and removed, or never existed: go to the next segment there is
      const auto segments = list_segments(dir_);
      const auto next = std::upper_bound(segments.begin(), segments.end(), pos.segment);
      if (next == segments.end() || *next > limit.segment) return;
      pos = SpoolPosition{*next, 0};
      continue;
    }
    struct stat st{};
    ::fstat(fd, &st);
    const uint64_t end = pos.segment == limit.segment ? std::min<uint64_t>(limit.offset, st.st_size)
                                                      : static_cast<uint64_t>(st.st_size);
    bool damaged = false;
    size_t chunk = 4u << 20;
    while (taken < max_records && pos.offset < end) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(end - pos.offset, chunk));
      buffer_.resize(std::max(buffer_.size(), want));
      const ssize_t got = ::pread(fd, buffer_.data(), want, static_cast<off_t>(pos.offset));
      if (got <= 0) break;
      size_t off = 0;
      bool grow = false;
      while (taken < max_records && off + kRecordHeaderBytes <= static_cast<size_t>(got)) {
        const auto header_len = record_length(&buffer_[off]);
        if (!header_len) {
          damaged = true;
          break;
        }
        const uint32_t len = *header_len;
        if (off + kRecordHeaderBytes + len > static_cast<size_t>(got)) {
          if (pos.offset + off + kRecordHeaderBytes + len > end) damaged = pos.segment < limit.segment;
          else if (off == 0) grow = true;  // a record bigger than the chunk: read it whole next
          chunk = std::max<size_t>(chunk, kRecordHeaderBytes + len);
          break;
        }
        const char* body = &buffer_[off + kRecordHeaderBytes];
        if (!record_intact(&buffer_[off], body, len)) {
          damaged = true;
          break;
        }
        out.emplace_back(body, len);
        ++taken;
        off += kRecordHeaderBytes + len;
      }
      pos.offset += off;
      if (damaged || (off == 0 && !grow)) break;
    }
    ::close(fd);
    if (damaged) {
      if (corrupt) *corrupt = true;
      if (pos.segment == limit.segment) return;  // cannot skip past the live segment
      pos = SpoolPosition{pos.segment + 1, 0};
      continue;
    }
    if (pos.offset >= end && pos.segment < limit.segment) {
      pos = SpoolPosition{pos.segment + 1, 0};
      continue;
    }
    return;
  }
}

SpoolPosition load_checkpoint(const std::string& dir) {
  std::ifstream in(dir + "/checkpoint");
  SpoolPosition pos;
  if (!(in >> pos.segment >> pos.offset)) return SpoolPosition{};
  return pos;
}

void save_checkpoint(const std::string& dir, SpoolPosition pos, bool sync) {
  const std::string tmp = dir + "/checkpoint.tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) throw io_error("cannot write", tmp);
  const std::string text = std::to_string(pos.segment) + " " + std::to_string(pos.offset) + "\n";
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  (!sync || ::fdatasync(fd) == 0);
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), (dir + "/checkpoint").c_str()) != 0) throw io_error("cannot write", tmp);
}

void remove_segments_before(const std::string& dir, uint64_t segment) {
  for (uint64_t s : list_segments(dir)) {
    if (s >= segment) break;
    const std::string path = segment_path(dir, s);
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (::unlink(path.c_str()) != 0) continue;
    plugin_metrics.spool_bytes.add(-int64_t(ec ? 0 : size));
    plugin_metrics.spool_segments.add(-1);
  }
}

}  // namespace mqchat
