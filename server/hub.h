#pragma once

#include <absl/base/thread_annotations.h>
#include <grpcpp/support/status.h>

#include <cstddef>
#include <cstdint>
#include <deque>
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
#include "server/alarm_timer.h"
#include "server/ops/metrics.h"
#include "server/presence_coalescer.h"
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
  // Joins and leaves in big rooms, announced together (off unless set).
  PresenceOptions presence;
  // Where the hub counts what it accepts, refuses and delivers; null: its own, unread.
  ServerMetrics* metrics = nullptr;
};

// What a signed token lets its holder do. The default, with authentication
// off, allows everything.
struct Permissions {
  bool fixed_name = false;                        // the name is the token's: no /nick
  std::optional<std::vector<std::string>> rooms;  // normalised; nullopt: any room
  bool AllowsRoom(std::string_view room) const;
  // "#ops, #dev": for refusals.
  std::string RoomList() const;
};

struct JoinRequest {
  std::string name;                           // "" in Listen: a reader, named later by Join
  std::string room;                           // as the user wrote it; "" = the lobby
  std::optional<std::uint64_t> resume_after;  // deliver messages after this seq, not history
  std::optional<std::uint64_t> resume_epoch;  // the room epoch resume_after belongs to
  Permissions permissions;
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
// Presence in big rooms (options.presence): above a room size, joins and
// leaves are held (PresenceCoalescer) and announced together, one PRESENCE
// event per room per interval, from an alarm (AlarmTimer; order: Hub::mu_,
// then the timer's). The joiner still gets its own JOIN at once, and the
// room hears what is held before anything else of those concerned (see
// AnnounceHeldBeforeLocked), so every member's view stays consistent.
//
// All public methods are safe to call from any thread.
class Hub {
 public:
  // Throws std::invalid_argument if presence.coalesce_above is set without a clock.
  explicit Hub(HubOptions options);
  ~Hub();  // waits for a presence alarm under way; call Shutdown first on a live server
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // Binds `subscriber` to a unique name and puts it in a room, sending it the
  // room's history (or what it missed since resume_after) and telling the room.
  // Errors: INVALID_ARGUMENT (bad name or room), ALREADY_EXISTS (name in use),
  // PERMISSION_DENIED (a room request.permissions does not allow),
  // RESOURCE_EXHAUSTED (a new room past max_rooms), UNAVAILABLE (shutting
  // down). On error nothing changed (but that idle rooms may have been reclaimed).
  //
  // A subscriber that is a reader (see Listen) is named by this: it is
  // welcomed and announced in its room, or moved to request.room if that
  // names another one. On error it stays a reader.
  grpc::Status Join(Subscriber* subscriber, const JoinRequest& request);

  // Puts `subscriber` in a room as a reader: a member with no name yet. It
  // gets the room's history (or what it missed since resume_after) and then
  // the room's traffic, is not announced, cannot be sent private messages,
  // and counts as a reader in /who, until Join names it. request.name is
  // ignored. Errors: INVALID_ARGUMENT (bad room), UNAVAILABLE (shutting
  // down), FAILED_PRECONDITION (already in the hub).
  grpc::Status Listen(Subscriber* subscriber, const JoinRequest& request);

  // Flushes, when it goes out of scope (or on Run), the subscribers a
  // delivery left waiting, and resumes the senders whose held lines were
  // posted; each holds a reference taken for it.
  class PendingFlush {
   public:
    PendingFlush(std::vector<Subscriber*> flush, std::vector<Subscriber*> resume)
        : flush_(std::move(flush)), resume_(std::move(resume)) {}
    PendingFlush(PendingFlush&& other) noexcept
        : flush_(std::exchange(other.flush_, {})), resume_(std::exchange(other.resume_, {})) {}
    PendingFlush(const PendingFlush&) = delete;
    PendingFlush& operator=(const PendingFlush&) = delete;
    PendingFlush& operator=(PendingFlush&&) = delete;
    ~PendingFlush() { Run(); }
    void Run();

   private:
    std::vector<Subscriber*> flush_;
    std::vector<Subscriber*> resume_;
  };

  // What Receive did with a line.
  struct Receipt {
    PendingFlush flush;
    // The line is for a congested room (most of its members are backlogged):
    // the hub holds it and posts it once the room has caught up, then calls
    // the sender's Resume. Until then the sender reads nothing more, so
    // HTTP/2 flow control pushes back on its client.
    bool held = false;
  };

  // One line of input from a joined subscriber: chat text or a /command.
  // Problems go back to that subscriber as ERROR events. The message is
  // ordered and queued when this returns (unless held); the writes start
  // when the flush is destroyed, so the caller can start its next read first
  // (a message that arrives meanwhile joins the same write, as a batch).
  Receipt Receive(Subscriber* subscriber, std::string_view text, std::string_view client_msg_id);

  // The subscriber's backlog ended (it drained to its low watermark): the
  // hub counts it again and may post its room's held lines. Call without the
  // subscriber's mutex.
  void Drained(Subscriber* subscriber);

  // Removes the subscriber and tells its room. Idempotent; after it returns
  // the hub holds no pointer to `subscriber`.
  void Leave(Subscriber* subscriber, std::string_view reason);

  // Reclaims the rooms that have been empty for HubOptions::room_idle. Every
  // Join, Leave and Receive does this too; ChatServer also calls it now and
  // then, so that a quiet server gives the memory back as well.
  void ReclaimIdleRooms();

  // Tells every member, closes every stream with UNAVAILABLE and refuses new
  // joins. Held presence is dropped, and the presence alarm stopped (waited
  // for: do not call it from an alarm callback).
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
    std::string name;  // "" for a reader (not in by_name_, never announced)
    std::string room;
    TokenBucket flood_control;  // the lines this member sends
    // The private messages this member receives, from everyone together: as
    // many a second as one member may send, so that many senders, each within
    // its own limit, cannot fill its queue and get it cut off as too slow.
    TokenBucket private_inbox;
    // Its queue is backlogged (as Deliver or Backlogged last said); counted
    // in its room's `backlogged`.
    bool backlogged = false;
    // A line the hub holds back while the room is congested (see Receipt).
    struct HeldLine {
      Kind kind;  // CHAT or ACTION
      std::string text;
      std::string client_msg_id;
    };
    std::optional<HeldLine> held;
    // When this member was last told that its room holds its lines back.
    Clock::time_point told_held = Clock::time_point::min();
    // The new rooms this member may create (set by Join).
    TokenBucket room_creation{0, 0, {}};
    Permissions permissions;  // set by Join
  };
  struct Room {
    std::unique_ptr<RoomLog> log;
    std::vector<Member*> members;  // in join order
    std::size_t backlogged = 0;    // members whose queues are backlogged
    std::deque<Member*> held;      // members whose line waits, oldest first
  };

  // Server time stamped on messages (time_unix_ms).
  static std::int64_t NowUnixMs();

  Room& RoomLocked(const std::string& room) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Binds a reader to a free name, welcomes it and announces it, moving it to
  // `room` first if that is another room (refused with RESOURCE_EXHAUSTED if
  // that room may not be made; it stays a reader).
  grpc::Status NameReaderLocked(Member& member, const std::string& name, const std::string& room)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A new member (name "" for a reader), indexed by subscriber and name; not
  // in `room` yet, but that room may be made. Null, with `status` saying why,
  // if it may not (the room limits).
  Member* AddMemberLocked(Subscriber* subscriber, const std::string& name, const std::string& room,
                          grpc::Status* status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static std::string WelcomeText(const std::string& name);
  // Sends a joining member the room's history, or what it missed.
  void ReplayLocked(Member& member, Room& room, std::optional<std::uint64_t> resume_after,
                    std::optional<std::uint64_t> resume_epoch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AnnounceJoinLocked(Member& member) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EnterRoomLocked(Member& member, const std::string& room,
                       std::optional<std::uint64_t> resume_after,
                       std::optional<std::uint64_t> resume_epoch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ExitRoomLocked(Member& member, std::string_view reason) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes the member out of its room's lists (members, backlog count, held
  // lines), unannounced.
  void LeaveRoomListLocked(Member& member) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveLocked(Subscriber* subscriber, std::string_view reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Presence (see the class comment). A JOIN or LEAVE event about `member`,
  // who has just been added to or removed from `room`: broadcast, or held
  // when the room is big (the joiner then gets its own copy at once).
  void PresenceLocked(Member& member, Room& room, ChatMessage event)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Announces what `room` holds if `message` must not reach the room first:
  // any JOIN, LEAVE or RENAME, and chat or /me from someone whose join is held.
  void AnnounceHeldBeforeLocked(const std::string& room, const ChatMessage& message)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AnnounceHeldLocked(const std::string& room) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The presence alarm: announces the rooms that are due.
  void AnnounceDuePresence();
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
  // refuse more), and posts the held lines of rooms that are no longer
  // congested, until neither is left; then reclaims idle rooms. Every entry
  // point ends with it.
  void SettleLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DropRefusedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Overload (docs/architecture.md, "Overload"): a room is congested while
  // most of its members (two at least) are backlogged: the server, not one
  // reader, is behind. Its senders' chat lines are held back until it is not.
  bool CongestedLocked(const Room& room) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records what the member's subscriber says of its backlog.
  void SetBacklogLocked(Member& member, bool backlogged) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Says a chat line (CHAT or ACTION) in the member's room, or holds it back
  // if the room is congested.
  void PostLocked(Member& member, Kind kind, std::string text, std::string_view client_msg_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Posts held lines, oldest first, while the room is not congested.
  void ReleaseHeldLocked(Room& room) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

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

  // How often at most a member whose lines are held back is told why.
  static constexpr Clock::duration kHeldNoticeEvery = std::chrono::seconds(30);

  const HubOptions options_;
  ServerMetrics own_metrics_;     // when options_.metrics is null
  ServerMetrics* const metrics_;  // relaxed atomics: bumped under mu_ without cost

  mutable Mutex mu_;
  std::unordered_map<Subscriber*, std::unique_ptr<Member>> members_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<std::string, Member*> by_name_ ABSL_GUARDED_BY(mu_);  // key: NameKey()
  std::map<std::string, Room> rooms_ ABSL_GUARDED_BY(mu_);                 // key: normalised room
  // Which of rooms_ have members and which wait, empty, to be reclaimed.
  RoomLifecycle lifecycle_ ABSL_GUARDED_BY(mu_);
  LogThrottle room_limit_log_ ABSL_GUARDED_BY(mu_);        // the warning that max_rooms was reached
  std::vector<Subscriber*> refused_ ABSL_GUARDED_BY(mu_);  // Deliver said no; drop soon
  // Subscribers to Flush, and to Resume, once the mutex is released (each holds a Ref).
  std::vector<Subscriber*> to_flush_ ABSL_GUARDED_BY(mu_);
  std::vector<Subscriber*> to_resume_ ABSL_GUARDED_BY(mu_);
  // Rooms whose backlog count fell or whose membership shrank: they may post
  // held lines (SettleLocked). Keys of rooms_.
  std::vector<std::string> to_release_ ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  PresenceCoalescer presence_ ABSL_GUARDED_BY(mu_);
  // Null when presence is not coalesced. Last: stopped and destroyed first.
  std::unique_ptr<AlarmTimer> presence_timer_;
};

}  // namespace chat
