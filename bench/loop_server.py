"""The proxies' shared start: an asyncio TCP server on 127.0.0.1 (a free port) whose event loop
runs in a daemon thread of its own, so a benchmark can keep calling blocking code meanwhile.
Used by bench.py's delaying `Proxy` (and so garage_apply_ab.py's `LoggingProxy`) and by
journal_share.py's HTTP-aware `Proxy`. No third-party imports.
"""
import asyncio
import threading


class LoopServer:
    """Subclasses define `async _client(reader, writer)`, called for each connection accepted,
    and set what it uses before calling `LoopServer.__init__` (which returns once listening)."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.port = None
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait()

    def _run(self, ready):
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = self.server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    async def _client(self, reader, writer):
        raise NotImplementedError

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"
