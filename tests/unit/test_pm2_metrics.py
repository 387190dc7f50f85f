"""Metrics for `pm2 monit` go over PM2's IPC channel as JSON lines; agents never get it."""

import json
import os
import socket

from pipeline.agent.presets import build_env
from pipeline.daemon.pm2_metrics import Pm2Metrics
from pipeline.domain.settings import Settings


def test_metrics_are_sent_as_axm_monitor_json_lines() -> None:
    ours, pm2_side = socket.socketpair()
    try:
        metrics = Pm2Metrics({"NODE_CHANNEL_FD": str(ours.fileno())})
        metrics.send({"queue length": 3, "queue level": "ok"})
        message = json.loads(pm2_side.recv(4096).decode().rstrip("\n"))
    finally:
        ours.close()
        pm2_side.close()
    assert message == {"type": "axm:monitor", "data": {"queue length": {"value": 3},
                                                      "queue level": {"value": "ok"}}}
    metrics.send({"queue length": 4})  # the channel is gone: turned off, no error
    assert metrics.fd is None


def test_outside_pm2_nothing_is_sent() -> None:
    assert Pm2Metrics({}).fd is None
    Pm2Metrics({}).send({"x": 1})


def test_agents_do_not_inherit_pm2s_channel() -> None:
    env = build_env(Settings(), base={"PATH": os.defpath, "NODE_CHANNEL_FD": "3",
                                      "NODE_CHANNEL_SERIALIZATION_MODE": "json"})
    assert "NODE_CHANNEL_FD" not in env and "NODE_CHANNEL_SERIALIZATION_MODE" not in env
