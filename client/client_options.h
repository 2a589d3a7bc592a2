#pragma once

#include "client/session.h"

namespace chat {

struct ClientOptions {
  SessionOptions session;
  bool color = true;
  bool bell = true;  // ring the terminal bell when someone mentions you
};

// Parses the command line and the environment (CHAT_SERVER, CHAT_NAME,
// CHAT_ROOM, CHAT_TOKEN, NO_COLOR, USER). --help prints help and exits 0; a bad option
// or value prints one line and exits 2.
ClientOptions ParseClientOptions(int argc, char** argv);

}  // namespace chat
