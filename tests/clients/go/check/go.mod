module ycrtest/check

go 1.21

// The lowest versions the SDKs use: a program's own module selects its SDK's.
require (
	google.golang.org/genproto/googleapis/rpc v0.0.0-20240903143218-8af14fe29dc1
	google.golang.org/grpc v1.66.2
	google.golang.org/protobuf v1.34.2
)
