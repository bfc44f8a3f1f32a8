"""Waiting for an emulator to serve: what every client of one (the facade's channel, the remote
client, the plugin) does first."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def wait_until_serving(channel: grpc.Channel, timeout: float) -> None:
    """Block until the server answers a health check. (Not grpc.channel_ready_future:
    a channel it watched takes 200 ms to close, grpc's connectivity polling interval.)"""
    health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=timeout, wait_for_ready=True)
