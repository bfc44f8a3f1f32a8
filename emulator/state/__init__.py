"""The emulator's state: records, collections and their indexes, operations, seeds. Plain Python: no gRPC (protobuf only where a seed holds the API's own JSON, in seed.py)."""
