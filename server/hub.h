#pragma once

#include <absl/base/thread_annotations.h>
#include <grpcpp/support/status.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/log_throttle.h"
#include "common/mutex.h"
#include "common/token_bucket.h"
#include "server/room_lifecycle.h"
#include "server/room_log.h"
#include "server/subscriber.h"

namespace chat {

struct HubOptions {
  std::size_t max_message_bytes = 2048;
  // Lines (messages and commands) one user may send per second, with a
  // burst of FloodBurst(rate_limit); 0 turns flood control off.
  double rate_limit = 0;
  RoomLogFactory make_room_log;        // one log per room, made on first join
  const Clock* clock = SteadyClock();  // flood control's and rooms' time; outlives the hub
  // Room limits (the lobby is exempt from all three). These defaults turn
  // them off; ServerOptions holds the server's defaults.
  // Rooms besides the lobby that may exist at once, empty ones not yet
  // reclaimed included; at the limit the room empty longest is reclaimed
  // early to make space, and when none is empty a new room is refused. 0: no limit.
  std::size_t max_rooms = 0;
  // How long a room stays, history and all, after its last member left
  // (zero: reclaimed at once; max(): never).
  Clock::duration room_idle = Clock::duration::max();
  // New rooms one member may create a minute, with a burst of as many;
  // entering a room that exists is free. 0: no limit.
  std::size_t new_rooms_per_minute = 0;
};

struct JoinRequest {
  std::string name;
  std::string room;                           // as the user wrote it; "" = the lobby
  std::optional<std::uint64_t> resume_after;  // deliver messages after this seq, not history
  std::optional<std::uint64_t> resume_epoch;  // the room epoch resume_after belongs to
};

// The broadcast hub: users, rooms, the order of each room's messages.
//
// Every room message is given its sequence number and handed to each member's
// Subscriber::Deliver under the hub's one mutex, so all members see one order
// and nobody is skipped or served twice. Deliver only enqueues, so the hub
// never waits for a client; a subscriber that refuses (its queue is full) is
// dropped from the hub, with a notice to its room.
//
// Lock order: Hub::mu_ before any subscriber's own mutex. Subscribers must
// never call into the hub while holding their mutex.
//
// All public methods are safe to call from any thread.
class Hub {
 public:
  explicit Hub(HubOptions options);
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // Binds `subscriber` to a unique name and puts it in a room, sending it the
  // room's history (or what it missed since resume_after) and telling the room.
  // Errors: INVALID_ARGUMENT (bad name or room), ALREADY_EXISTS (name in use),
  // RESOURCE_EXHAUSTED (a new room past max_rooms), UNAVAILABLE (shutting
  // down). On error nothing changed (but that idle rooms may have been reclaimed).
  grpc::Status Join(Subscriber* subscriber, const JoinRequest& request);

  // Flushes, when it goes out of scope (or on Run), the subscribers a
  // delivery left waiting; each holds a reference taken for it.
  class PendingFlush {
   public:
    explicit PendingFlush(std::vector<Subscriber*> subscribers)
        : subscribers_(std::move(subscribers)) {}
    PendingFlush(PendingFlush&& other) noexcept : subscribers_(std::move(other.subscribers_)) {
      other.subscribers_.clear();
    }
    PendingFlush(const PendingFlush&) = delete;
    PendingFlush& operator=(const PendingFlush&) = delete;
    PendingFlush& operator=(PendingFlush&&) = delete;
    ~PendingFlush() { Run(); }
    void Run();

   private:
    std::vector<Subscriber*> subscribers_;
  };

  // One line of input from a joined subscriber: chat text or a /command.
  // Problems go back to that subscriber as ERROR events. The message is
  // ordered and queued when this returns; the writes start when the result
  // is destroyed, so the caller can start its next read first (a message
  // that arrives meanwhile joins the same write, as a batch).
  PendingFlush Receive(Subscriber* subscriber, std::string_view text,
                       std::string_view client_msg_id);

  // Removes the subscriber and tells its room. Idempotent; after it returns
  // the hub holds no pointer to `subscriber`.
  void Leave(Subscriber* subscriber, std::string_view reason);

  // Reclaims the rooms that have been empty for HubOptions::room_idle. Every
  // Join, Leave and Receive does this too; ChatServer also calls it now and
  // then, so that a quiet server gives the memory back as well.
  void ReclaimIdleRooms();

  // Tells every member, closes every stream with UNAVAILABLE and refuses new joins.
  void Shutdown();

  std::size_t member_count() const;
  // Rooms that exist, the lobby and empty rooms not yet reclaimed included.
  std::size_t room_count() const;
  // Lines per second one member may send (0: no limit). Never changes.
  double rate_limit() const { return options_.rate_limit; }

 private:
  // Holds mu_ for a scope; on leaving it, releases mu_ and then flushes the
  // subscribers that deliveries made under it left waiting (to_flush_).
  class ABSL_SCOPED_LOCKABLE LockAndFlush {
   public:
    explicit LockAndFlush(Hub* hub) ABSL_EXCLUSIVE_LOCK_FUNCTION(hub->mu_);
    ~LockAndFlush() ABSL_UNLOCK_FUNCTION();

   private:
    Hub* const hub_;
  };

  struct Member {
    Subscriber* subscriber;
    std::string name;
    std::string room;
    TokenBucket flood_control;  // the lines this member sends
    // The private messages this member receives, from everyone together: as
    // many a second as one member may send, so that many senders, each within
    // its own limit, cannot fill its queue and get it cut off as too slow.
    TokenBucket private_inbox;
    // The new rooms this member may create (set by Join).
    TokenBucket room_creation{0, 0, {}};
  };
  struct Room {
    std::unique_ptr<RoomLog> log;
    std::vector<Member*> members;  // in join order
  };

  // Server time stamped on messages (time_unix_ms).
  static std::int64_t NowUnixMs();

  Room& RoomLocked(const std::string& room) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EnterRoomLocked(Member& member, const std::string& room,
                       std::optional<std::uint64_t> resume_after,
                       std::optional<std::uint64_t> resume_epoch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ExitRoomLocked(Member& member, std::string_view reason) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveLocked(Subscriber* subscriber, std::string_view reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Room lifecycle and limits (hub_rooms.cc).
  enum class RoomRefusal { kNone, kServerFull, kCreatingTooFast };
  // A member's allowance of new rooms: per_minute a minute, with a burst of
  // as many; unlimited when per_minute is 0.
  static TokenBucket RoomCreationLimit(std::size_t per_minute, Clock::time_point now);
  // Whether `member` may enter `room` (normalised): it exists, or it may be
  // made: under max_rooms (reclaiming the room empty longest if need be) and
  // within the member's room_creation, from which it then takes one.
  RoomRefusal MakeRoomForLocked(Member& member, const std::string& room)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // What to tell `member` about a refusal to let it into `room`.
  std::string RoomRefusalText(RoomRefusal refusal, Member& member, const std::string& room) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReclaimIdleRoomsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReclaimLocked(const std::string& room) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Appends to the room's log and delivers to every member.
  void BroadcastLocked(const std::string& room, ChatMessage message)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Delivers to one member; messages outside any room log have seq 0.
  void SendLocked(Member& member, ChatMessage message) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // client_msg_id: on an ERROR about a line the user sent, that line's id,
  // so the client knows the line was refused (and will not re-send it).
  void NoticeLocked(Member& member, Kind kind, std::string text,
                    std::string_view client_msg_id = {}) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DeliverLocked(Member& member, EnvelopePtr envelope) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes members whose Deliver refused, telling their rooms (which may
  // refuse more: loops until none is left).
  void DropRefusedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Command handlers (hub_commands.cc).
  void ReceiveLocked(Subscriber* subscriber, std::string_view text, std::string_view client_msg_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SayLocked(Member& member, std::string text, std::string_view client_msg_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ActionLocked(Member& member, const std::string& action, std::string_view client_msg_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PrivateLocked(Member& member, const std::string& to, const std::string& text,
                     std::string_view client_msg_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // client_msg_id: of the line that asked, for the ERROR if it is refused.
  void SwitchRoomLocked(Member& member, const std::string& room,
                        std::string_view client_msg_id = {}) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RenameLocked(Member& member, const std::string& name, std::string_view client_msg_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WhoLocked(Member& member) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // from: list rooms from this name on ("" = from the first).
  void RoomsLocked(Member& member, const std::string& from, std::string_view client_msg_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const HubOptions options_;

  mutable Mutex mu_;
  std::unordered_map<Subscriber*, std::unique_ptr<Member>> members_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<std::string, Member*> by_name_ ABSL_GUARDED_BY(mu_);  // key: NameKey()
  std::map<std::string, Room> rooms_ ABSL_GUARDED_BY(mu_);                 // key: normalised room
  // Which of rooms_ have members and which wait, empty, to be reclaimed.
  RoomLifecycle lifecycle_ ABSL_GUARDED_BY(mu_);
  LogThrottle room_limit_log_ ABSL_GUARDED_BY(mu_);        // the warning that max_rooms was reached
  std::vector<Subscriber*> refused_ ABSL_GUARDED_BY(mu_);  // Deliver said no; drop soon
  // Subscribers to Flush once the mutex is released (each holds a Ref).
  std::vector<Subscriber*> to_flush_ ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace chat
