"""Opening a connection to Milvus, with one-line user errors instead of pymilvus tracebacks.

A local path ending in .db runs Milvus Lite inside this process (pymilvus starts it); an
http:// URL reaches a Milvus server or cluster. pymilvus logs every failed call at ERROR level
with a traceback, which would bury the one line a user needs, so its loggers are quietened
and failures are re-raised as `IndexStoreError`.

Milvus Lite holds an exclusive OS lock on its data folder while a process has it open: one
process at a time, readers included. A second `qa` waits for the lock up to the lock timeout,
as the FAISS store's writers wait for theirs, and the embedded server is stopped when the
last store on that file closes, so the next process can open it.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from index.storage.base import IndexLockedError, IndexStoreError, MilvusRef

if TYPE_CHECKING:
    from pymilvus import MilvusClient

DEFAULT_SERVER_TIMEOUT = 10.0
# pymilvus pings every 10 s even when idle; the embedded Lite server allows one ping per
# 5 minutes and answers more with GOAWAY, which gRPC prints on stderr in a long session.
_LITE_GRPC = {"grpc.keepalive_time_ms": 600_000, "grpc.keepalive_permit_without_calls": False}
_refs: dict[str, int] = {}
_refs_lock = threading.Lock()


def quiet_logs() -> None:
    for name in ("pymilvus", "milvus_lite", "grpc"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _lite_lock_held(uri: str) -> bool:
    """Whether another process has the Lite folder open (its LOCK file is flocked)."""
    lock_path = os.path.join(uri, "LOCK")
    if not os.path.exists(lock_path):
        return False
    import fcntl

    fd = os.open(lock_path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def connect(ref: MilvusRef, lock_timeout: float,
            on_wait: Callable[[str], None] | None = None) -> MilvusClient:
    """A client for `ref`; pair every call with `release(ref)`."""
    try:
        from pymilvus import MilvusClient
        from pymilvus.exceptions import MilvusException
    except ImportError:
        raise IndexStoreError("the Milvus backend needs pymilvus and milvus-lite: "
                              "pip install 'qa-news[milvus]'") from None
    quiet_logs()  # after the import: pymilvus configures its loggers when imported
    if not ref.local:
        from index.settings import env_seconds

        timeout = env_seconds("QA_MILVUS_TIMEOUT", 3600.0)
        timeout = DEFAULT_SERVER_TIMEOUT if timeout is None else timeout
        try:
            client = MilvusClient(uri=ref.uri, timeout=timeout)
            client.list_collections()
        except MilvusException as exc:
            raise IndexStoreError(f"cannot reach Milvus at {ref.uri}: {exc.message}") from None
        return client
    parent = os.path.dirname(ref.uri)
    if not os.path.isdir(parent):
        raise IndexStoreError(f"{parent}: no such folder for the Milvus Lite file {ref.uri}")
    deadline = time.monotonic() + lock_timeout
    told = False
    while True:
        with _refs_lock:
            mine = _refs.get(ref.uri, 0) > 0
        if mine or not _lite_lock_held(ref.uri):
            try:
                client = MilvusClient(uri=ref.uri, grpc_options=_LITE_GRPC)
            except MilvusException as exc:
                if not _lite_lock_held(ref.uri):
                    raise IndexStoreError(f"cannot open Milvus Lite at {ref.uri}: "
                                          f"{exc.message}") from None
            else:
                with _refs_lock:
                    _refs[ref.uri] = _refs.get(ref.uri, 0) + 1
                return client
        if time.monotonic() >= deadline:
            raise IndexLockedError(
                f"another process has the Milvus Lite file {ref.uri} open (Milvus Lite allows "
                f"one process at a time); gave up after waiting {lock_timeout:g}s. Try again "
                "when it has finished, or use a Milvus server for concurrent access.")
        if on_wait is not None and not told:
            on_wait(f"waiting for another process to close {ref.uri} "
                    f"(up to {lock_timeout:g}s)...")
            told = True
        time.sleep(0.2)


def release(ref: MilvusRef, client: MilvusClient) -> None:
    """Close the client; the last one on a Lite file stops its embedded server (and lock)."""
    try:
        client.close()
    except Exception:  # closing a broken connection must not mask the real error
        pass
    if not ref.local:
        return
    with _refs_lock:
        left = _refs.get(ref.uri, 0) - 1
        if left > 0:
            _refs[ref.uri] = left
            return
        _refs.pop(ref.uri, None)
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_server(ref.uri)
