// chat-server's options: one table gives the command line, the checks of
// options built in code, and the start-up log line (server/server_options.cc).
#include "server/server_options.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <variant>
#include <vector>

#include "common/address.h"
#include "server/ops/config_file.h"
#include "test/support/test_server.h"

namespace chat {
namespace {

ServerOptions Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "chat-server");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  return ParseServerOptions(static_cast<int>(argv.size()), argv.data());
}

TEST(ServerOptionsTest, NoFlagsGiveTheDefaults) {
  const ServerOptions parsed = Parse({});
  const ServerOptions defaults;
  EXPECT_EQ(parsed.listen, defaults.listen);
  EXPECT_EQ(DescribeServerOptions(parsed), DescribeServerOptions(defaults));
  EXPECT_EQ(CheckServerOptions(defaults), std::nullopt);
}

TEST(ServerOptionsTest, EveryFlagSetsItsOption) {
  const ServerOptions o = Parse({"--listen",
                                 "0.0.0.0:7",
                                 "--history",
                                 "7",
                                 "--max-message-bytes",
                                 "100",
                                 "--queue-limit",
                                 "64",
                                 "--queue-bytes",
                                 "100000",
                                 "--rate-limit",
                                 "2.5",
                                 "--batch-linger-us",
                                 "0",
                                 "--presence-coalesce-above",
                                 "0",
                                 "--presence-interval-ms",
                                 "250",
                                 "--room-idle-seconds",
                                 "0",
                                 "--max-rooms",
                                 "3",
                                 "--new-rooms-per-minute",
                                 "0",
                                 "--max-streams-per-connection",
                                 "9",
                                 "--max-streams-per-ip",
                                 "11",
                                 "--max-connections",
                                 "500",
                                 "--max-connections-per-ip",
                                 "0",
                                 "--max-metadata-bytes",
                                 "4096",
                                 "--handshake-timeout-seconds",
                                 "3",
                                 "--tls-cert",
                                 "c.pem",
                                 "--tls-key",
                                 "k.pem",
                                 "--tls-client-ca",
                                 "ca.pem",
                                 "--tls-refresh-seconds",
                                 "5",
                                 "--allow-insecure",
                                 "--auth-jwt-key",
                                 "jwt.key",
                                 "--reflection=false",
                                 "--log-level",
                                 "warn",
                                 "--log-file",
                                 "chat.log",
                                 "--log-file-bytes",
                                 "8192",
                                 "--log-file-count",
                                 "2",
                                 "--log-format",
                                 "json"});
  EXPECT_EQ(o.listen, "0.0.0.0:7");
  EXPECT_EQ(o.history, 7u);
  EXPECT_EQ(o.max_message_bytes, 100u);
  EXPECT_EQ(o.queue_limit, 64u);
  EXPECT_EQ(o.queue_bytes, 100000u);
  EXPECT_EQ(o.rate_limit, 2.5);
  EXPECT_EQ(o.batch_linger.count(), 0);
  EXPECT_EQ(o.presence_coalesce_above, 0u);
  EXPECT_EQ(o.presence_interval.count(), 250);
  EXPECT_EQ(o.room_idle.count(), 0);
  EXPECT_EQ(o.max_rooms, 3u);
  EXPECT_EQ(o.new_rooms_per_minute, 0u);
  EXPECT_EQ(o.max_streams_per_connection, 9u);
  EXPECT_EQ(o.max_streams_per_ip, 11u);
  EXPECT_EQ(o.tls_cert, "c.pem");
  EXPECT_EQ(o.tls_key, "k.pem");
  EXPECT_EQ(o.tls_client_ca, "ca.pem");
  EXPECT_EQ(o.tls_refresh.count(), 5);
  EXPECT_TRUE(o.allow_insecure);
  EXPECT_EQ(o.auth_jwt_key, "jwt.key");
  EXPECT_FALSE(o.reflection);
  EXPECT_EQ(o.max_connections, 500u);
  EXPECT_EQ(o.max_connections_per_ip, 0u);
  EXPECT_EQ(o.max_metadata_bytes, 4096u);
  EXPECT_EQ(o.handshake_timeout.count(), 3);
  EXPECT_EQ(o.log_level, "warn");
  EXPECT_EQ(o.log_file, "chat.log");
  EXPECT_EQ(o.log_file_bytes, 8192u);
  EXPECT_EQ(o.log_file_count, 2u);
  EXPECT_EQ(o.log_format, "json");
  EXPECT_EQ(
      DescribeServerOptions(o),
      "--history 7 --max-message-bytes 100 --queue-limit 64 --queue-bytes 100000 "
      "--rate-limit 2.5 --batch-linger-us 0 --presence-coalesce-above 0 "
      "--presence-interval-ms 250 --room-idle-seconds 0 --max-rooms 3 "
      "--new-rooms-per-minute 0 --max-streams-per-connection 9 --max-streams-per-ip 11 "
      "--max-connections 500 --max-connections-per-ip 0 --max-metadata-bytes 4096 "
      "--handshake-timeout-seconds 3 --tls-cert c.pem --tls-key k.pem --tls-client-ca ca.pem "
      "--tls-refresh-seconds 5 --allow-insecure true --auth-jwt-key jwt.key --reflection false "
      "--log-level warn --log-file chat.log --log-file-bytes 8192 --log-file-count 2 --log-format "
      "json");
}

// The total connection limit is worked out from the descriptor limit unless
// given: "auto" on the command line, 0 in ServerOptions.
TEST(ServerOptionsTest, MaxConnectionsIsAutoByDefault) {
  EXPECT_EQ(Parse({}).max_connections, 0u);
  EXPECT_EQ(Parse({"--max-connections", "auto"}).max_connections, 0u);
  EXPECT_NE(DescribeServerOptions(ServerOptions{}).find("--max-connections auto "),
            std::string::npos);
  EXPECT_EQ(Parse({"--max-connections", "7"}).max_connections, 7u);
}

TEST(ServerOptionsDeathTest, ABadValueExitsTwoWithOneLineNamingTheOption) {
  EXPECT_EXIT(Parse({"--queue-limit", "8"}), ::testing::ExitedWithCode(2),
              "chat-server: --queue-limit must be a whole number from 16 to 10000000, not '8'");
  EXPECT_EXIT(Parse({"--history", "-1"}), ::testing::ExitedWithCode(2), "--history must be");
  EXPECT_EXIT(Parse({"--rate-limit", "fast"}), ::testing::ExitedWithCode(2),
              "--rate-limit must be a number");
  EXPECT_EXIT(Parse({"--log-level", "loud"}), ::testing::ExitedWithCode(2),
              "--log-level must be trace, debug, info, warn, error, critical or off, not 'loud'");
  EXPECT_EXIT(Parse({"--queue-bytes", "5000"}), ::testing::ExitedWithCode(2),
              "--queue-bytes must be at least 16 x --max-message-bytes \\+ 4096 \\(36864\\)");
  EXPECT_EXIT(Parse({"--max-connections", "0"}), ::testing::ExitedWithCode(2),
              "--max-connections must be auto or a whole number from 1 to 1048576, not '0'");
  EXPECT_EXIT(Parse({"--handshake-timeout-seconds", "0"}), ::testing::ExitedWithCode(2),
              "--handshake-timeout-seconds must be a whole number from 1 to 3600");
  EXPECT_EXIT(Parse({"--no-such-option"}), ::testing::ExitedWithCode(2), "no-such-option");
  EXPECT_EXIT(Parse({"--reflection=maybe"}), ::testing::ExitedWithCode(2),
              "--reflection must be true or false, not 'maybe'");
}

TEST(ServerOptionsDeathTest, PlainTextBeyondLoopbackMustBeAskedFor) {
  EXPECT_EXIT(Parse({"--listen", "0.0.0.0:50051"}), ::testing::ExitedWithCode(2),
              "listening on 0.0.0.0:50051 without TLS would send chat \\(and tokens\\) in clear "
              "text: give --tls-cert and --tls-key, or --allow-insecure");
  EXPECT_EQ(Parse({"--listen", "0.0.0.0:50051", "--allow-insecure"}).listen, "0.0.0.0:50051");
  EXPECT_EQ(Parse({"--listen", "[::]:1", "--tls-cert", "c", "--tls-key", "k"}).listen, "[::]:1");
  EXPECT_EXIT(Parse({"--tls-cert", "c.pem"}), ::testing::ExitedWithCode(2),
              "--tls-cert and --tls-key go together");
  EXPECT_EXIT(Parse({"--tls-client-ca", "ca.pem"}), ::testing::ExitedWithCode(2),
              "--tls-client-ca needs TLS");
}

TEST(AddressTest, LoopbackAddressesAreRecognised) {
  for (const char* address :
       {"127.0.0.1:50051", "127.1.2.3:0", "localhost:1", "[::1]:50051", "ipv4:127.0.0.1:5",
        "dns:///localhost:5", "unix:/tmp/s", "localhost"}) {
    EXPECT_TRUE(IsLoopbackAddress(address)) << address;
  }
  for (const char* address : {"0.0.0.0:50051", "[::]:50051", "10.0.0.1:1", "example.com:443",
                              "128.0.0.1:1", "localhost.example.com:1", "[::2]:1"}) {
    EXPECT_FALSE(IsLoopbackAddress(address)) << address;
  }
}

TEST(ServerOptionsTest, OptionsBuiltInCodeObeyTheSameRules) {
  ServerOptions small_queue;
  small_queue.queue_limit = 8;
  EXPECT_EQ(CheckServerOptions(small_queue),
            "--queue-limit must be a whole number from 16 to 10000000, not '8'");
  ServerOptions small_bytes;
  small_bytes.queue_bytes = 10000;
  EXPECT_NE(CheckServerOptions(small_bytes), std::nullopt);
  // So a server given them does not start.
  small_queue.listen = "127.0.0.1:0";
  testing::TestServer server(small_queue);
  EXPECT_FALSE(server.started());
}

}  // namespace
}  // namespace chat

namespace chat {
namespace {

// A config file in a temporary directory, removed with the object.
class ConfigFile {
 public:
  explicit ConfigFile(const std::string& text) {
    char name[] = "/tmp/chat-config-XXXXXX";
    const int fd = mkstemp(name);
    path_ = name;
    EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    close(fd);
  }
  ~ConfigFile() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(ConfigFileTest, SetsEveryKindOfValue) {
  const ConfigFile file(
      "# a comment\nhistory = 7\nrate-limit = 2.5\nreflection = false\n"
      "listen = \"0.0.0.0:7\"\nmax-connections = \"auto\"\nallow-insecure = true\n");
  ServerOptions options;
  EXPECT_EQ(ApplyConfigFile(file.path(), options), std::nullopt);
  EXPECT_EQ(options.history, 7u);
  EXPECT_EQ(options.rate_limit, 2.5);
  EXPECT_FALSE(options.reflection);
  EXPECT_EQ(options.listen, "0.0.0.0:7");
  EXPECT_EQ(options.max_connections, 0u);
  EXPECT_TRUE(options.allow_insecure);
}

TEST(ConfigFileTest, AnUnknownKeyIsNamedWithItsLine) {
  const ConfigFile file("history = 7\n\nhistroy = 8\n");
  ServerOptions options;
  EXPECT_EQ(ApplyConfigFile(file.path(), options), file.path() + ":3: unknown option 'histroy'");
}

TEST(ConfigFileTest, ABadValueIsNamedWithItsLineAndRange) {
  ServerOptions options;
  const ConfigFile negative("history = -1\n");
  EXPECT_EQ(ApplyConfigFile(negative.path(), options),
            negative.path() + ":1: history must be a whole number from 0 to 100000, not '-1'");
  const ConfigFile wrong_type("reflection = \"no\"\n");
  EXPECT_EQ(ApplyConfigFile(wrong_type.path(), options),
            wrong_type.path() + ":1: reflection must be true or false");
  const ConfigFile table("[server]\nhistory = 1\n");
  EXPECT_EQ(ApplyConfigFile(table.path(), options), table.path() + ":1: unknown option 'server'");
  const ConfigFile syntax("history = = 1\n");
  EXPECT_NE(ApplyConfigFile(syntax.path(), options), std::nullopt);
  EXPECT_EQ(ApplyConfigFile("/nonexistent/chat.toml", options).value().rfind("--config", 0), 0u);
}

TEST(ConfigFileTest, TheCommandLineWinsOverTheFile) {
  const ConfigFile file("history = 7\nrate-limit = 3\n");
  std::vector<std::string> args = {"chat-server", "--config", file.path(), "--history", "9"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  const ServerCommandLine line = ParseServerCommandLine(static_cast<int>(argv.size()), argv.data());
  EXPECT_EQ(line.options.history, 9u);
  EXPECT_EQ(line.options.rate_limit, 3);
  EXPECT_EQ(line.config_file, file.path());
  // And on a reload too.
  const auto reloaded = ReloadServerOptions(line);
  ASSERT_TRUE(std::holds_alternative<ServerOptions>(reloaded));
  EXPECT_EQ(std::get<ServerOptions>(reloaded).history, 9u);
}

TEST(ConfigFileTest, ChangesSayWhichApplyLive) {
  ServerOptions before;
  ServerOptions after = before;
  after.history = 9;
  after.log_level = "debug";
  const auto changes = ChangedServerOptions(before, after);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].name, "history");
  EXPECT_FALSE(changes[0].live);
  EXPECT_EQ(changes[1].name, "log-level");
  EXPECT_EQ(changes[1].before, "info");
  EXPECT_EQ(changes[1].after, "debug");
  EXPECT_TRUE(changes[1].live);
}

TEST(ConfigFileTest, TheExampleSetsEveryOptionToItsDefault) {
  // Uncommented, the example is a valid file that changes nothing.
  std::string text = ExampleConfigFile();
  std::string uncommented;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    std::string line = text.substr(start, end - start);
    if (line.size() > 1 && line[0] == '#' && line[1] != ' ') line.erase(0, 1);
    uncommented += line + "\n";
    start = end + 1;
  }
  const ConfigFile file(uncommented);
  ServerOptions options;
  options.history = 1;
  EXPECT_EQ(ApplyConfigFile(file.path(), options), std::nullopt);
  EXPECT_EQ(DescribeServerOptions(options), DescribeServerOptions(ServerOptions{}));
}

}  // namespace
}  // namespace chat
