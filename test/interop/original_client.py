"""A line client built from the original two-field ChatMessage (chat_original.proto).

It sends no metadata: `user` on each message names the stream (the server
binds the name from the first one) and the first room is the lobby. It
prints each received message as "SENDER TEXT" (sanitized): all it can know.

Usage: original_client.py --server HOST:PORT --name NAME --gen-dir DIR
where DIR holds chat_original_pb2*.py generated from chat_original.proto.
Exit codes as the other clients: 0 done, 1 unreachable or stream error.
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "interop", "python"))

import plain_format  # noqa: E402

PROGRAM = "original-client"


def fail(reason):
    sys.stderr.write("%s: %s\n" % (PROGRAM, plain_format.sanitize(reason)))
    sys.stderr.flush()
    os._exit(1)  # not sys.exit: gRPC's thread may be blocked reading stdin


def main():
    parser = argparse.ArgumentParser(prog=PROGRAM)
    parser.add_argument("--server", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--gen-dir", required=True)
    args = parser.parse_args()
    sys.path.insert(0, args.gen_dir)
    import grpc
    import chat_original_pb2 as pb
    import chat_original_pb2_grpc as pb_grpc

    # The generated class must really be the two-field one.
    assert [f.name for f in pb.ChatMessage.DESCRIPTOR.fields] == ["user", "message"]

    channel = grpc.insecure_channel(args.server)
    try:
        grpc.channel_ready_future(channel).result(timeout=5)
    except grpc.FutureTimeoutError:
        fail("cannot reach the server at %s" % args.server)

    def requests():
        for raw in sys.stdin.buffer:
            line = plain_format.decode_utf8(raw).rstrip("\n")
            if line:
                yield pb.ChatMessage(user=args.name, message=line)

    out = sys.stdout.buffer
    try:
        for message in pb_grpc.ChatServiceStub(channel).Chat(requests()):
            text = "%s %s" % (plain_format.sanitize(message.user), plain_format.sanitize(message.message))
            out.write(text.encode("utf-8") + b"\n")
            out.flush()
    except grpc.RpcError as error:
        fail("the server ended the stream: %s: %s" % (error.code().name, error.details()))
    channel.close()
    out.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
