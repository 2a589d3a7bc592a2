// The hub's presence in big rooms: joins and leaves held and announced
// together (issue 12). The bookkeeping is PresenceCoalescer's; this is where
// it meets the hub's rooms, its mutex and its alarm.
#include "server/hub.h"

namespace chat {

void Hub::PresenceLocked(Member& member, Room& room, ChatMessage event) {
  const bool joining = event.kind() == JOIN;
  // The room's size counting the one who comes or goes: a leaver is out of
  // room.members already, a joiner in it.
  const std::size_t size = room.members.size() + (joining ? 0 : 1);
  if (!presence_timer_ || !presence_.Coalesces(size)) {
    BroadcastLocked(member.room, std::move(event));  // announces what is held first
    return;
  }
  const Clock::time_point now = options_.presence.clock->Now();
  const auto due = joining ? presence_.Joined(member.room, member.name, now)
                           : presence_.Left(member.room, member.name, now);
  if (due) presence_timer_->RunAt(*due);
  if (joining) {
    // Its own JOIN, at once: it tells the joiner that the history is over
    // and it is in. Not in the room's log (seq 0): the room hears of it in
    // the PRESENCE event, which the joiner gets too.
    event.set_room(member.room);
    event.set_epoch(room.log->epoch());
    SendLocked(member, std::move(event));
  }
}

void Hub::AnnounceHeldBeforeLocked(const std::string& room, const ChatMessage& message) {
  if (!presence_.Holds(room)) return;
  switch (message.kind()) {
    case PRESENCE:
      return;
    case CHAT:
    case ACTION:
      // Nobody's words reach the room before the news that they are in it.
      if (!presence_.HoldsJoinOf(room, message.user())) return;
      break;
    default:
      // A JOIN or LEAVE (the room is small again) or a RENAME: what is held
      // comes first, or the members' lists go wrong (a rename of someone
      // whose coming is held, someone taking a name whose leaving is held).
      break;
  }
  AnnounceHeldLocked(room);
}

void Hub::AnnounceHeldLocked(const std::string& room) {
  std::optional<PresenceChange> change = presence_.Take(room);
  // A room that has gone meanwhile has nobody to tell.
  if (!change || !rooms_.contains(room)) return;
  BroadcastLocked(room, PresenceMessage(*change));
}

void Hub::AnnounceDuePresence() {
  LockAndFlush lock(this);
  if (shutting_down_) return;
  for (const PresenceChange& change : presence_.TakeDue(options_.presence.clock->Now())) {
    if (rooms_.contains(change.room)) BroadcastLocked(change.room, PresenceMessage(change));
  }
  SettleLocked();
  // The timer ran for the earliest room; the others still wait.
  if (const auto next = presence_.NextDue()) presence_timer_->RunAt(*next);
}

}  // namespace chat
