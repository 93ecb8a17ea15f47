"""The PostgreSQL search rebuild's worker processes do not keep the CLI's signal handlers: a
worker forked with `lecturelib`'s SIGTERM handler (which raises ``Terminated``) went on running
the parent's code when the pool stopped it, and `restore`/`migrate` into PostgreSQL hung or
exited 143 now and then."""

from __future__ import annotations

import multiprocessing as mp
import signal

from indexer.search.postgres import build


def _handlers(_):
    return (
        signal.getsignal(signal.SIGTERM) == signal.SIG_DFL,
        signal.getsignal(signal.SIGINT) == signal.SIG_IGN,
    )


def test_rebuild_workers_get_default_sigterm_and_leave_ctrl_c_to_the_parent():
    class Terminated(KeyboardInterrupt):
        pass

    def on_sigterm(signum, frame):
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, on_sigterm)  # as cli.main installs it
    try:
        with mp.get_context("fork").Pool(
            2, initializer=build._init_pool_worker, initargs=(None,)
        ) as pool:
            assert pool.map(_handlers, range(4)) == [(True, True)] * 4
        assert signal.getsignal(signal.SIGTERM) is on_sigterm  # the parent's stays
    finally:
        signal.signal(signal.SIGTERM, previous)
