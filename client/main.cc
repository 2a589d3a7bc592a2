// chat-client: parses options and runs the client.
#include "client/client_app.h"
#include "client/client_options.h"

int main(int argc, char** argv) { return chat::RunClient(chat::ParseClientOptions(argc, argv)); }
