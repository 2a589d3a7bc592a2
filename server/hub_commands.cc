// The hub's handling of one line of user input: plain text and /commands.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/command.h"
#include "common/protocol_keys.h"
#include "common/terminal_text.h"
#include "common/text_rules.h"
#include "common/utf8.h"
#include "server/hub.h"

namespace chat {
namespace {

// Rooms one /rooms answer lists (docs/protocol.md): a NOTICE of about 2 KB.
constexpr std::size_t kRoomsPerPage = 50;

}  // namespace

Hub::Receipt Hub::Receive(Subscriber* subscriber, std::string_view text,
                          std::string_view client_msg_id) {
  MutexLock lock(&mu_);
  ReceiveLocked(subscriber, text, client_msg_id);
  const auto it = members_.find(subscriber);
  const bool held = it != members_.end() && it->second->held.has_value();
  // Held and posted again within this call (the room settled): the caller
  // reads on by itself, so it must not be resumed as well.
  if (const auto self = std::ranges::find(to_resume_, subscriber); self != to_resume_.end()) {
    to_resume_.erase(self);
    subscriber->Unref();  // the caller's own reference keeps it alive
  }
  return {PendingFlush(std::exchange(to_flush_, {}), std::exchange(to_resume_, {})), held};
}

void Hub::ReceiveLocked(Subscriber* subscriber, std::string_view text,
                        std::string_view client_msg_id) {
  const auto it = members_.find(subscriber);
  if (it == members_.end()) return;  // left already (or never joined)
  Member& member = *it->second;

  // The id is checked first: the errors below echo it back.
  if (client_msg_id.size() > kMaxClientMsgIdLength ||
      CheckChatText(client_msg_id, kMaxClientMsgIdLength)) {
    metrics_->Refused(Refusal::kInvalid);
    NoticeLocked(member, ERROR,
                 "not sent: client_msg_id must be at most 64 bytes of printable UTF-8");
  } else if (!member.flood_control.TryTake(options_.clock->Now())) {
    metrics_->Refused(Refusal::kRateLimit);
    NoticeLocked(member, ERROR,
                 "not sent: slow down, at most " +
                     std::to_string(static_cast<int>(options_.rate_limit)) + " lines per second",
                 client_msg_id);
  } else if (auto problem = CheckChatText(text, options_.max_message_bytes)) {
    spdlog::debug("refused a message from {}: {}", member.name, *problem);
    metrics_->Refused(text.size() > options_.max_message_bytes ? Refusal::kTooLong
                                                               : Refusal::kInvalid);
    NoticeLocked(member, ERROR, "not sent: " + *problem, client_msg_id);
  } else if (!text.empty()) {
    Command command = ParseCommand(text);
    switch (command.kind) {
      case CommandKind::kSay:
        PostLocked(member, CHAT, std::move(command.arg), client_msg_id);
        break;
      case CommandKind::kMe:
        PostLocked(member, ACTION, std::move(command.arg), client_msg_id);
        break;
      case CommandKind::kMsg:
        PrivateLocked(member, command.arg, command.text, client_msg_id);
        break;
      case CommandKind::kJoin:
        SwitchRoomLocked(member, command.arg, client_msg_id);
        break;
      case CommandKind::kLeave:
        if (member.room == kDefaultRoom) {
          NoticeLocked(member, ERROR,
                       "you are in the lobby, which cannot be left; /join ROOM to go elsewhere",
                       client_msg_id);
        } else {
          SwitchRoomLocked(member, std::string(kDefaultRoom));
        }
        break;
      case CommandKind::kNick:
        RenameLocked(member, command.arg, client_msg_id);
        break;
      case CommandKind::kWho:
        WhoLocked(member);
        break;
      case CommandKind::kRooms:
        RoomsLocked(member, command.arg, client_msg_id);
        break;
      case CommandKind::kHelp: {
        // One NOTICE per line: every message is one line of text.
        std::string_view help = ServerCommandHelp();
        while (!help.empty()) {
          const std::size_t newline = help.find('\n');
          NoticeLocked(member, NOTICE, std::string(help.substr(0, newline)));
          help = newline == std::string_view::npos ? "" : help.substr(newline + 1);
        }
        break;
      }
      case CommandKind::kInvalid:
        metrics_->Refused(Refusal::kInvalid);
        NoticeLocked(member, ERROR, std::move(command.error), client_msg_id);
        break;
    }
  }
  SettleLocked();
}

void Hub::SayLocked(Member& member, std::string text, std::string_view client_msg_id) {
  ChatMessage message;
  message.set_kind(CHAT);
  message.set_user(member.name);
  message.set_message(std::move(text));
  message.set_client_msg_id(std::string(client_msg_id));
  metrics_->Accepted();
  BroadcastLocked(member.room, std::move(message));
}

void Hub::ActionLocked(Member& member, const std::string& action, std::string_view client_msg_id) {
  ChatMessage message;
  message.set_kind(ACTION);
  message.set_user(member.name);
  message.set_subject(member.name);
  message.set_message("* " + member.name + " " + action);
  message.set_client_msg_id(std::string(client_msg_id));
  metrics_->Accepted();
  BroadcastLocked(member.room, std::move(message));
}

void Hub::PrivateLocked(Member& member, const std::string& to, const std::string& text,
                        std::string_view client_msg_id) {
  const auto it = by_name_.find(NameKey(to));
  if (it == by_name_.end()) {
    metrics_->Refused(Refusal::kNoRecipient);
    NoticeLocked(member, ERROR, "not sent: nobody called '" + QuoteSent(to) + "' is online",
                 client_msg_id);
    return;
  }
  Member& recipient = *it->second;
  if (!recipient.private_inbox.TryTake(options_.clock->Now())) {
    metrics_->Refused(Refusal::kRecipientBusy);
    NoticeLocked(member, ERROR,
                 "not sent: " + recipient.name +
                     " is getting too many private messages right now; try again in a moment",
                 client_msg_id);
    return;
  }
  ChatMessage message;
  message.set_kind(PRIVATE);
  message.set_user(member.name);
  message.set_subject(recipient.name);
  message.set_message(text);
  message.set_client_msg_id(std::string(client_msg_id));
  message.set_time_unix_ms(NowUnixMs());
  metrics_->Accepted();
  const EnvelopePtr envelope = MakeEnvelope(std::move(message));
  DeliverLocked(recipient, envelope);
  if (&recipient != &member) DeliverLocked(member, envelope);  // the sender's acknowledgement
}

void Hub::SwitchRoomLocked(Member& member, const std::string& room,
                           std::string_view client_msg_id) {
  std::string error;
  const std::string normalized = NormalizeRoom(room, &error);
  if (normalized.empty()) {
    NoticeLocked(member, ERROR, "cannot join '" + QuoteSent(room) + "': " + error, client_msg_id);
    return;
  }
  if (normalized == member.room) {
    NoticeLocked(member, NOTICE, "you are already in #" + normalized);
    return;
  }
  if (!member.permissions.AllowsRoom(normalized)) {
    metrics_->Refused(Refusal::kPermission);
    NoticeLocked(member, ERROR,
                 "your token does not let you into #" + normalized + " (it allows " +
                     member.permissions.RoomList() + ")",
                 client_msg_id);
    return;
  }
  // Before leaving the old room: a refused member stays where it was.
  if (const RoomRefusal refusal = MakeRoomForLocked(member, normalized);
      refusal != RoomRefusal::kNone) {
    NoticeLocked(member, ERROR, RoomRefusalText(refusal, member, normalized), client_msg_id);
    return;
  }
  ExitRoomLocked(member, "");
  EnterRoomLocked(member, normalized, std::nullopt, std::nullopt);
}

void Hub::RenameLocked(Member& member, const std::string& name, std::string_view client_msg_id) {
  if (member.permissions.fixed_name) {
    metrics_->Refused(Refusal::kPermission);
    NoticeLocked(member, ERROR,
                 "your name comes from your token on this server; /nick is not available",
                 client_msg_id);
    return;
  }
  if (auto problem = CheckName(name)) {
    NoticeLocked(member, ERROR, "cannot rename to '" + QuoteSent(name) + "': " + *problem,
                 client_msg_id);
    return;
  }
  const std::string old_key = NameKey(member.name);
  const std::string new_key = NameKey(name);
  if (new_key != old_key && by_name_.contains(new_key)) {
    NoticeLocked(member, ERROR, "the name '" + QuoteSent(name) + "' is already in use",
                 client_msg_id);
    return;
  }
  by_name_.erase(old_key);
  by_name_.emplace(new_key, &member);
  ChatMessage renamed;
  renamed.set_kind(RENAME);
  renamed.set_user(member.name);  // the old name: who did it
  renamed.set_subject(name);      // the new name
  renamed.set_message(member.name + " is now known as " + name);
  spdlog::info("{} is now known as {}", member.name, name);
  member.name = name;
  member.subscriber->Renamed(name);
  BroadcastLocked(member.room, std::move(renamed));
}

void Hub::WhoLocked(Member& member) {
  const Room& room = RoomLocked(member.room);
  std::string names;
  std::size_t readers = 0;
  for (const Member* other : room.members) {
    if (other->name.empty()) {
      ++readers;
    } else {
      names += (names.empty() ? "" : ", ") + other->name;
    }
  }
  // Readers have no names to list; they are counted, so the total is true.
  if (readers > 0) {
    names += (names.empty() ? "" : ", and ") + std::to_string(readers) +
             (readers == 1 ? " reader" : " readers");
  }
  NoticeLocked(member, NOTICE,
               std::to_string(room.members.size()) + " in #" + member.room + ": " + names);
}

void Hub::RoomsLocked(Member& member, const std::string& from, std::string_view client_msg_id) {
  std::string start;
  if (!from.empty()) {
    std::string error;
    start = NormalizeRoom(from, &error);
    if (start.empty()) {
      NoticeLocked(
          member, ERROR,
          "usage: /rooms [FROM] ('" + QuoteSent(from) + "' is not a room name: " + error + ")",
          client_msg_id);
      return;
    }
  }
  // Only rooms with members, from `start` on, one page: O(log rooms + page)
  // under the hub's mutex, however many rooms there are.
  const auto& occupied = lifecycle_.occupied();
  auto it = occupied.lower_bound(start);
  std::string list;
  std::size_t shown = 0;
  for (; it != occupied.end() && shown < kRoomsPerPage; ++it, ++shown) {
    const Room& room = rooms_.at(*it);
    list += (list.empty() ? "#" : ", #") + *it + " (" + std::to_string(room.members.size()) + ")";
  }
  const std::string total = std::to_string(occupied.size()) + " rooms with members";
  std::string text;
  if (shown == 0) {
    text = "rooms: none from #" + start + " on (" + total + "; /rooms lists them from the start)";
  } else if (shown == occupied.size()) {
    text = "rooms: " + list;
  } else {
    text = "rooms: " + list + " (" + std::to_string(shown) + " of " + total +
           (it == occupied.end() ? "" : "; /rooms " + *it + " lists the next ones") + ")";
  }
  NoticeLocked(member, NOTICE, std::move(text));
}

}  // namespace chat
