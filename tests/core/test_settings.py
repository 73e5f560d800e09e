"""Settings read once what does not change under a running process: the data folder's
resolved path and the key files, read again only when a file is replaced."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.settings import Settings


def test_a_generated_signing_key_is_kept_and_read_again_only_when_its_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COMPLAINTS_SECRET_KEY", raising=False)
    settings = Settings(data_dir=tmp_path)
    first = settings.signing_key()
    stored = tmp_path / "secret_key"
    assert stored.read_text(encoding="utf-8") == first
    assert Settings(data_dir=tmp_path).signing_key() == first  # another process's view
    # An administrator replaces the file (a new inode): the new key is read.
    replacement = tmp_path / "new_key"
    replacement.write_text("a-key-put-in-place-by-an-administrator\n", encoding="utf-8")
    os.replace(replacement, stored)
    assert settings.signing_key() == "a-key-put-in-place-by-an-administrator"
    # Rewritten in place, longer: read again too.
    stored.write_text("another-key-written-over-the-same-file-later\n", encoding="utf-8")
    assert settings.signing_key() == "another-key-written-over-the-same-file-later"


def test_the_data_folder_is_resolved_once_and_stays_put(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(data_dir=Path("var"))
    assert settings.resolved_data_dir == tmp_path.resolve() / "var"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    # The database and keys do not follow the process to another working directory.
    assert settings.resolved_data_dir == tmp_path.resolve() / "var"
    assert settings.effective_database_url == f"sqlite:///{tmp_path.resolve()}/var/complaints.db"
    assert Settings(data_dir=Path("var")).resolved_data_dir == elsewhere.resolve() / "var"
