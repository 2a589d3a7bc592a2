#pragma once

// Reading the JSON test vectors shared with the Go and Python clients
// (interop/testdata/*.json) through protobuf's JSON support.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "chat.pb.h"

namespace chat::testing {

inline google::protobuf::Struct LoadJsonVectors(const char* path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  google::protobuf::Struct vectors;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text.str(), &vectors).ok())
      << "cannot read " << path;
  return vectors;
}

// A vector's "message" object (proto/chat.proto's field names) as a ChatMessage.
inline ChatMessage ChatMessageOf(const google::protobuf::Value& value) {
  std::string json;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(value, &json).ok());
  ChatMessage message;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &message).ok()) << json;
  return message;
}

}  // namespace chat::testing
