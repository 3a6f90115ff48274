"""Jump-host connections shared by every target behind them.

Hundreds of computes behind one bastion would otherwise mean hundreds of SSH
logins to the bastion, many at once: slow, noisy in its auth log, and cut short
by sshd's ``MaxStartups`` (by default it starts refusing new unauthenticated
connections beyond 10). Here a process opens each jump host (each prefix of a
jump chain, with the same user, keys, known_hosts and host-key policy) once,
and every target behind it gets its own ``direct-tcpip`` channel on that one
connection. A hop's connection is closed when its last target lets it go; a
hop found dead is opened again for the next target.

>>> direct = SshOptions(target=Endpoint(alias="c0", hostname="10.0.0.1", port=22, user="root"))
>>> pool = JumpHostPool()
>>> pool.acquire(direct, lambda via, hop: None), pool.opened      # no jump host: nothing to open
([], 0)
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import paramiko

from vrouter_preflight.transport.ssh_options import Endpoint, SshOptions

OpenHop = Callable[["paramiko.Transport | None", Endpoint], paramiko.Transport]
"""Opens one hop: through the previous hop's connection (``None`` for the first), returns its transport."""


def hop_keys(options: SshOptions) -> tuple[Hashable, ...]:
    """One key per jump-chain prefix: what must match for two targets to share that hop.

    >>> from vrouter_preflight.transport.ssh_options import Endpoint
    >>> bastion = Endpoint(alias="b", hostname="192.0.2.1", port=22, user="ops")
    >>> a = SshOptions(target=Endpoint(alias="c0", hostname="10.0.0.1", port=22, user="root"), jumps=(bastion,))
    >>> b = SshOptions(target=Endpoint(alias="c1", hostname="10.0.0.2", port=22, user="root"), jumps=(bastion,))
    >>> hop_keys(a) == hop_keys(b), len(hop_keys(a))
    (True, 1)
    """
    trust = (options.known_hosts, options.extra_known_hosts, options.host_key_policy)
    return tuple((trust, options.jumps[: depth + 1]) for depth in range(len(options.jumps)))


@dataclass
class _Hop:
    key: Hashable
    transport: paramiko.Transport
    users: int = 1


class JumpHostPool:
    """The jump-host connections of this process, shared and counted by the targets using them.

    ``share=False`` opens every hop per target (the behaviour before sharing;
    ``bench/gather_bench.py`` uses it as the baseline). ``opened`` counts hop
    connections made.
    """

    def __init__(self, *, share: bool = True) -> None:
        self.share = share
        self.opened = 0
        self._lock = threading.Lock()
        self._live: dict[Hashable, _Hop] = {}
        self._by_transport: dict[int, _Hop] = {}
        self._opening: dict[Hashable, threading.Lock] = {}

    def acquire(self, options: SshOptions, open_hop: OpenHop) -> list[paramiko.Transport]:
        """The connections to ``options.jumps`` in order, reused where alive, opened where not.

        On failure every hop taken so far is let go again and the exception
        from ``open_hop`` propagates.

        >>> class Hop:                                   # stands in for a paramiko.Transport
        ...     def is_active(self): return True
        ...     def close(self): print("bastion closed")
        >>> bastion = Endpoint(alias="b", hostname="192.0.2.1", port=22, user="ops")
        >>> via = lambda name: SshOptions(Endpoint(alias=name, hostname=name, port=22, user="root"), (bastion,))
        >>> pool = JumpHostPool()
        >>> first = pool.acquire(via("c0"), lambda prev, hop: Hop())
        >>> second = pool.acquire(via("c1"), lambda prev, hop: Hop())
        >>> first == second, pool.opened                 # one bastion login for both targets
        (True, 1)
        """
        chain: list[paramiko.Transport] = []
        try:
            for key, hop in zip(hop_keys(options), options.jumps):  # one key per hop (no strict=: Python 3.9)
                chain.append(self._take(key if self.share else object(), hop, chain[-1] if chain else None, open_hop))
        except BaseException:
            self.release(chain)
            raise
        return chain

    def release(self, chain: Sequence[paramiko.Transport]) -> None:
        """Let go of hops from :meth:`acquire`; the last user of a hop closes it (deepest first).

        >>> class Hop:
        ...     def is_active(self): return True
        ...     def close(self): print("bastion closed")
        >>> bastion = Endpoint(alias="b", hostname="192.0.2.1", port=22, user="ops")
        >>> options = SshOptions(Endpoint(alias="c0", hostname="c0", port=22, user="root"), (bastion,))
        >>> pool = JumpHostPool()
        >>> chains = [pool.acquire(options, lambda prev, hop: Hop()) for _ in range(2)]
        >>> pool.release(chains[0])                      # the other target still uses it
        >>> pool.release(chains[1])
        bastion closed
        """
        closing: list[paramiko.Transport] = []
        with self._lock:
            for transport in chain:
                hop = self._by_transport.get(id(transport))
                if hop is None:
                    continue
                hop.users -= 1
                if hop.users <= 0:
                    del self._by_transport[id(transport)]
                    if self._live.get(hop.key) is hop:
                        del self._live[hop.key]
                    closing.append(transport)
        for transport in reversed(closing):
            with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
                transport.close()

    def discard(self, transport: paramiko.Transport) -> None:
        """Take a hop that failed to forward out of sharing and close it; its users reconnect.

        >>> class Hop:
        ...     def is_active(self): return True
        ...     def close(self): print("closed")
        >>> bastion = Endpoint(alias="b", hostname="192.0.2.1", port=22, user="ops")
        >>> options = SshOptions(Endpoint(alias="c0", hostname="c0", port=22, user="root"), (bastion,))
        >>> pool = JumpHostPool()
        >>> [dead] = pool.acquire(options, lambda prev, hop: Hop())
        >>> pool.discard(dead)
        closed
        >>> pool.acquire(options, lambda prev, hop: Hop()) == [dead], pool.opened   # a new login
        (False, 2)
        """
        with self._lock:
            hop = self._by_transport.get(id(transport))
            if hop is not None and self._live.get(hop.key) is hop:
                del self._live[hop.key]
        with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
            transport.close()

    def _take(
        self, key: Hashable, hop: Endpoint, via: paramiko.Transport | None, open_hop: OpenHop
    ) -> paramiko.Transport:
        with self._lock:
            opening = self._opening.setdefault(key, threading.Lock())
        with opening:  # one thread opens a given hop; the others wait for it and share it
            with self._lock:
                live = self._live.get(key)
                if live is not None and live.transport.is_active():
                    live.users += 1
                    return live.transport
                if live is not None:  # dead: the next target gets a new one, its old users let it go
                    del self._live[key]
            transport = open_hop(via, hop)
            with self._lock:
                self.opened += 1
                fresh = _Hop(key, transport)
                self._live[key] = fresh
                self._by_transport[id(transport)] = fresh
            return transport
