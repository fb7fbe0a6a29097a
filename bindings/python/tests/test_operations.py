"""Contacts, purges, backups, policy updates, checkpoints, staff views and purpose datasets."""

from __future__ import annotations

import json
import os
import pathlib

import pytest

import consentry
from conftest import EMAIL, NAME, PASSPHRASE, PHONE, POLICY


def test_contacts_follow_consent_opt_outs_and_limits(vault: consentry.Vault) -> None:
    with pytest.raises(consentry.Denied) as info:
        vault.record_contact("C-1", "email", "marketing")
    assert info.value.reason == "no_consent"
    vault.record_consent("C-1", "marketing", "grant")
    contact = vault.record_contact("C-1", "email", "marketing")
    assert contact["channel"] == "email" and contact["purpose"] == "marketing"
    limit = vault.limit_contacts("C-1", "marketing", 1, "P7D")
    assert limit["kind"] == "limit" and limit["per"] == "P7D"
    with pytest.raises(consentry.Denied) as info:
        vault.record_contact("C-1", "email", "marketing")
    assert info.value.reason == "contact_limit"
    assert vault.opt_out_of_channel("C-1", "sms")["kind"] == "opt_out"
    with pytest.raises(consentry.InvalidInput):
        vault.limit_contacts("C-1", "marketing", 1, "a week")


def test_purge_dry_run_and_backup(vault: consentry.Vault, tmp_path: pathlib.Path) -> None:
    report = vault.purge(dry_run=True)
    assert report == {"values": 0, "customers": 0, "fields": {}, "complete": True}
    copy = tmp_path / "backup.vault"
    vault.backup(copy)
    with pytest.raises(consentry.AlreadyExists):
        vault.backup(copy)
    with consentry.Vault.open(copy, PASSPHRASE) as restored:
        assert restored.accessor("support-desk").view("C-1", "service").get("email") == EMAIL


def test_update_policy_applies_to_open_views(vault: consentry.Vault) -> None:
    view = vault.accessor("support-desk").view("C-1", "service")
    assert view.get("phone").endswith("0958")
    without_phone = json.loads(POLICY)
    without_phone["fields"] = [f for f in without_phone["fields"] if f["name"] != "phone"]
    policy = consentry.Policy.from_json(json.dumps(without_phone))
    with pytest.raises(consentry.InvalidInput):
        vault.update_policy(policy)
    update = vault.update_policy(policy, purge_removed=True)
    assert update["changed"] and update["values_purged"] == 1 and update["version"]["number"] == 2
    assert any("phone" in change for change in update["changes"])
    assert [v["number"] for v in vault.policy_versions()] == [1, 2]
    assert vault.policy_version == 2 and "phone" not in vault.policy.fields
    with pytest.raises(consentry.Denied) as info:
        view.get("phone")
    assert info.value.reason == "unknown_field"


def test_a_checkpoint_kept_outside_verifies(vault: consentry.Vault, policy: consentry.Policy,
                                            tmp_path: pathlib.Path) -> None:
    checkpoint = vault.checkpoint_audit()
    assert json.loads(checkpoint)["seq"] >= 1
    vault.accessor("support-desk").view("C-1", "service").get("email")
    assert vault.verify_audit_against(checkpoint)["ok"]
    with pytest.raises(consentry.InvalidInput):
        vault.verify_audit_against("{}")
    with consentry.Vault.create(tmp_path / "other.vault", policy, PASSPHRASE, kdf="minimum") as other:
        other.put("C-1", "age", "1")
        with pytest.raises(consentry.IntegrityError):
            other.verify_audit_against(checkpoint)


def test_staff_views_hold_no_value(vault: consentry.Vault) -> None:
    vault.record_consent("C-1", "marketing", "grant", channel="web")
    staff = vault.staff_audit("C-1")
    text = json.dumps(staff)
    for value in (EMAIL, NAME, PHONE):
        assert value not in text
    assert "email" in text
    assert [e.action for e in vault.review_consent("C-1")] == ["grant"]
    looks = [e for e in vault.audit_entries("C-1") if e.action == "staff_read"]
    assert len(looks) == 2
    with pytest.raises(consentry.NotFound):
        vault.staff_audit("C-404")


def test_derive_needs_an_inferred_field(vault: consentry.Vault) -> None:
    with pytest.raises(consentry.InvalidInput):
        vault.derive("C-1", "age", "40")


def test_a_purpose_dataset_then_anonymised(vault: consentry.Vault) -> None:
    for i in range(2, 8):
        vault.put(f"C-{i}", "age", str(20 + 3 * i))
    rows = vault.purpose_dataset("bi-dashboard", "analytics", ["age"])
    assert len(rows) == 7 and rows[0] == {"age": "36"}
    out = consentry.anonymise(rows, quasi_identifiers=["age"], k=3, method="mondrian")
    assert out["report"]["min_class_size"] >= 3
    with pytest.raises(consentry.Denied):
        vault.purpose_dataset("bi-dashboard", "analytics", ["age", "phone"])


def test_key_file_vaults_rotate_and_retire(tmp_path: pathlib.Path, policy: consentry.Policy) -> None:
    path, key_file = tmp_path / "kf.vault", tmp_path / "vault.key"
    with consentry.Vault.create_with_key_file(path, policy, key_file) as v:
        v.put("C-1", "email", EMAIL)
        assert v.master_key_status()["provider"] == "key-file"
        rotation = v.rotate_master_key()
        assert rotation["version"] == 2 and rotation["complete"] and rotation["rewrapped"] == 1
        assert v.retire_master_keys() == [1]
        assert v.master_key_status()["versions"] == [2]
    with consentry.Vault.open_with_key_file(path, key_file) as v:
        assert v.accessor("support-desk").view("C-1", "service").get("email") == EMAIL
    with pytest.raises(consentry.IntegrityError):
        consentry.Vault.open(path, PASSPHRASE)
    other_key = tmp_path / "other.key"
    consentry.Vault.create_with_key_file(tmp_path / "other.vault", policy, other_key).close()
    with pytest.raises(consentry.IntegrityError):
        consentry.Vault.open_with_key_file(path, other_key)
    with pytest.raises(consentry.AlreadyExists):
        consentry.Vault.create_with_key_file(tmp_path / "third.vault", policy, key_file)


def test_change_passphrase(vault: consentry.Vault, vault_path: pathlib.Path) -> None:
    vault.change_passphrase("a new passphrase")
    with pytest.raises(consentry.InvalidInput):
        vault.change_passphrase("")
    vault.close()
    with pytest.raises(consentry.IntegrityError):
        consentry.Vault.open(vault_path, PASSPHRASE)
    with consentry.Vault.open(vault_path, "a new passphrase") as v:
        assert v.customers() == ["C-1"]
        assert v.rotate_master_key()["complete"]
        with pytest.raises(consentry.InvalidInput):
            v.retire_master_keys()
        assert v.retire_master_keys("third passphrase", kdf="minimum") == [1]
    with consentry.Vault.open(vault_path, "third passphrase") as v:
        assert v.customers() == ["C-1"]


def test_a_forked_child_cannot_use_its_parents_vault(vault: consentry.Vault, vault_path: pathlib.Path) -> None:
    """The child of os.fork() gets StoreError from the vault it inherited, and can open its own."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report on the pipe, then leave without running the parent's cleanup
        problems: list[str] = []
        try:
            vault.put("C-2", "email", "bob@example.com")
            problems.append("put succeeded")
        except consentry.StoreError as e:
            if "forked" not in str(e):
                problems.append("put failed without naming the fork")
        except BaseException as e:  # noqa: BLE001 - anything else is reported to the parent
            problems.append(f"put raised {type(e).__name__}")
        try:
            with consentry.Vault.open(vault_path, PASSPHRASE) as own:
                own.put("C-3", "email", "cy@example.com")
        except BaseException as e:  # noqa: BLE001
            problems.append(f"its own vault raised {type(e).__name__}")
        os.write(write_end, "; ".join(problems).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        report = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert report == ""
    vault.put("C-4", "email", "dee@example.com")
    customers = vault.customers()
    assert "C-3" in customers and "C-4" in customers and "C-2" not in customers
