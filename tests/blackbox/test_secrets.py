"""Runs last: nothing the tests sent as a password, or got as a token, is in
any log, in the database, or (checked on every answer by client.http) in any
response."""
import re

from client import SECRETS, admin_password, check_no_secret, logs, psql

ORDER = 99


def test_logs_hold_no_password_token_or_hash():
    admin_password()
    assert len(SECRETS) >= 20, f"only {len(SECRETS)} secrets recorded: did the other tests run?"
    texts = logs()
    assert any("accounts" in name for name in texts), f"no accounts log among {sorted(texts)}"
    for name, text in texts.items():
        check_no_secret(text, f"log file {name}")


def test_database_holds_argon2id_hashes_and_no_password_or_token():
    tables = psql("SELECT table_name FROM information_schema.tables "
                  "WHERE table_schema = 'accounts' AND table_type = 'BASE TABLE'").split()
    assert tables, "no tables in schema accounts"
    dump = "\n".join(psql(f'SELECT t::text FROM accounts."{t}" t') for t in tables)
    for s in SECRETS:
        assert s not in dump, "the accounts schema holds a password or token in clear"
    hashes = re.findall(r"\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+", dump)
    assert len(set(hashes)) >= 10, f"expected argon2id hashes for the users, found {len(set(hashes))}"
