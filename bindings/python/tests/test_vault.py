"""Opening, closing, writing and reading a vault from Python."""

from __future__ import annotations

import datetime
import gc
import pathlib
import subprocess
import sys
import threading
from typing import Callable

import pytest

import consentry
from conftest import EMAIL, NAME, PASSPHRASE, PHONE


def test_create_then_open_as_context_managers(vault_path: pathlib.Path, policy: consentry.Policy) -> None:
    with consentry.Vault.create(vault_path, policy, PASSPHRASE, kdf="minimum") as v:
        assert not v.closed
        v.put("C-1", "email", EMAIL)
    assert v.closed
    with consentry.Vault.open(str(vault_path), PASSPHRASE) as v:
        assert v.customers() == ["C-1"]
        assert v.contains("C-1") and not v.contains("C-2")
        assert v.policy.purposes == ["service", "marketing", "analytics"]
        assert v.policy_version == 1


def test_create_refuses_an_existing_file(vault: consentry.Vault, vault_path: pathlib.Path,
                                         policy: consentry.Policy) -> None:
    with pytest.raises(consentry.AlreadyExists) as info:
        consentry.Vault.create(vault_path, policy, PASSPHRASE, kdf="minimum")
    assert info.value.errc == "already_exists"


def test_open_missing_file_is_not_found(tmp_path: pathlib.Path) -> None:
    with pytest.raises(consentry.NotFound):
        consentry.Vault.open(tmp_path / "none.vault", PASSPHRASE)


def test_wrong_passphrase_is_an_integrity_error(vault: consentry.Vault, vault_path: pathlib.Path) -> None:
    vault.close()
    with pytest.raises(consentry.IntegrityError) as info:
        consentry.Vault.open(vault_path, "not the passphrase")
    assert info.value.errc == "integrity"
    assert "not the passphrase" not in str(info.value)


def test_put_then_read_for_a_contract_purpose(vault: consentry.Vault) -> None:
    view = vault.accessor("support-desk").view("C-1", "service")
    assert view.get("email") == EMAIL
    assert view.get("phone") == "*" * (len("+442079460958") - 4) + "0958"
    field = view.get_field("name")
    assert (field.field, field.value, field.form) == ("name", NAME, "clear")
    assert view.read(["email", "age"]) == {"email": EMAIL, "age": "36"}


def test_reads_from_threads_with_and_without_reader_connections(vault: consentry.Vault,
                                                                 vault_path: pathlib.Path) -> None:
    vault.close()
    for max_readers in (0, 4):
        with consentry.Vault.open(vault_path, PASSPHRASE, max_readers=max_readers) as v:
            got: list[str] = []
            threads = [threading.Thread(
                target=lambda: got.append(v.accessor("support-desk").view("C-1", "service").get("email")))
                for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert got == [EMAIL] * 4
    with pytest.raises(TypeError):
        consentry.Vault.open(vault_path, PASSPHRASE, max_readers=-1)


def test_write_records_all_or_none(vault: consentry.Vault) -> None:
    written = vault.write([
        {"id": "C-2", "source": "import", "fields": {"email": "b@example.com", "age": 41}},
        {"id": "C-3", "collected_at": datetime.datetime(2025, 5, 1, tzinfo=datetime.timezone.utc),
         "fields": {"name": "Grace"}},
    ])
    assert written == 2
    assert vault.customers() == ["C-1", "C-2", "C-3"]
    with pytest.raises(consentry.InvalidInput) as info:
        vault.write([{"id": "C-4", "fields": {"email": "c@example.com"}},
                     {"id": "C-5", "fields": {"age": "not a number"}}], origin="batch")
    assert "batch:2" in str(info.value)
    assert "not a number" not in str(info.value)
    assert not vault.contains("C-4")


def test_import_text_jsonl_and_csv(vault: consentry.Vault) -> None:
    assert vault.import_text('{"id": "C-7", "fields": {"email": "g@example.com"}}\n') == 1
    assert vault.import_text("id,email,age\nC-8,h@example.com,50\n", format="csv") == 1
    view = vault.accessor("support-desk").view("C-8", "service")
    assert view.read(["email", "age"]) == {"email": "h@example.com", "age": "50"}


def test_invalid_input(vault: consentry.Vault) -> None:
    with pytest.raises(consentry.InvalidInput):
        vault.put("C-1", "shoe_size", "42")
    with pytest.raises(consentry.InvalidInput) as info:
        vault.put("C-1", "age", "forty")
    assert "forty" not in str(info.value)
    with pytest.raises(consentry.InvalidInput):
        vault.put("C-1", "email", "\ud800@example.com")
    with pytest.raises(consentry.InvalidInput):
        vault.accessor("support-desk").view("C-1", "service").get("\udfff")
    with pytest.raises(consentry.InvalidInput):
        vault.record_consent("C-1", "marketing", "maybe")
    with pytest.raises(consentry.InvalidInput):
        vault.accessor("support-desk").view("C-1", "service").read([])


def test_unknown_accessor_is_not_found(vault: consentry.Vault) -> None:
    with pytest.raises(consentry.NotFound):
        vault.accessor("nobody")


def test_use_after_close_raises_and_never_crashes(vault: consentry.Vault) -> None:
    accessor = vault.accessor("support-desk")
    view = accessor.view("C-1", "service")
    vault.close()
    vault.close()  # twice is fine
    calls: list[Callable[[], object]] = [
        lambda: view.get("email"), lambda: view.read(["email"]), lambda: accessor.view("C-1", "service"),
        lambda: vault.put("C-1", "age", "1"), lambda: vault.customers(), lambda: vault.export("C-1"),
        lambda: vault.accessor("support-desk"), lambda: vault.policy, lambda: vault.audit_entries("C-1")]
    for call in calls:
        with pytest.raises(consentry.VaultClosed) as info:
            call()
        assert isinstance(info.value, consentry.Error)
        assert info.value.errc == "closed"


def test_views_keep_the_vault_alive_whatever_the_collection_order(vault_path: pathlib.Path,
                                                                  policy: consentry.Policy) -> None:
    v = consentry.Vault.create(vault_path, policy, PASSPHRASE, kdf="minimum")
    v.put("C-1", "email", EMAIL)
    view = v.accessor("support-desk").view("C-1", "service")
    del v
    gc.collect()
    assert view.get("email") == EMAIL
    del view
    gc.collect()
    # The vault closed when its last view went: it opens again.
    with consentry.Vault.open(vault_path, PASSPHRASE) as again:
        assert again.customers() == ["C-1"]


def test_reprs_hold_no_value(vault: consentry.Vault) -> None:
    view = vault.accessor("support-desk").view("C-1", "service")
    field = view.get_field("email")
    events = [vault.record_consent("C-1", "marketing", "grant", channel="web")]
    texts = [repr(vault), repr(view), repr(field), repr(vault.accessor("newsletter")), repr(vault.policy),
             repr(events[0]), repr(consentry.Ff1(bytes(16))), str(field.form)]
    texts += [repr(e) for e in vault.audit_entries("C-1")]
    for text in texts:
        for secret in (EMAIL, NAME, PHONE, PASSPHRASE, "36"):
            assert secret not in text, text
    assert "email" in repr(field) and "clear" in repr(field)
    assert "C-1" in repr(view) and "service" in repr(view)


def test_audit_verifies_and_names_who_read(vault: consentry.Vault) -> None:
    vault.accessor("support-desk").view("C-1", "service").get("email")
    entries = vault.audit_entries("C-1")
    reads = [e for e in entries if e.action == "field_read"]
    assert reads and reads[-1].accessor == "support-desk" and reads[-1].purpose == "service"
    assert reads[-1].fields == ["email:clear"]
    assert isinstance(reads[-1].at, datetime.datetime)
    result = vault.verify_audit()
    assert result["ok"] is True and result["entries"] >= len(entries)


def test_write_takes_naive_and_aware_times_and_refuses_surrogates(vault: consentry.Vault) -> None:
    vault.write([{"id": "C-2", "collected_at": datetime.datetime(2025, 5, 1, 10, 0), "fields": {"age": 40}},
                 {"id": "C-3", "collected_at": "2025-05-01T12:00:00+02:00", "fields": {"age": "41"}}])
    export = vault.export("C-2")
    assert export["fields"][0]["collected_at"] == "2025-05-01T10:00:00Z"
    with pytest.raises(consentry.InvalidInput):
        vault.write([{"id": "C-4", "fields": {"name": "\ud800"}}])
    with pytest.raises(consentry.InvalidInput):
        vault.put("C-4", "age", "1", collected_at="yesterday")
    assert not vault.contains("C-4")


def test_a_token_is_read_then_detokenised(vault: consentry.Vault) -> None:
    vault.put("C-9", "account", "ACCT-123456")
    token = vault.accessor("bi-dashboard").view("C-9", "analytics").get("account")
    assert token != "ACCT-123456" and len(token) == len("ACCT-123456")
    assert vault.accessor("support-desk").detokenise("service", "account", token) == "ACCT-123456"
    with pytest.raises(consentry.Denied) as info:
        vault.accessor("bi-dashboard").detokenise("analytics", "account", token)
    assert info.value.reason == "purpose_not_allowed_for_field"


def test_a_vault_left_open_is_closed_at_exit(vault: consentry.Vault, vault_path: pathlib.Path) -> None:
    # A daemon thread keeps the vault referenced, so interpreter finalization never frees it:
    # only the package's atexit handler commits the batched reads and signs a checkpoint.
    vault.close()
    script = f"""
import threading
import consentry

def worker(ready):
    v = consentry.Vault.open({str(vault_path)!r}, {PASSPHRASE!r}, audit="batched")
    view = v.accessor("support-desk").view("C-1", "service")
    for _ in range(5):
        view.get("age")
    ready.set()
    threading.Event().wait()

ready = threading.Event()
threading.Thread(target=worker, args=(ready,), daemon=True).start()
ready.wait()
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    with consentry.Vault.open(vault_path, PASSPHRASE) as again:
        reads = [e for e in again.audit_entries("C-1") if e.action == "field_read"]
        assert len(reads) == 5
        assert again.verify_audit()["ok"]


def test_a_wrongly_typed_call_names_no_argument(vault: consentry.Vault, vault_path: pathlib.Path,
                                                policy: consentry.Policy) -> None:
    calls: list[Callable[[], object]] = [
        lambda: vault.put("C-1", "email", b"leaked@example.com"),  # type: ignore[arg-type]
        lambda: consentry.Vault.create(vault_path, policy, "leaked passphrase", kdf=1),  # type: ignore[arg-type]
        lambda: consentry.Ff1(b"leakedleakedleak", 5),  # type: ignore[arg-type]
        lambda: consentry.pseudonym("leaked key", "x"),  # type: ignore[arg-type]
        lambda: vault.accessor("support-desk").view("C-1", "service").read("leaked"),
        lambda: vault.record_consent("C-1", "marketing", "grant", channel=b"leaked"),  # type: ignore[arg-type]
    ]
    for call in calls:
        with pytest.raises(TypeError) as info:
            call()
        assert "leaked" not in str(info.value), str(info.value)
        assert "incompatible" in str(info.value)
