"""Every call into the vault releases the GIL: another Python thread runs while it works.

With sys.setswitchinterval set very high, the interpreter never takes the GIL from a thread that
runs Python code; it changes hands only when a thread releases it (a blocking call, time.sleep,
or an extension that releases it). So a counting thread that sleeps(0) between counts can only
count while the other thread is inside a call that released the GIL. Had the module held it, the
counter would stay (nearly) still for the whole of the other thread's work.
"""

from __future__ import annotations

import pathlib
import sys
import threading
import time
from typing import Callable, Iterator

import pytest

import consentry
from conftest import PASSPHRASE


@pytest.fixture
def no_preemption() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def count_while(work: Callable[[], None]) -> int:
    """Run `work` in a thread; count (pure Python, yielding the GIL only by sleep(0)) until it ends."""
    done = threading.Event()
    failure: list[BaseException] = []

    def worker() -> None:
        try:
            work()
        except BaseException as e:  # reported by the caller
            failure.append(e)
        finally:
            done.set()

    thread = threading.Thread(target=worker)
    count = 0
    thread.start()
    while not done.is_set():
        count += 1
        time.sleep(0)
    thread.join()
    if failure:
        raise failure[0]
    return count


def test_argon2_in_open_runs_without_the_gil(vault_path: pathlib.Path, policy: consentry.Policy,
                                             no_preemption: None) -> None:
    # Argon2id at 'interactive' takes tens of milliseconds inside one call.
    consentry.Vault.create(vault_path, policy, PASSPHRASE, kdf="interactive").close()
    opened: list[consentry.Vault] = []
    count = count_while(lambda: opened.append(consentry.Vault.open(vault_path, PASSPHRASE)))
    opened[0].close()
    assert count >= 20, count


def test_reads_run_without_the_gil(vault: consentry.Vault, no_preemption: None) -> None:
    # Durable audit: each read commits its audit entry before returning.
    view = vault.accessor("support-desk").view("C-1", "service")

    def reads() -> None:
        for _ in range(200):
            view.read(["email", "phone", "age"])

    count = count_while(reads)
    assert count >= 20, count


def test_threads_share_one_vault(vault: consentry.Vault) -> None:
    view = vault.accessor("support-desk").view("C-1", "service")
    errors: list[BaseException] = []

    def reads() -> None:
        try:
            for _ in range(50):
                assert view.get("age") == "36"
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=reads) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    reads_logged = [e for e in vault.audit_entries("C-1") if e.action == "field_read"]
    assert len(reads_logged) == 200
