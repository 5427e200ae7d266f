"""Python `websockets` as a client of netlab's echo server (interop tier).

Usage: python3 ws_py_client.py ws://127.0.0.1:PORT/
Prints one `ok <check>` line per check and exits non-zero on the first failure.
"""
import asyncio
import os
import sys

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError

SIZES = [0, 1, 125, 126, 65535, 65536, 1 << 20, 16 << 20]


def ok(what):
    print(f"ok {what}", flush=True)


async def main(url):
    async with connect(url, max_size=None, compression=None) as ws:
        for size in SIZES:
            data = os.urandom(size)
            await ws.send(data)
            echo = await ws.recv()
            assert echo == data, f"binary {size}: echo differs"
            text = ("κόσμε🦀" * (size // 14 + 1)).encode()[:size].decode(errors="ignore")
            await ws.send(text)
            echo = await ws.recv()
            assert echo == text, f"text {len(text)}: echo differs"
            ok(f"echo {size}")
        # A fragmented message: websockets sends each item of an iterable as a frame.
        await ws.send(["frag", "men", "", "ted ✓"])
        assert await ws.recv() == "fragmented ✓"
        await ws.send([b"\x00\x01", b"\x02"])
        assert await ws.recv() == b"\x00\x01\x02"
        ok("fragmented")
        pong = await ws.ping(b"netlab?")
        await asyncio.wait_for(pong, 5)
        ok("ping")
        await ws.close(code=4000, reason="done here")
        assert ws.close_code == 4000, f"close code {ws.close_code}"
        ok("close 4000")
    # A second connection: the server fails a bad text message with 1007.
    async with connect(url, compression=None) as ws:
        # websockets refuses to send invalid UTF-8 as text, so send raw frame bytes.
        from websockets.frames import Frame, Opcode
        ws.protocol.send_frame(Frame(Opcode.TEXT, b"\xff\xfe"))
        ws.send_data()
        try:
            await asyncio.wait_for(ws.recv(), 5)
            raise AssertionError("the server echoed invalid UTF-8")
        except ConnectionClosedError as e:
            assert e.rcvd is not None and e.rcvd.code == 1007, f"got {e.rcvd}"
        ok("invalid utf-8 -> 1007")
    print("ALL OK")


asyncio.run(main(sys.argv[1]))
