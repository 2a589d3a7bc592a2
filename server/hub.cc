#include "server/hub.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "common/protocol_keys.h"
#include "common/terminal_text.h"
#include "common/text_rules.h"

namespace chat {

std::int64_t Hub::NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Hub::Hub(HubOptions options)
    : options_(std::move(options)),
      lifecycle_(options_.room_idle, std::string(kDefaultRoom)),
      room_limit_log_(std::chrono::seconds(10)) {}

Hub::LockAndFlush::LockAndFlush(Hub* hub) : hub_(hub) { hub_->mu_.Lock(); }

Hub::LockAndFlush::~LockAndFlush() {
  std::vector<Subscriber*> flush;
  flush.swap(hub_->to_flush_);
  hub_->mu_.Unlock();
  PendingFlush(std::move(flush)).Run();
}

void Hub::PendingFlush::Run() {
  for (Subscriber* subscriber : std::exchange(subscribers_, {})) {
    subscriber->Flush();
    subscriber->Unref();
  }
}

grpc::Status Hub::Join(Subscriber* subscriber, const JoinRequest& request) {
  if (auto problem = CheckName(request.name)) {
    // Quoted through the sanitiser: the name may hold anything (escape
    // sequences, invalid UTF-8) and the status is shown to a person.
    return {grpc::StatusCode::INVALID_ARGUMENT,
            "invalid user name '" + SanitizeForTerminal(request.name) + "': " + *problem};
  }
  std::string room_error;
  const std::string room =
      NormalizeRoom(request.room.empty() ? kDefaultRoom : request.room, &room_error);
  if (room.empty()) {
    return {grpc::StatusCode::INVALID_ARGUMENT,
            "invalid room '" + SanitizeForTerminal(request.room) + "': " + room_error};
  }

  LockAndFlush lock(this);
  if (shutting_down_) {
    return {grpc::StatusCode::UNAVAILABLE, "the server is shutting down; try again later"};
  }
  if (members_.contains(subscriber)) {
    return {grpc::StatusCode::FAILED_PRECONDITION, "this stream has already joined"};
  }
  const std::string key = NameKey(request.name);
  if (by_name_.contains(key)) {
    return {grpc::StatusCode::ALREADY_EXISTS,
            "the name '" + request.name + "' is already in use on this server; pick another"};
  }
  const TokenBucket flood_limit(options_.rate_limit, FloodBurst(options_.rate_limit),
                                options_.clock->Now());
  auto owned =
      std::make_unique<Member>(Member{subscriber, request.name, room, flood_limit, flood_limit});
  Member& member = *owned;
  member.room_creation = RoomCreationLimit(options_.new_rooms_per_minute, options_.clock->Now());
  if (const RoomRefusal refusal = MakeRoomForLocked(member, room); refusal != RoomRefusal::kNone) {
    return {grpc::StatusCode::RESOURCE_EXHAUSTED, RoomRefusalText(refusal, member, room)};
  }
  members_.emplace(subscriber, std::move(owned));
  by_name_.emplace(key, &member);
  NoticeLocked(member, NOTICE, "welcome, " + member.name + "; type /help for the list of commands");
  EnterRoomLocked(member, room, request.resume_after, request.resume_epoch);
  DropRefusedLocked();
  ReclaimIdleRoomsLocked();
  return grpc::Status::OK;
}

void Hub::Leave(Subscriber* subscriber, std::string_view reason) {
  LockAndFlush lock(this);
  RemoveLocked(subscriber, reason);
  DropRefusedLocked();
  ReclaimIdleRoomsLocked();
}

void Hub::Shutdown() {
  LockAndFlush lock(this);
  shutting_down_ = true;
  const grpc::Status status(grpc::StatusCode::UNAVAILABLE,
                            "the server is shutting down; reconnect later");
  for (auto& [subscriber, member] : members_) {
    NoticeLocked(*member, NOTICE, "the server is shutting down");
    subscriber->Close(status);
  }
  members_.clear();
  by_name_.clear();
  refused_.clear();
  for (auto& [name, room] : rooms_) room.members.clear();
}

std::size_t Hub::member_count() const {
  MutexLock lock(&mu_);
  return members_.size();
}

std::size_t Hub::room_count() const {
  MutexLock lock(&mu_);
  return rooms_.size();
}

Hub::Room& Hub::RoomLocked(const std::string& room) {
  auto it = rooms_.find(room);
  if (it == rooms_.end()) {
    it = rooms_.emplace(room, Room{options_.make_room_log(room), {}}).first;
  }
  return it->second;
}

void Hub::EnterRoomLocked(Member& member, const std::string& room_name,
                          std::optional<std::uint64_t> resume_after,
                          std::optional<std::uint64_t> resume_epoch) {
  Room& room = RoomLocked(room_name);
  member.room = room_name;
  Replay replay;
  if (resume_after && resume_epoch && *resume_epoch != room.log->epoch()) {
    replay = room.log->Recent();  // another life of the room: its numbers mean nothing here
    replay.restarted = true;
  } else if (resume_after) {
    replay = room.log->After(*resume_after);
  } else {
    replay = room.log->Recent();
  }
  if (replay.restarted || replay.missed > 0) {
    ChatMessage gap;
    gap.set_kind(GAP);
    gap.set_user(std::string(kServerUser));
    gap.set_room(room_name);
    gap.set_epoch(room.log->epoch());
    if (replay.restarted) {
      // What the old life held after the client's position is gone, an
      // unknown number; the new life may have rolled out of history too.
      const std::uint64_t first = replay.messages.empty() ? room.log->last_seq() + 1
                                                          : replay.messages.front()->message.seq();
      const std::uint64_t rolled_out = first - 1;
      // A new life: the room was reclaimed after standing empty (and made
      // again), or the server restarted; the hub cannot tell which.
      gap.set_seq(rolled_out);  // GAP's seq is the number after which delivery goes on
      const std::string discarded = "the history of #" + room_name +
                                    " was discarded (the room was empty for a while, or the "
                                    "server restarted)";
      gap.set_message(rolled_out == 0
                          ? discarded + "; showing the new history from the start"
                          : discarded + ": what you missed before that is lost, and the first " +
                                std::to_string(rolled_out) +
                                " messages since are no longer in history either; showing it "
                                "from seq " +
                                std::to_string(first));
    } else {
      gap.set_seq(*resume_after + replay.missed);
      gap.set_message("you missed " + std::to_string(replay.missed) + " messages in #" + room_name +
                      " that are no longer in history");
    }
    SendLocked(member, std::move(gap));
  }
  for (const EnvelopePtr& original : replay.messages) {
    ChatMessage copy = original->message;
    copy.set_replay(true);
    DeliverLocked(member, MakeEnvelope(std::move(copy)));
  }
  room.members.push_back(&member);
  if (room.members.size() == 1) lifecycle_.Occupied(room_name);

  ChatMessage joined;
  joined.set_kind(JOIN);
  joined.set_user(member.name);
  joined.set_subject(member.name);
  joined.set_message(member.name + " joined #" + room_name);
  BroadcastLocked(room_name, std::move(joined));
}

void Hub::ExitRoomLocked(Member& member, std::string_view reason) {
  Room& room = RoomLocked(member.room);
  std::erase(room.members, &member);
  ChatMessage left;
  left.set_kind(LEAVE);
  left.set_user(member.name);
  left.set_subject(member.name);
  std::string text = member.name + " left #" + member.room;
  if (!reason.empty()) text += " (" + std::string(reason) + ")";
  left.set_message(std::move(text));
  BroadcastLocked(member.room, std::move(left));  // kept in history until the room is reclaimed
  if (room.members.empty()) lifecycle_.Emptied(member.room, options_.clock->Now());
}

void Hub::RemoveLocked(Subscriber* subscriber, std::string_view reason) {
  const auto it = members_.find(subscriber);
  if (it == members_.end()) return;
  std::unique_ptr<Member> member = std::move(it->second);
  members_.erase(it);
  by_name_.erase(NameKey(member->name));
  ExitRoomLocked(*member, reason);
}

void Hub::BroadcastLocked(const std::string& room_name, ChatMessage message) {
  Room& room = RoomLocked(room_name);
  message.set_room(room_name);
  message.set_time_unix_ms(NowUnixMs());
  const EnvelopePtr envelope = room.log->Append(std::move(message));
  for (Member* member : room.members) DeliverLocked(*member, envelope);
}

void Hub::SendLocked(Member& member, ChatMessage message) {
  message.set_time_unix_ms(NowUnixMs());
  DeliverLocked(member, MakeEnvelope(std::move(message)));
}

void Hub::NoticeLocked(Member& member, Kind kind, std::string text,
                       std::string_view client_msg_id) {
  ChatMessage notice;
  notice.set_kind(kind);
  notice.set_client_msg_id(std::string(client_msg_id));
  notice.set_user(std::string(kServerUser));
  notice.set_room(member.room);
  notice.set_message(std::move(text));
  SendLocked(member, std::move(notice));
}

void Hub::DeliverLocked(Member& member, EnvelopePtr envelope) {
  switch (member.subscriber->Deliver(std::move(envelope))) {
    case Subscriber::Delivery::kQueued:
      return;
    case Subscriber::Delivery::kFlushNeeded:
      // Deliver says this only once until the Flush: no duplicates here.
      member.subscriber->Ref();
      to_flush_.push_back(member.subscriber);
      return;
    case Subscriber::Delivery::kRefused:
      if (std::find(refused_.begin(), refused_.end(), member.subscriber) == refused_.end()) {
        refused_.push_back(member.subscriber);
      }
      return;
  }
}

void Hub::DropRefusedLocked() {
  while (!refused_.empty()) {
    Subscriber* subscriber = refused_.back();
    refused_.pop_back();
    if (const auto it = members_.find(subscriber); it != members_.end()) {
      spdlog::info("dropping {}: its stream no longer accepts messages", it->second->name);
    }
    RemoveLocked(subscriber, "disconnected");
  }
}

}  // namespace chat
