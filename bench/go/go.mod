// Load tools for docs/benchmarks.md (issue 12): chatload, a grpc-go load
// generator, and refserver, the simplest grpc-go broadcast server. A module
// of its own, so the interop client's module (and the Go tests ctest runs
// there) do not grow benchmark code; chatpb is reused through the replace.
module grpc-chat/bench/go

go 1.26.0

require (
	google.golang.org/grpc v1.85.0
	grpc-chat/interop/go v0.0.0
)

require (
	golang.org/x/net v0.60.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/text v0.42.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260817212433-ac3dfec99bb1 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace grpc-chat/interop/go => ../../interop/go
