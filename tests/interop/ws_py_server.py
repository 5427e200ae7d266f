"""Python `websockets` as a server for netlab's client (interop tier).

Prints `listening on PORT`, then serves one behaviour per message:
  "close-me"        → the server closes with 4001 "bye"
  "ping-me"         → the server pings, waits for the pong, answers "ponged"
  "fragment-me"     → the answer "fragmented ✓" comes in four frames
  anything else     → echoed as received (text or binary)
"""
import asyncio

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed


async def handler(ws):
    try:
        await serve_one(ws)
    except ConnectionClosed:
        pass  # any close code is fine here: the Rust side checks it


async def serve_one(ws):
    async for msg in ws:
        if msg == "close-me":
            await ws.close(code=4001, reason="bye")
        elif msg == "ping-me":
            pong = await ws.ping(b"from python")
            await asyncio.wait_for(pong, 5)
            await ws.send("ponged")
        elif msg == "fragment-me":
            await ws.send(["frag", "men", "ted", " ✓"])
        else:
            await ws.send(msg)


async def main():
    async with serve(handler, "127.0.0.1", 0, max_size=None, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on {port}", flush=True)
        await asyncio.get_running_loop().create_future()


asyncio.run(main())
