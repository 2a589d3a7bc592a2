#pragma once

// Reading the JSON test vectors shared with the Go and Python clients
// (interop/testdata/*.json) through protobuf's JSON support.
//
// google.protobuf.Struct holds every JSON number as a double, which cannot
// hold every 64-bit integer (18446744073709551615 becomes 2^64). So before
// parsing, integers beyond 2^53 are turned into JSON strings of the same
// digits: proto3's JSON reads a 64-bit field from either form, so
// ChatMessageOf gets the exact number, and Uint64Of reads both forms.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "chat.pb.h"

namespace chat::testing {

// True for an integer literal (optional '-', digits only) that a double
// cannot hold exactly: beyond 2^53 = 9007199254740992.
inline bool IsLargeInteger(std::string_view number) {
  if (!number.empty() && number.front() == '-') number.remove_prefix(1);
  if (number.empty() || number.find_first_not_of("0123456789") != std::string_view::npos) {
    return false;
  }
  constexpr std::string_view kTwoToThe53 = "9007199254740992";
  return number.size() > kTwoToThe53.size() ||
         (number.size() == kTwoToThe53.size() && number > kTwoToThe53);
}

// `json` with every integer beyond 2^53 outside strings put in quotes.
inline std::string QuoteLargeIntegers(std::string_view json) {
  std::string out;
  out.reserve(json.size());
  bool in_string = false;
  for (std::size_t i = 0; i < json.size();) {
    const char c = json[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < json.size()) {
        out += json[++i];  // an escaped character, quotes included
      } else if (c == '"') {
        in_string = false;
      }
      ++i;
    } else if (c == '"') {
      in_string = true;
      out += c;
      ++i;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      // Outside strings only numbers hold digits (true, false, null do not).
      const std::size_t end = json.find_first_not_of("+-.0123456789eE", i);
      const std::string_view number = json.substr(i, end - i);
      if (IsLargeInteger(number)) {
        out += '"';
        out += number;
        out += '"';
      } else {
        out += number;
      }
      i += number.size();
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

inline google::protobuf::Struct ParseJsonVectors(std::string_view json) {
  google::protobuf::Struct vectors;
  const auto status =
      google::protobuf::util::JsonStringToMessage(QuoteLargeIntegers(json), &vectors);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return vectors;
}

inline google::protobuf::Struct LoadJsonVectors(const char* path) {
  std::ifstream file(path);
  EXPECT_TRUE(file) << "cannot open " << path;
  std::stringstream text;
  text << file.rdbuf();
  return ParseJsonVectors(text.str());
}

// A non-negative integer from the vectors, exact up to 2^64-1 (see above).
inline std::uint64_t Uint64Of(const google::protobuf::Value& value) {
  if (value.has_number_value()) {
    const double number = value.number_value();
    EXPECT_TRUE(number >= 0 && number <= 9007199254740992.0 && std::floor(number) == number)
        << number;
    return static_cast<std::uint64_t>(number);
  }
  const std::string& digits = value.string_value();
  std::uint64_t number = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
  EXPECT_TRUE(value.has_string_value() && error == std::errc() &&
              end == digits.data() + digits.size())
      << "not a 64-bit unsigned number: " << value.ShortDebugString();
  return number;
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
