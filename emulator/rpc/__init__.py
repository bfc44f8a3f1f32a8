"""Serving the state over gRPC: the request pipeline, one module per service, server assembly."""
