"""Test-wide guards: nothing leaves the machine, and no test reaches a real translator."""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Tests never use a real translation service; tests that translate start a
# LibreTranslate-compatible server on loopback and point at it explicitly.
os.environ["REAIM_TRANSLATOR"] = "none"
# Every peer in the tests is on 127.0.0.1: opt in to loopback targets, which the
# crawler refuses by default (tests that check the refusal unset this).
os.environ["REAIM_ALLOW_PRIVATE"] = "1"
os.environ.pop("REAIM_TRANSLATOR_URL", None)
os.environ.pop("REAIM_DB", None)
sys.path.insert(0, str(Path(__file__).parent))
# No translation key, secrets file or budget from the developer's environment (every test module).
from pipeline.translate import BUDGET_ENV, KEY_ENV, SECRETS_ENV  # noqa: E402

for _name in (BUDGET_ENV, SECRETS_ENV, *KEY_ENV.values()):
    os.environ.pop(_name, None)

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _check(self: socket.socket, address: object) -> None:
    """Refuse any connection that is not to 127.0.0.0/8, ::1 or a Unix socket."""
    if self.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
        host = address[0]
        try:
            ok = ipaddress.ip_address(host).is_loopback
        except ValueError:
            ok = host == "localhost"
        if not ok:
            raise ConnectionRefusedError(f"tests may only connect to loopback, not {host}")


def _connect(self: socket.socket, address: object) -> None:
    _check(self, address)
    return _real_connect(self, address)


def _connect_ex(self: socket.socket, address: object) -> int:
    _check(self, address)
    return _real_connect_ex(self, address)


socket.socket.connect = _connect  # type: ignore[method-assign]
socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign]


@pytest.fixture
def libre():
    from servers.libre import LibreServer

    with LibreServer() as server:
        yield server


@pytest.fixture
def plugin() -> Iterator[None]:
    """The plugin as the entry point loads it; registered here when the package's entry point isn't (yet)."""
    from datasette.plugins import pm

    import archive.datasette_plugin as module

    registered = any(getattr(p, "__name__", "") == module.__name__ or p is module for p in pm.get_plugins())
    if not registered:
        pm.register(module, name="reaim-test")
    yield
    if not registered:
        pm.unregister(module)
