"""Who may log in: users from the environment and from a file, hashed passwords, the demo user's limits."""

from __future__ import annotations

import pytest

from label_app.auth import (
    DEMO_USER,
    UsersConfigError,
    hash_password,
    load_users,
    make_authenticator,
    password_matches,
    users_or_demo,
)


def test_users_from_the_variable_and_the_file(tmp_path):
    users_file = tmp_path / "users.txt"
    users_file.write_text("# reviewers\nbob:file-secret\n\ncarol:with,comma\n", encoding="utf-8")
    users = load_users("alice:secret, bob:env-secret", users_file)
    assert users == {"alice": "secret", "bob": "file-secret", "carol": "with,comma"}


@pytest.mark.parametrize("spec", ["alice", "alice:", ":secret"])
def test_a_malformed_entry_is_refused(spec):
    with pytest.raises(UsersConfigError, match="user:password"):
        load_users(spec)


def test_a_missing_users_file_is_refused(tmp_path):
    with pytest.raises(UsersConfigError, match="no such file"):
        load_users("", tmp_path / "absent.txt")


def test_hashed_and_clear_passwords():
    stored = hash_password("s3cret", iterations=1000)
    assert stored.startswith("pbkdf2_sha256$1000$") and "s3cret" not in stored
    assert password_matches(stored, "s3cret") and not password_matches(stored, "other")
    authenticate = make_authenticator({"alice": stored, "bob": "plain"})
    assert authenticate("alice", "s3cret") and authenticate("bob", "plain")
    assert not authenticate("bob", "Plain") and not authenticate("mallory", "plain")


def test_demo_user_only_without_users_and_only_on_loopback(capsys):
    assert users_or_demo({"alice": "x"}, "0.0.0.0") == {"alice": "x"}
    assert users_or_demo({}, "127.0.0.1") == {DEMO_USER[0]: DEMO_USER[1]}
    assert "WARNING" in capsys.readouterr().err
    with pytest.raises(UsersConfigError, match="FRAUD_LABEL_APP_USERS"):
        users_or_demo({}, "0.0.0.0")
