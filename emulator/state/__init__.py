"""The emulator's state: records, collections and their indexes, operations, seeds. Plain Python: no gRPC, no protobuf."""
