#include "client/resume_rules.h"

#include "common/command.h"
#include "common/text_rules.h"

namespace chat {

bool AdvancePosition(RoomPositions& positions, const ChatMessage& message) {
  if (message.kind() == GAP) {
    positions[message.room()] = {message.epoch(), message.seq()};
    return true;
  }
  if (message.seq() == 0 || message.room().empty()) return true;
  RoomPosition& position = positions[message.room()];
  if (message.epoch() != position.epoch) position = {message.epoch(), 0};  // a new life
  if (message.seq() <= position.seq) return false;  // seen before this reconnection
  position.seq = message.seq();
  return true;
}

LineKind ClassifyLine(std::string_view line) {
  if (line.find_first_not_of(" \t") == std::string_view::npos) return LineKind::kBlank;
  switch (ParseCommand(line).kind) {
    case CommandKind::kSay:
    case CommandKind::kMe:
      return LineKind::kRoom;
    case CommandKind::kMsg:
      return LineKind::kPrivate;
    default:
      return LineKind::kCommand;
  }
}

std::optional<std::string> SettledId(std::string_view my_name, const ChatMessage& message) {
  if (message.client_msg_id().empty()) return std::nullopt;
  if (message.kind() == ERROR || NameKey(message.user()) == NameKey(my_name)) {
    return message.client_msg_id();
  }
  return std::nullopt;
}

}  // namespace chat
