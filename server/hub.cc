#include "server/hub.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

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
      metrics_(options_.metrics != nullptr ? options_.metrics : &own_metrics_),
      lifecycle_(options_.room_idle, std::string(kDefaultRoom)),
      room_limit_log_(std::chrono::seconds(10)),
      presence_(options_.presence.coalesce_above, options_.presence.interval) {
  if (options_.presence.coalesce_above == 0) return;
  if (options_.presence.clock == nullptr) {
    throw std::invalid_argument("HubOptions::presence: coalescing needs a clock");
  }
  presence_timer_ =
      std::make_unique<AlarmTimer>(options_.presence.clock, [this] { AnnounceDuePresence(); });
}

Hub::~Hub() {
  if (presence_timer_) presence_timer_->Stop();
}

Hub::LockAndFlush::LockAndFlush(Hub* hub) : hub_(hub) { hub_->mu_.Lock(); }

Hub::LockAndFlush::~LockAndFlush() {
  PendingFlush pending(std::exchange(hub_->to_flush_, {}), std::exchange(hub_->to_resume_, {}));
  hub_->mu_.Unlock();
  pending.Run();
}

void Hub::PendingFlush::Run() {
  for (Subscriber* subscriber : std::exchange(flush_, {})) {
    subscriber->Flush();
    subscriber->Unref();
  }
  // After the flushes: a resumed sender reads on, and its next line should
  // find the writes of this one under way.
  for (Subscriber* subscriber : std::exchange(resume_, {})) {
    subscriber->Resume();
    subscriber->Unref();
  }
}

void Hub::Drained(Subscriber* subscriber) {
  LockAndFlush lock(this);
  const auto it = members_.find(subscriber);
  if (it == members_.end()) return;
  SetBacklogLocked(*it->second, subscriber->Backlogged());
  SettleLocked();
}

namespace {

// The room a request names, normalised ("" = the lobby), or the status that
// refuses it.
// A token that does not allow the lobby starts its holder in its first room.
grpc::Status RequestedRoom(const JoinRequest& request, std::string* room) {
  const Permissions& permissions = request.permissions;
  std::string_view wanted = request.room;
  if (wanted.empty()) {
    wanted = permissions.AllowsRoom(kDefaultRoom) || permissions.rooms->empty()
                 ? kDefaultRoom
                 : std::string_view(permissions.rooms->front());
  }
  std::string error;
  *room = NormalizeRoom(wanted, &error);
  if (room->empty()) {
    return {grpc::StatusCode::INVALID_ARGUMENT,
            "invalid room '" + QuoteSent(request.room) + "': " + error};
  }
  if (!permissions.AllowsRoom(*room)) {
    return {grpc::StatusCode::PERMISSION_DENIED, "your token does not let you into #" + *room +
                                                     " (it allows " + permissions.RoomList() + ")"};
  }
  return grpc::Status::OK;
}

}  // namespace

grpc::Status Hub::Join(Subscriber* subscriber, const JoinRequest& request) {
  if (auto problem = CheckName(request.name)) {
    // Quoted through the sanitiser: the name may hold anything (escape
    // sequences, invalid UTF-8) and the status is shown to a person.
    return {grpc::StatusCode::INVALID_ARGUMENT,
            "invalid user name '" + QuoteSent(request.name) + "': " + *problem};
  }
  std::string room;
  if (grpc::Status status = RequestedRoom(request, &room); !status.ok()) return status;

  LockAndFlush lock(this);
  if (shutting_down_) {
    return {grpc::StatusCode::UNAVAILABLE, "the server is shutting down; try again later"};
  }
  const auto existing = members_.find(subscriber);
  if (existing != members_.end() && !existing->second->name.empty()) {
    return {grpc::StatusCode::FAILED_PRECONDITION, "this stream has already joined"};
  }
  if (by_name_.contains(NameKey(request.name))) {
    return {grpc::StatusCode::ALREADY_EXISTS,
            "the name '" + QuoteSent(request.name) +
                "' is already in use on this server; pick another"};
  }
  grpc::Status status;
  if (existing != members_.end()) {
    status = NameReaderLocked(*existing->second, request.name, room);
  } else if (Member* member = AddMemberLocked(subscriber, request.name, room, &status)) {
    member->permissions = request.permissions;
    NoticeLocked(*member, NOTICE, WelcomeText(member->name));
    EnterRoomLocked(*member, room, request.resume_after, request.resume_epoch);
  }
  SettleLocked();
  return status;
}

grpc::Status Hub::Listen(Subscriber* subscriber, const JoinRequest& request) {
  std::string room;
  if (grpc::Status status = RequestedRoom(request, &room); !status.ok()) return status;
  LockAndFlush lock(this);
  if (shutting_down_) {
    return {grpc::StatusCode::UNAVAILABLE, "the server is shutting down; try again later"};
  }
  if (members_.contains(subscriber)) {
    return {grpc::StatusCode::FAILED_PRECONDITION, "this stream is in the hub already"};
  }
  grpc::Status status;
  if (Member* reader = AddMemberLocked(subscriber, "", room, &status)) {
    EnterRoomLocked(*reader, room, request.resume_after, request.resume_epoch);
  }
  SettleLocked();
  return status;
}

bool Permissions::AllowsRoom(std::string_view room) const {
  return !rooms || std::find(rooms->begin(), rooms->end(), room) != rooms->end();
}

std::string Permissions::RoomList() const {
  if (!rooms) return "any room";
  if (rooms->empty()) return "no room";
  std::string list;
  for (const std::string& room : *rooms) list += (list.empty() ? "#" : ", #") + room;
  return list;
}

std::string Hub::WelcomeText(const std::string& name) {
  return "welcome, " + name + "; type /help for the list of commands";
}

Hub::Member* Hub::AddMemberLocked(Subscriber* subscriber, const std::string& name,
                                  const std::string& room, grpc::Status* status) {
  const Clock::time_point now = options_.clock->Now();
  const TokenBucket flood_limit(options_.rate_limit, FloodBurst(options_.rate_limit), now);
  auto owned = std::make_unique<Member>(Member{subscriber, name, room, flood_limit, flood_limit});
  Member& member = *owned;
  member.room_creation = RoomCreationLimit(options_.new_rooms_per_minute, now);
  if (const RoomRefusal refusal = MakeRoomForLocked(member, room); refusal != RoomRefusal::kNone) {
    *status = {grpc::StatusCode::RESOURCE_EXHAUSTED, RoomRefusalText(refusal, member, room)};
    return nullptr;
  }
  members_.emplace(subscriber, std::move(owned));
  if (!name.empty()) by_name_.emplace(NameKey(name), &member);
  return &member;
}

grpc::Status Hub::NameReaderLocked(Member& member, const std::string& name,
                                   const std::string& room) {
  if (room != member.room) {
    if (const RoomRefusal refusal = MakeRoomForLocked(member, room);
        refusal != RoomRefusal::kNone) {
      return {grpc::StatusCode::RESOURCE_EXHAUSTED, RoomRefusalText(refusal, member, room)};
    }
  }
  member.name = name;
  by_name_.emplace(NameKey(name), &member);
  NoticeLocked(member, NOTICE, WelcomeText(name));
  if (room == member.room) {
    AnnounceJoinLocked(member);
  } else {
    // Its first message names another room: go there, with that room's history.
    LeaveRoomListLocked(member);
    EnterRoomLocked(member, room, std::nullopt, std::nullopt);
  }
  return grpc::Status::OK;
}

void Hub::Leave(Subscriber* subscriber, std::string_view reason) {
  LockAndFlush lock(this);
  RemoveLocked(subscriber, reason);
  SettleLocked();
}

void Hub::Shutdown() {
  {
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
    to_release_.clear();
    for (auto& [name, room] : rooms_) {
      room.members.clear();
      room.held.clear();  // their streams are closing: nothing more is posted
      room.backlogged = 0;
    }
    presence_.Clear();  // nobody left to tell
  }
  // Unlocked: an alarm callback under way takes mu_ (and then finds the
  // hub shutting down).
  if (presence_timer_) presence_timer_->Stop();
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
  if (member.backlogged) ++room.backlogged;  // its queue comes along
  ReplayLocked(member, room, resume_after, resume_epoch);
  room.members.push_back(&member);
  if (room.members.size() == 1) lifecycle_.Occupied(room_name);
  if (!member.name.empty()) AnnounceJoinLocked(member);
}

void Hub::ReplayLocked(Member& member, Room& room, std::optional<std::uint64_t> resume_after,
                       std::optional<std::uint64_t> resume_epoch) {
  const std::string& room_name = member.room;
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
}

void Hub::AnnounceJoinLocked(Member& member) {
  const std::string& room_name = member.room;
  ChatMessage joined;
  joined.set_kind(JOIN);
  joined.set_user(member.name);
  joined.set_subject(member.name);
  joined.set_message(member.name + " joined #" + room_name);
  PresenceLocked(member, RoomLocked(room_name), std::move(joined));
}

void Hub::LeaveRoomListLocked(Member& member) {
  Room& room = RoomLocked(member.room);
  std::erase(room.members, &member);
  if (member.backlogged) --room.backlogged;
  if (member.held) {
    std::erase(room.held, &member);
    member.held.reset();
  }
  // Fewer members: the room may no longer be congested.
  if (!room.held.empty()) to_release_.push_back(member.room);
  // Reclaimed once idle (SettleLocked), after what its leavers say is in its history.
  if (room.members.empty()) lifecycle_.Emptied(member.room, options_.clock->Now());
}

void Hub::ExitRoomLocked(Member& member, std::string_view reason) {
  LeaveRoomListLocked(member);
  if (member.name.empty()) return;  // a reader comes and goes unannounced
  ChatMessage left;
  left.set_kind(LEAVE);
  left.set_user(member.name);
  left.set_subject(member.name);
  std::string text = member.name + " left #" + member.room;
  if (!reason.empty()) text += " (" + std::string(reason) + ")";
  left.set_message(std::move(text));
  PresenceLocked(member, RoomLocked(member.room), std::move(left));
}

void Hub::RemoveLocked(Subscriber* subscriber, std::string_view reason) {
  const auto it = members_.find(subscriber);
  if (it == members_.end()) return;
  std::unique_ptr<Member> member = std::move(it->second);
  members_.erase(it);
  if (!member->name.empty()) by_name_.erase(NameKey(member->name));
  ExitRoomLocked(*member, reason);
}

void Hub::BroadcastLocked(const std::string& room_name, ChatMessage message) {
  AnnounceHeldBeforeLocked(room_name, message);
  Room& room = RoomLocked(room_name);
  message.set_room(room_name);
  message.set_time_unix_ms(NowUnixMs());
  const EnvelopePtr envelope = room.log->Append(std::move(message));
  for (Member* member : room.members) DeliverLocked(*member, envelope);
}

bool Hub::CongestedLocked(const Room& room) const {
  return room.backlogged >= 2 && 2 * room.backlogged > room.members.size();
}

void Hub::SetBacklogLocked(Member& member, bool backlogged) {
  if (backlogged == member.backlogged) return;
  member.backlogged = backlogged;
  Room& room = RoomLocked(member.room);
  if (backlogged) {
    ++room.backlogged;
    return;
  }
  --room.backlogged;
  if (!room.held.empty()) to_release_.push_back(member.room);
}

void Hub::PostLocked(Member& member, Kind kind, std::string text, std::string_view client_msg_id) {
  Room& room = RoomLocked(member.room);
  if (CongestedLocked(room)) {
    member.held = Member::HeldLine{kind, std::move(text), std::string(client_msg_id)};
    room.held.push_back(&member);
    // Once in a while, a word on why its lines are slow to go out.
    const Clock::time_point now = options_.clock->Now();
    if (member.told_held == Clock::time_point::min() ||
        now - member.told_held >= kHeldNoticeEvery) {
      member.told_held = now;
      NoticeLocked(member, NOTICE,
                   "#" + member.room +
                       " is busy: the server is sending faster than its members can read, so it "
                       "takes your lines more slowly until they catch up; nothing is lost");
    }
    if (room.held.size() == 1) {
      spdlog::debug("#{}: {} of {} members are backlogged; holding its senders back", member.room,
                    room.backlogged, room.members.size());
    }
    return;
  }
  if (kind == ACTION) {
    ActionLocked(member, text, client_msg_id);
  } else {
    SayLocked(member, std::move(text), client_msg_id);
  }
}

void Hub::ReleaseHeldLocked(Room& room) {
  while (!room.held.empty() && !CongestedLocked(room)) {
    Member& member = *room.held.front();
    room.held.pop_front();
    Member::HeldLine line = std::move(*member.held);
    member.held.reset();
    PostLocked(member, line.kind, std::move(line.text), line.client_msg_id);
    member.subscriber->Ref();
    to_resume_.push_back(member.subscriber);
  }
}

void Hub::SettleLocked() {
  while (true) {
    DropRefusedLocked();
    if (to_release_.empty()) break;
    for (const std::string& name : std::exchange(to_release_, {})) {
      if (const auto it = rooms_.find(name); it != rooms_.end()) ReleaseHeldLocked(it->second);
    }
  }
  ReclaimIdleRoomsLocked();
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
  const Subscriber::Delivered delivered = member.subscriber->Deliver(std::move(envelope));
  if (delivered.delivery != Subscriber::Delivery::kRefused) metrics_->Delivered();
  if (delivered.backlogged != member.backlogged &&
      delivered.delivery != Subscriber::Delivery::kRefused) {
    SetBacklogLocked(member, delivered.backlogged);
  }
  switch (delivered.delivery) {
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
      const std::string& name = it->second->name;
      spdlog::info("dropping {}: its stream no longer accepts messages",
                   name.empty() ? "a reader" : name);
    }
    RemoveLocked(subscriber, "disconnected");
  }
}

}  // namespace chat
