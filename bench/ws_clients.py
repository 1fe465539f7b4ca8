#!/usr/bin/env python3
"""Holds many authenticated WebSocket connections open on trustgate-gateway (bench/run).

    ws_clients.py --port P --connections N [--sources K] [--sample S] [--user U]

Opens N connections to ws://127.0.0.1:P/ws as a same-host proxy would (X-Forwarded-User,
X-Forwarded-For), spreading them over K source addresses 127.0.0.1..127.0.0.K so that no
source runs short of ephemeral ports, and prints one JSON line:
{"opened":…,"failed":…,"seconds":…,"first_error":…}. It then waits for a line on
standard input, sends an RPC frame on S randomly chosen connections, prints
{"sampled":…,"alive":…} and exits, which closes everything.

Standard library only, one thread, the smallest WebSocket client that does the job: the
handshake (Sec-WebSocket-Accept checked), masked text frames out, frames in (pings
answered).
"""
import argparse
import asyncio
import base64
import hashlib
import json
import os
import random
import struct
import sys
import time

WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OPCODE_TEXT, OPCODE_CLOSE, OPCODE_PING, OPCODE_PONG = 0x1, 0x8, 0x9, 0xA
IN_FLIGHT = 256  # handshakes under way at once: enough to keep the server busy
TIMEOUT_SECONDS = 30


def upgrade_request(user, key):
    return (f"GET /ws HTTP/1.1\r\nHost: gateway.example.com\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"X-Forwarded-User: {user}\r\nX-Forwarded-For: 203.0.113.50\r\n\r\n").encode()


def expected_accept(key):
    return base64.b64encode(hashlib.sha1(key.encode() + WEBSOCKET_GUID).digest()).decode()


async def open_connection(port, source, user):
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(upgrade_request(user, key))
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        status = head.split("\r\n", 1)[0]
        if not status.startswith("HTTP/1.1 101"):
            raise ConnectionError(f"upgrade refused: {status}")
        if f"sec-websocket-accept: {expected_accept(key)}".lower() not in head.lower():
            raise ConnectionError("wrong Sec-WebSocket-Accept")
        return reader, writer
    except BaseException:
        writer.close()
        raise


def client_frame(opcode, payload):
    """A final, masked frame (RFC 6455 §5.2); the payloads here stay under 64 KiB."""
    mask = os.urandom(4)
    length = len(payload)
    header = bytes([0x80 | opcode]) + (bytes([0x80 | length]) if length < 126 else struct.pack("!BH", 0x80 | 126, length))
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def read_frame(reader):
    first, second = await reader.readexactly(2)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", await reader.readexactly(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", await reader.readexactly(8))
    return first & 0x0F, await reader.readexactly(length)


async def rpc_answers(reader, writer, request_id):
    """Sends one RPC frame and tells whether the gateway answered it with ok:true."""
    writer.write(client_frame(OPCODE_TEXT, json.dumps({"id": request_id, "method": "health", "params": {}}).encode()))
    while True:
        opcode, payload = await read_frame(reader)
        if opcode == OPCODE_PING:
            writer.write(client_frame(OPCODE_PONG, payload))
        elif opcode == OPCODE_TEXT:
            answer = json.loads(payload)
            return answer.get("id") == request_id and answer.get("ok") is True
        else:
            return False


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--sources", type=int, default=10, help="source addresses 127.0.0.1..127.0.0.K")
    parser.add_argument("--sample", type=int, default=100)
    parser.add_argument("--user", default="user42@example.com")
    args = parser.parse_args()

    gate = asyncio.Semaphore(IN_FLIGHT)
    errors = []

    async def open_one(i):
        async with gate:
            try:
                return await asyncio.wait_for(open_connection(args.port, f"127.0.0.{1 + i % args.sources}", args.user), TIMEOUT_SECONDS)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as e:
                errors.append(f"{type(e).__name__}: {e}")
                return None

    started = time.monotonic()
    results = await asyncio.gather(*(open_one(i) for i in range(args.connections)))
    seconds = time.monotonic() - started
    connections = [c for c in results if c is not None]
    print(json.dumps({"opened": len(connections), "failed": len(errors), "seconds": round(seconds, 3),
                      "first_error": errors[0] if errors else None}), flush=True)

    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    sample = random.sample(connections, min(args.sample, len(connections)))
    alive = 0
    for request_id, (reader, writer) in enumerate(sample, 1):
        try:
            alive += await asyncio.wait_for(rpc_answers(reader, writer, request_id), TIMEOUT_SECONDS)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError):
            pass
    print(json.dumps({"sampled": len(sample), "alive": alive}), flush=True)
    for _, writer in connections:
        writer.close()


if __name__ == "__main__":
    asyncio.run(main())
