#include "plugin/spool.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

using namespace mqchat;
namespace fs = std::filesystem;

namespace {
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/mqchat-spool-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::vector<std::string> read_all(const std::string& dir, SpoolPosition& pos, SpoolPosition limit) {
  SpoolReader reader(dir);
  std::vector<std::string> out;
  reader.read(pos, limit, 1000000, out);
  return out;
}
}  // namespace

TEST(Spool, AppendsAndReadsBackInOrder) {
  TempDir tmp;
  SpoolWriter w(tmp.path, FsyncPolicy::Never, 10, 1 << 20);
  w.open();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(w.append("record-" + std::to_string(i)));
  SpoolPosition pos;
  const auto got = read_all(tmp.path, pos, w.end());
  ASSERT_EQ(got.size(), 100u);
  EXPECT_EQ(got.front(), "record-0");
  EXPECT_EQ(got.back(), "record-99");
  EXPECT_EQ(pos, w.end());
  EXPECT_TRUE(read_all(tmp.path, pos, w.end()).empty());
}

TEST(Spool, ReadsInBatchesAndAcrossSegments) {
  TempDir tmp;
  SpoolWriter w(tmp.path, FsyncPolicy::Interval, 5, 1 << 16);  // small segments: many rotations
  w.open();
  const std::string body(1000, 'x');
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(w.append(std::to_string(i) + body));
  EXPECT_GT(list_segments(tmp.path).size(), 5u);
  SpoolReader reader(tmp.path);
  SpoolPosition pos;
  std::vector<std::string> all;
  for (int rounds = 0; rounds < 1000 && pos != w.end(); ++rounds) reader.read(pos, w.end(), 7, all);
  ASSERT_EQ(all.size(), 500u);
  for (int i = 0; i < 500; ++i) EXPECT_EQ(all[i], std::to_string(i) + body);
}

TEST(Spool, TornTailIsCutOffOnReopenAndNothingElseIsLost) {
  TempDir tmp;
  {
    SpoolWriter w(tmp.path, FsyncPolicy::Never, 10, 1 << 20);
    w.open();
    ASSERT_TRUE(w.append("one"));
    ASSERT_TRUE(w.append("two"));
  }
  const auto segments = list_segments(tmp.path);
  ASSERT_EQ(segments.size(), 1u);
  {  // a crash in the middle of a write leaves half a record
    std::ofstream out(segment_path(tmp.path, segments[0]), std::ios::app | std::ios::binary);
    out.write("\x10\x00\x00\x00\x01\x02", 6);
  }
  SpoolWriter w(tmp.path, FsyncPolicy::Never, 10, 1 << 20);
  w.open();
  ASSERT_TRUE(w.append("three"));
  SpoolPosition pos;
  const auto got = read_all(tmp.path, pos, w.end());
  EXPECT_EQ(got, (std::vector<std::string>{"one", "two", "three"}));
}

TEST(Spool, CheckpointRoundTripsAndShippedSegmentsGo) {
  TempDir tmp;
  EXPECT_EQ(load_checkpoint(tmp.path), SpoolPosition{});
  save_checkpoint(tmp.path, SpoolPosition{7, 1234}, true);
  EXPECT_EQ(load_checkpoint(tmp.path), (SpoolPosition{7, 1234}));
  for (uint64_t s : {3, 5, 7, 9}) std::ofstream(segment_path(tmp.path, s)).put('x');
  remove_segments_before(tmp.path, 7);
  EXPECT_EQ(list_segments(tmp.path), (std::vector<uint64_t>{7, 9}));
}

TEST(Spool, ReaderSkipsToTheNextSegmentWhenItsOwnIsGone) {
  TempDir tmp;
  SpoolWriter w(tmp.path, FsyncPolicy::Never, 10, 1 << 20);
  w.open();
  ASSERT_TRUE(w.append("live"));
  SpoolPosition pos{0, 0};  // a checkpoint older than every segment there is
  EXPECT_EQ(read_all(tmp.path, pos, w.end()), std::vector<std::string>{"live"});
}

// Spools written before records carried CRC-32C (zlib CRC-32, no flag in the length word) are
// still read after an upgrade, and new records follow them in the same segment.
TEST(Spool, RecordsWithTheOlderChecksumAreStillRead) {
  TempDir tmp;
  const std::string old_record = R"({"id":"written by an older plugin"})";
  {
    std::ofstream out(segment_path(tmp.path, 1), std::ios::binary);
    const auto put = [&](uint32_t v) {
      for (int i = 0; i < 4; ++i) out.put(static_cast<char>(v >> (8 * i)));
    };
    put(static_cast<uint32_t>(old_record.size()));
    put(static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(old_record.data()), old_record.size())));
    out << old_record;
  }
  SpoolWriter w(tmp.path, FsyncPolicy::Never, 10, 1 << 20);
  w.open();
  ASSERT_TRUE(w.append("new"));
  SpoolPosition pos{1, 0};
  const auto got = read_all(tmp.path, pos, w.end());
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.front(), old_record);
  EXPECT_EQ(got.back(), "new");
}

TEST(Spool, AFlippedByteInARecordIsDamageWhicheverChecksumItCarries) {
  TempDir tmp;
  SpoolWriter w(tmp.path, FsyncPolicy::Never, 10, 1 << 20);
  w.open();
  ASSERT_TRUE(w.append("first record"));
  ASSERT_TRUE(w.append("second record"));
  const auto end = w.end();
  {
    std::fstream f(segment_path(tmp.path, end.segment), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(kRecordHeaderBytes + 2);
    f.put('X');
  }
  SpoolReader reader(tmp.path);
  SpoolPosition pos{end.segment, 0};
  std::vector<std::string> out;
  bool corrupt = false;
  reader.read(pos, end, 100, out, &corrupt);
  EXPECT_TRUE(corrupt);
  EXPECT_TRUE(out.empty());
}
