"""A fault-injection TCP proxy on 127.0.0.1, for syncing over a link as bad as 2G in the hills.

Every accepted connection is forwarded to the target server. With
probability `failure_rate` the connection is given one fault at a random
point: a byte count in the request (client -> server) or in the response
(server -> client), where the proxy then

* drops: closes both sides (FIN), as when the signal goes;
* resets: closes both sides with RST (SO_LINGER 0);
* truncates: forwards the bytes before the point, then closes;
* stalls: stops forwarding for longer than the client's read timeout.

Some other connections are only delayed (slow but whole). The proxy counts
connections and faults so a test can say how bad the link was.
"""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

#: Faults and how often each strikes: a stall costs the client a whole read timeout, so it is
#: rarer than the others (the test's time goes into waiting for it).
FAULTS = {"drop": 10, "reset": 10, "truncate": 10, "stall": 1}


@dataclass
class Plan:
    fault: str | None = None
    direction: str = "response"  # "request" or "response"
    at: int = 0  # byte count in that direction where the fault strikes
    delay: float = 0.0  # a healthy connection may still be slow


@dataclass
class Stats:
    connections: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    bytes_up: int = 0  # client -> server, as forwarded
    bytes_down: int = 0  # server -> client

    @property
    def wire_bytes(self) -> int:
        return self.bytes_up + self.bytes_down

    @property
    def failed(self) -> int:
        return sum(self.faults.values())


class FaultyProxy:
    def __init__(
        self,
        target_port: int,
        *,
        failure_rate: float = 0.2,
        delay_rate: float = 0.1,
        max_delay: float = 0.05,
        stall: float = 2.0,
        seed: int | None = None,
    ) -> None:
        self.target = ("127.0.0.1", target_port)
        self.failure_rate = failure_rate
        self.delay_rate = delay_rate
        self.max_delay = max_delay
        self.stall = stall
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.stats = Stats()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> FaultyProxy:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.listener.close()

    def _plan(self) -> Plan:
        with self.lock:
            self.stats.connections += 1
            if self.rng.random() < self.failure_rate:
                fault = self.rng.choices(list(FAULTS), weights=list(FAULTS.values()))[0]
                direction = self.rng.choice(("request", "response"))
                # Requests and responses of the sync API are a few hundred bytes and up:
                # a point in the first 600 bytes lands inside almost every one of them.
                plan = Plan(fault, direction, self.rng.randrange(0, 600))
                self.stats.faults[fault] = self.stats.faults.get(fault, 0) + 1
                return plan
            if self.rng.random() < self.delay_rate:
                return Plan(delay=self.rng.uniform(0, self.max_delay))
            return Plan()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _addr = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._connection, args=(client,), daemon=True).start()

    def _connection(self, client: socket.socket) -> None:
        plan = self._plan()
        try:
            upstream = socket.create_connection(self.target, timeout=10)
        except OSError:
            _close(client, reset=True)
            return
        done = threading.Event()
        args = (plan, done)
        up = threading.Thread(target=self._pump, args=(client, upstream, "request", *args))
        down = threading.Thread(target=self._pump, args=(upstream, client, "response", *args))
        up.start()
        down.start()
        up.join()
        down.join()
        _close(client, reset=False)
        _close(upstream, reset=False)

    def _pump(self, source, sink, direction: str, plan: Plan, done: threading.Event) -> None:
        sent = 0
        try:
            source.settimeout(0.5)
        except OSError:  # the other direction struck and closed it
            return
        if plan.delay and direction == "response":
            time.sleep(plan.delay)
        while not done.is_set():
            try:
                data = source.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            if plan.fault and plan.direction == direction and sent + len(data) > plan.at:
                head = data[: max(0, plan.at - sent)]
                self._strike(plan, source, sink, head, done)
                return
            try:
                sink.sendall(data)
            except OSError:
                break
            sent += len(data)
            with self.lock:
                if direction == "request":
                    self.stats.bytes_up += len(data)
                else:
                    self.stats.bytes_down += len(data)
        # One side finished: pass the end on (half-close), the other pump ends on its own.
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
        if direction == "response":
            done.set()

    def _strike(self, plan: Plan, source, sink, head: bytes, done: threading.Event) -> None:
        if plan.fault in ("truncate", "drop") and head:
            with contextlib.suppress(OSError):
                sink.sendall(head if plan.fault == "truncate" else b"")
        if plan.fault == "stall":
            time.sleep(self.stall)
        done.set()
        reset = plan.fault == "reset"
        _close(source, reset=reset)
        _close(sink, reset=reset)


def _close(sock: socket.socket, *, reset: bool) -> None:
    """Close `sock` now: FIN, or RST when `reset`.

    The other pump may be blocked in `recv` on this socket. Linux releases a socket only when
    every system call using it has returned, so a bare `close()` sent the FIN (or RST) up to
    that pump's 0.5 s timeout late, and every fault cost the client that wait instead of the
    cut it stands for. `shutdown(SHUT_RD)` wakes the blocked `recv` first, sending nothing.
    """
    try:
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):  # not connected any more
            sock.shutdown(socket.SHUT_RD)
        sock.close()
    except OSError:
        pass
