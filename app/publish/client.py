"""A watcher's side of the socket: connect, read the run's lines, send requests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

from app.publish.paths import socket_path

# The longest line the run sends (a view, a hello with a long routine's steps).
LINE_LIMIT = 1 << 20


class RunConnection:
    """One connection to a published run."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def messages(self) -> AsyncIterator[dict[str, object]]:
        """The run's objects in order, until the run closes the connection."""
        while True:
            try:
                raw = await self.reader.readline()
            except (ConnectionError, OSError, ValueError):
                return
            if not raw:
                return
            try:
                msg = json.loads(raw)
            except ValueError:
                continue  # a torn line cannot be read; the next view repairs the picture
            if isinstance(msg, dict):
                yield msg

    async def send(self, obj: dict[str, object]) -> bool:
        """False when the run is gone."""
        try:
            self.writer.write((json.dumps(obj) + "\n").encode())
            await self.writer.drain()
        except (ConnectionError, OSError):
            return False
        return True

    async def request(self, name: str) -> bool:
        return await self.send({"request": name})

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, OSError):
            pass


async def connect(path: Path | None = None, *, control: bool = False) -> RunConnection | None:
    """The running run's connection, or None when no run is published there."""
    target = path or socket_path()
    try:
        reader, writer = await asyncio.open_unix_connection(str(target), limit=LINE_LIMIT)
    except (FileNotFoundError, ConnectionRefusedError, NotADirectoryError):
        return None
    conn = RunConnection(reader, writer)
    if not await conn.send({"hello": 1, "control": control}):
        return None
    return conn
