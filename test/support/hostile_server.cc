// hostile_server: a stub chat.ChatService for the clients' hostile-input tests.
//
// A real chat-server refuses control characters and never lets a name or a
// room hold one, so its clients never see a hostile byte. This stub sends
// whatever a test scripts: escape sequences, C1 controls, bidi and zero-width
// characters in user, room, message and subject, and inside batch frames.
//
//   hostile_server --script FILE [--listen ADDR] [--reply JSON]
//                  [--end-code N] [--end-message TEXT]
//
// FILE holds one ChatMessage a line in protobuf's JSON mapping (blank lines
// skipped). On every Chat stream the stub writes those frames in order, then
// reads what the client sends until it half-closes, answering each line that
// carries a client_msg_id with the --reply message (a ChatMessage in JSON,
// e.g. an ERROR refusing the line) given that id, and ends the stream with
// status --end-code (default 0, OK) and --end-message. It prints
// "hostile-server listening on 127.0.0.1:PORT" on stderr once it listens
// (port 0 picks a free one) and runs until SIGTERM or SIGINT. Exit codes: 0
// after a signal, 2 bad command line or script.
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chat.grpc.pb.h"

namespace {

struct Options {
  std::string listen = "127.0.0.1:0";
  std::string script;
  std::optional<chat::ChatMessage> reply;
  int end_code = 0;
  std::string end_message;
};

[[noreturn]] void Usage(const std::string& problem) {
  std::fprintf(stderr, "hostile-server: %s\n", problem.c_str());
  std::exit(2);
}

Options ParseArgs(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) Usage(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--listen") {
      options.listen = value;
    } else if (flag == "--script") {
      options.script = value;
    } else if (flag == "--reply") {
      options.reply.emplace();
      if (!google::protobuf::util::JsonStringToMessage(value, &*options.reply).ok()) {
        Usage("--reply: not a ChatMessage in JSON");
      }
    } else if (flag == "--end-code") {
      options.end_code = std::atoi(value.c_str());
    } else if (flag == "--end-message") {
      options.end_message = value;
    } else {
      Usage("unknown option " + flag);
    }
  }
  if (options.script.empty()) Usage("--script FILE is needed");
  return options;
}

std::vector<chat::ChatMessage> LoadScript(const std::string& path) {
  std::ifstream file(path);
  if (!file) Usage("cannot read " + path);
  std::vector<chat::ChatMessage> frames;
  std::string line;
  for (int number = 1; std::getline(file, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    chat::ChatMessage frame;
    if (!google::protobuf::util::JsonStringToMessage(line, &frame).ok()) {
      Usage(path + ":" + std::to_string(number) + ": not a ChatMessage in JSON");
    }
    frames.push_back(std::move(frame));
  }
  return frames;
}

// Sync API: one thread per stream is plenty for a test's few clients.
class HostileService final : public chat::ChatService::Service {
 public:
  explicit HostileService(Options options)
      : options_(std::move(options)), script_(LoadScript(options_.script)) {}

  grpc::Status Chat(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<chat::ChatMessage, chat::ChatMessage>* stream) override {
    for (const chat::ChatMessage& frame : script_) {
      if (!stream->Write(frame)) return grpc::Status::CANCELLED;
    }
    chat::ChatMessage line;
    while (stream->Read(&line)) {
      if (!options_.reply || line.client_msg_id().empty()) continue;
      chat::ChatMessage reply = *options_.reply;
      reply.set_client_msg_id(line.client_msg_id());
      if (!stream->Write(reply)) return grpc::Status::CANCELLED;
    }
    return grpc::Status(static_cast<grpc::StatusCode>(options_.end_code), options_.end_message);
  }

 private:
  const Options options_;
  const std::vector<chat::ChatMessage> script_;
};

}  // namespace

int main(int argc, char** argv) {
  Options options = ParseArgs(argc, argv);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before gRPC starts its threads

  const std::string listen = options.listen;
  HostileService service(std::move(options));
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) Usage("cannot listen on " + listen);
  const std::string host = listen.substr(0, listen.rfind(':'));
  std::fprintf(stderr, "hostile-server listening on %s:%d\n", host.c_str(), port);
  std::fflush(stderr);

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  return 0;
}
