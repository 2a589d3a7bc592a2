#include "client/pipe_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace chat {
namespace {

class PipeReaderTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(pipe(fds_), 0); }
  void TearDown() override {
    close(fds_[0]);
    if (fds_[1] >= 0) close(fds_[1]);
  }
  void Write(const std::string& data) {
    ASSERT_EQ(write(fds_[1], data.data(), data.size()), static_cast<ssize_t>(data.size()));
  }
  void CloseWriter() {
    close(fds_[1]);
    fds_[1] = -1;
  }
  bool Read() {
    return reader_.OnReadable([&](std::string line) { lines_.push_back(std::move(line)); });
  }

  int fds_[2];
  PipeReader reader_{-1};
  std::vector<std::string> lines_;
};

TEST_F(PipeReaderTest, SplitsLinesAcrossReadsAndStripsCarriageReturns) {
  reader_ = PipeReader(fds_[0]);
  Write("one\ntw");
  EXPECT_TRUE(Read());
  EXPECT_EQ(lines_, std::vector<std::string>{"one"});
  Write("o\r\n\nthree");
  EXPECT_TRUE(Read());
  EXPECT_EQ(lines_, (std::vector<std::string>{"one", "two", ""}));
  CloseWriter();
  EXPECT_FALSE(Read());  // end of input: the unterminated last line counts
  EXPECT_EQ(lines_, (std::vector<std::string>{"one", "two", "", "three"}));
}

TEST_F(PipeReaderTest, KeepsMultibyteTextIntact) {
  reader_ = PipeReader(fds_[0]);
  Write("こんにちは 🎉\n");
  CloseWriter();
  EXPECT_TRUE(Read());
  EXPECT_EQ(lines_, std::vector<std::string>{"こんにちは 🎉"});
  EXPECT_FALSE(Read());
}

}  // namespace
}  // namespace chat
