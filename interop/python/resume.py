"""The reconnection rules chat_client.py shares with the C++ and Go clients
(docs/interop.md, interop/testdata/resume.json): where the client is in each
room's log, which typed lines are tracked by client_msg_id, and which incoming
message settles a tracked line. Pure functions; no gRPC needed."""

KIND_GAP = 9  # chat.Kind values (proto/chat.proto)
KIND_ERROR = 8

BLANK = "blank"  # spaces and tabs only: not sent
COMMAND = "command"  # a command, or a malformed /me or /msg: sent, not tracked
ROOM = "room"  # said in the room (text, //text, /me): tracked, re-sent when unconfirmed
PRIVATE = "private"  # /msg NAME TEXT: tracked, reported (never re-sent) when unconfirmed


def advance(positions, message):
    """Applies one incoming message (not a batch: unpack batches first and pass
    each inner message in order) to `positions` (room -> (epoch, seq), the last
    seq shown in that room within its epoch) and says whether to show it.

    A GAP sets the room's position to its (epoch, seq); a room message from
    another epoch starts a new life of the room (position (epoch, 0)); a room
    message whose seq is not above the position was shown before: dropped."""
    if message.kind == KIND_GAP:
        positions[message.room] = (message.epoch, message.seq)
        return True
    if message.seq == 0 or not message.room:
        return True
    epoch, seq = positions.get(message.room, (0, 0))
    if message.epoch != epoch:
        epoch, seq = message.epoch, 0
    if message.seq <= seq:
        return False
    positions[message.room] = (epoch, message.seq)
    return True


def name_key(name):
    """The key that makes names unique regardless of case (ASCII only, as
    common/text_rules.cc)."""
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in name)


def classify(line):
    """How a typed line is sent, read as the server's command parser does
    (common/command.cc): BLANK, COMMAND, ROOM or PRIVATE."""
    if not line.strip(" \t"):
        return BLANK
    if not line.startswith("/") or line.startswith("//"):
        return ROOM
    name, _, rest = line[1:].partition(" ")
    rest = rest.strip(" ")
    name = name_key(name)
    if name == "me" and rest:
        return ROOM
    if name == "msg":
        _, space, text = rest.partition(" ")
        if space and text.strip(" "):
            return PRIVATE
    return COMMAND


def settles(name, message):
    """The client_msg_id that `message` settles for a client named `name` (its
    own echo, the same name ignoring case, or an ERROR carrying the id), or None."""
    if not message.client_msg_id:
        return None
    if message.kind == KIND_ERROR or name_key(message.user) == name_key(name):
        return message.client_msg_id
    return None
