#include "server/presence_coalescer.h"

#include <algorithm>

#include "common/protocol_keys.h"
#include "common/text_rules.h"

namespace chat {
namespace {

constexpr std::size_t kNamesShown = 3;

// "ana", "ana and bo", "ana, bo and cy", "ana, bo, cy and 1 other",
// "ana, bo, cy and 9 others".
std::string NameList(const std::vector<std::string>& names) {
  const std::size_t shown = names.size() > kNamesShown ? kNamesShown : names.size();
  std::string out;
  for (std::size_t i = 0; i < shown; ++i) {
    if (i > 0) out += (i + 1 == shown && names.size() == shown) ? " and " : ", ";
    out += names[i];
  }
  if (const std::size_t others = names.size() - shown; others > 0) {
    out += " and " + std::to_string(others) + (others == 1 ? " other" : " others");
  }
  return out;
}

}  // namespace

std::string PresenceText(const PresenceChange& change) {
  std::string text;
  if (!change.joined.empty()) {
    text = std::to_string(change.joined.size()) + " joined #" + change.room + ": " +
           NameList(change.joined);
  }
  if (!change.left.empty()) {
    text += text.empty() ? std::to_string(change.left.size()) + " left #" + change.room + ": "
                         : "; " + std::to_string(change.left.size()) + " left: ";
    text += NameList(change.left);
  }
  return text;
}

ChatMessage PresenceMessage(const PresenceChange& change) {
  ChatMessage message;
  message.set_kind(PRESENCE);
  message.set_user(std::string(kServerUser));
  message.set_room(change.room);
  message.set_message(PresenceText(change));
  for (const std::string& name : change.joined) message.add_joined(name);
  for (const std::string& name : change.left) message.add_left(name);
  return message;
}

PresenceCoalescer::PresenceCoalescer(std::size_t coalesce_above, Clock::duration interval)
    : coalesce_above_(coalesce_above), interval_(interval) {}

std::optional<Clock::time_point> PresenceCoalescer::Joined(const std::string& room,
                                                           const std::string& name,
                                                           Clock::time_point now) {
  return Record(room, name, true, now);
}

std::optional<Clock::time_point> PresenceCoalescer::Left(const std::string& room,
                                                         const std::string& name,
                                                         Clock::time_point now) {
  return Record(room, name, false, now);
}

std::optional<Clock::time_point> PresenceCoalescer::Record(const std::string& room,
                                                           const std::string& name, bool present,
                                                           Clock::time_point now) {
  auto [it, first] = rooms_.try_emplace(room);
  Held& held = it->second;
  if (first) held.due = now + interval_;
  const auto [at, is_new] = held.at.try_emplace(NameKey(name), held.people.size());
  if (is_new) {
    // Someone joining was not in the room; someone leaving was, as far as
    // the room knows (their join was announced, or came before coalescing).
    held.people.push_back({name, !present, present});
  } else {
    Person& person = held.people[at->second];
    person.name = name;
    person.present = present;
  }
  return first ? std::optional(held.due) : std::nullopt;
}

bool PresenceCoalescer::HoldsJoinOf(const std::string& room, const std::string& name) const {
  const auto it = rooms_.find(room);
  if (it == rooms_.end()) return false;
  const auto at = it->second.at.find(NameKey(name));
  if (at == it->second.at.end()) return false;
  const Person& person = it->second.people[at->second];
  return person.present && !person.heard;
}

std::optional<PresenceChange> PresenceCoalescer::Take(const std::string& room) {
  const auto it = rooms_.find(room);
  if (it == rooms_.end()) return std::nullopt;
  PresenceChange change{room, {}, {}};
  for (const Person& person : it->second.people) {
    if (person.present && !person.heard) change.joined.push_back(person.name);
    if (!person.present && person.heard) change.left.push_back(person.name);
  }
  rooms_.erase(it);
  if (change.joined.empty() && change.left.empty()) return std::nullopt;
  return change;
}

std::vector<PresenceChange> PresenceCoalescer::TakeDue(Clock::time_point now) {
  std::vector<std::pair<Clock::time_point, std::string>> due;
  for (const auto& [room, held] : rooms_) {
    if (held.due <= now) due.emplace_back(held.due, room);
  }
  std::sort(due.begin(), due.end());
  std::vector<PresenceChange> changes;
  for (const auto& [when, room] : due) {
    if (auto change = Take(room)) changes.push_back(std::move(*change));
  }
  return changes;
}

std::optional<Clock::time_point> PresenceCoalescer::NextDue() const {
  std::optional<Clock::time_point> next;
  for (const auto& [room, held] : rooms_) {
    if (!next || held.due < *next) next = held.due;
  }
  return next;
}

}  // namespace chat
