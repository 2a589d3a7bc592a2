// chat-server's options: one table gives the command line, the checks of
// options built in code, and the start-up log line (server/server_options.cc).
#include "server/server_options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/address.h"
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
                                 "warn"});
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
  EXPECT_EQ(
      DescribeServerOptions(o),
      "--history 7 --max-message-bytes 100 --queue-limit 64 --queue-bytes 100000 "
      "--rate-limit 2.5 --batch-linger-us 0 --presence-coalesce-above 0 "
      "--presence-interval-ms 250 --room-idle-seconds 0 --max-rooms 3 "
      "--new-rooms-per-minute 0 --max-streams-per-connection 9 --max-streams-per-ip 11 "
      "--max-connections 500 --max-connections-per-ip 0 --max-metadata-bytes 4096 "
      "--handshake-timeout-seconds 3 --tls-cert c.pem --tls-key k.pem --tls-client-ca ca.pem "
      "--tls-refresh-seconds 5 --allow-insecure true --auth-jwt-key jwt.key --reflection false "
      "--log-level warn");
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
