#pragma once
// A MessagePipeline over a spool in a temporary directory, for the pipeline's unit tests.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "plugin/message_pipeline.h"

namespace mqchat::test {

class PipelineFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mqchat-pipeline-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    spool_ = std::make_unique<SpoolWriter>(dir_, FsyncPolicy::Never, 10, 1 << 20);
    spool_->open();
    pipeline_ = std::make_unique<MessagePipeline>(MessageLimits{}, *spool_, dedup_);
  }
  void TearDown() override {
    spool_->close();
    std::filesystem::remove_all(dir_);
  }
  // Every record in the spool, oldest first.
  std::vector<std::string> spooled() {
    SpoolReader reader(dir_);
    SpoolPosition pos;
    std::vector<std::string> out;
    reader.read(pos, spool_->end(), 1000, out);
    return out;
  }

  std::string dir_;
  DedupCache dedup_{600, 1000};
  std::unique_ptr<SpoolWriter> spool_;
  std::unique_ptr<MessagePipeline> pipeline_;
};

}  // namespace mqchat::test
