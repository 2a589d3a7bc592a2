// refserver: the simplest grpc-go broadcast server for chat.ChatService, a
// reference point for chat-server in docs/benchmarks.md (issue 12).
//
// Every stream is a member of one room. Each message a stream sends is sent,
// as received, to every OTHER open stream, with stream.Send called under one
// mutex. That is the point: no queues, no batching, no rooms, no names, no
// history, no echo to the sender; a client that stops reading stalls everyone
// (Send blocks on its flow-control window while holding the mutex). What
// chat-server does beyond this is what its benchmark numbers pay for.
//
// A stream is in the room once the server has sent its response headers
// (sent right after it is added), so a client knows from Header() returning
// that it will receive what is sent from then on.
//
// Stops on SIGINT/SIGTERM: GracefulStop, and Stop after 2 s.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"

	"grpc-chat/interop/go/chatpb"
)

// room is every open stream. mu guards members and serialises every Send and
// SendHeader: grpc-go allows one sender per stream at a time, and holding one
// mutex for all of them is the simplest way to get that.
type room struct {
	chatpb.UnimplementedChatServiceServer
	mu      sync.Mutex
	members map[chatpb.ChatService_ChatServer]struct{}
}

func (r *room) Chat(stream chatpb.ChatService_ChatServer) error {
	r.mu.Lock()
	r.members[stream] = struct{}{}
	err := stream.SendHeader(nil) // "you are in": see the package comment
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.members, stream)
		r.mu.Unlock()
	}()
	if err != nil {
		return err
	}
	for {
		msg, err := stream.Recv()
		if err == io.EOF {
			return nil // half-closed: finish with OK
		}
		if err != nil {
			return err
		}
		r.mu.Lock()
		for other := range r.members {
			if other != stream {
				// An error means that stream is ending; its own handler
				// sees the same error from Recv and removes it.
				_ = other.Send(msg)
			}
		}
		r.mu.Unlock()
	}
}

func main() {
	listen := flag.String("listen", "127.0.0.1:50052", "address to listen on (port 0: any free port)")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: refserver [--listen HOST:PORT]\n\n"+
			"The simplest grpc-go chat.ChatService: every message goes to every other\n"+
			"open stream, sent under one mutex. A reference for chat-server's benchmarks.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(os.Stderr, "refserver: %v\n", err)
		os.Exit(1)
	}
	srv := grpc.NewServer()
	chatpb.RegisterChatServiceServer(srv, &room{members: map[chatpb.ChatService_ChatServer]struct{}{}})

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-signals
		timer := time.AfterFunc(2*time.Second, srv.Stop)
		srv.GracefulStop()
		timer.Stop()
	}()
	fmt.Fprintf(os.Stderr, "refserver: listening on %s\n", lis.Addr())
	if err := srv.Serve(lis); err != nil {
		fmt.Fprintf(os.Stderr, "refserver: %v\n", err)
		os.Exit(1)
	}
}
