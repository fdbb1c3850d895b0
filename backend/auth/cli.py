"""`python main.py user ...` and `python main.py token ...`: accounts and API tokens,
on the data directory the server uses (it may be running: the database is shared)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping, TextIO

from backend.auth.passwords import password_problem
from backend.auth.secrets_files import private_directory
from backend.auth.store import ROLES, SCOPES, AuthError, AuthStore, parse_scopes
from backend.config.loading import database_url_from
from backend.config.schema import DATABASE_FILE, DEFAULT_DATA_DIR, ConfigError


def _parser() -> argparse.ArgumentParser:
    # --data-dir on every level, so each one's --help shows it and it may come anywhere.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", default=argparse.SUPPRESS,
                        help=f"where data is kept (HEIMDALL_DATA_DIR, default {DEFAULT_DATA_DIR}); "
                             "with HEIMDALL_DATABASE_URL, that database")
    parser = argparse.ArgumentParser(prog="main.py", description="Heimdall Live accounts and API tokens",
                                     parents=[common])
    verbs = parser.add_subparsers(dest="what", required=True)

    def verb(parent, name: str, **kwargs):
        return parent.add_parser(name, parents=[common], **kwargs)

    user = verb(verbs, "user", help="accounts that sign in to the pages").add_subparsers(dest="verb", required=True)
    add = verb(user, "add", help="add an account; the password is read from standard input or prompted")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, default="viewer")
    verb(user, "passwd", help="set an account's password (signs it out everywhere)").add_argument("name")
    verb(user, "remove", help="remove an account").add_argument("name")
    role = verb(user, "role", help="change an account's role (open pages lose what it no longer allows)")
    role.add_argument("name")
    role.add_argument("role", choices=ROLES)
    verb(user, "list", help="list the accounts")
    token = verb(verbs, "token", help="API tokens for tools").add_subparsers(dest="verb", required=True)
    create = verb(token, "create", help="create a token; it is printed once, alone on the last line")
    create.add_argument("name")
    create.add_argument("--scope", required=True, help=f"comma-separated: {', '.join(SCOPES)}")
    create.add_argument("--site", help="an agent token's site (with --scope agent): the one site it may report for")
    verb(token, "list", help="list the tokens (never their text)")
    verb(token, "revoke", help="revoke a token").add_argument("name")
    return parser


def read_password(stdin: TextIO, out: TextIO) -> str:
    """From standard input when it is not a terminal; prompted twice otherwise."""
    if not stdin.isatty():
        return stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        raise AuthError("the two passwords differ")
    return first


def _when(ms: int | None) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if ms else "never"


def main(argv: list[str], environ: Mapping[str, str] = os.environ, stdin: TextIO = sys.stdin,
         out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    # --data-dir may stand before or after the verb.
    data_dir = None
    rest = []
    iterator = iter(argv)
    for arg in iterator:
        if arg == "--data-dir":
            data_dir = next(iterator, None)
        elif arg.startswith("--data-dir="):
            data_dir = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    args = _parser().parse_args(rest)
    directory = Path(data_dir or environ.get("HEIMDALL_DATA_DIR") or DEFAULT_DATA_DIR)
    from backend.storage.database import open_database

    try:
        # With PostgreSQL, accounts and tokens are those every gateway on it shares.
        url = database_url_from(environ)
        if not url:
            private_directory(directory)
        database = open_database(url or directory / DATABASE_FILE)
    except ConfigError as exc:
        print(f"heimdall: {exc}", file=err)
        return 2
    except OSError as exc:
        print(f"heimdall: data directory {directory}: {exc.strerror or exc}", file=err)
        return 2
    store = AuthStore(database)
    try:
        return _run(args, store, stdin, out)
    except AuthError as exc:
        print(f"heimdall: {exc}", file=err)
        return 2
    finally:
        database.close_now()


def _run(args: argparse.Namespace, store: AuthStore, stdin: TextIO, out: TextIO) -> int:
    if args.what == "user":
        if args.verb in ("add", "passwd"):
            if args.verb == "passwd" and store.account(args.name) is None:
                raise AuthError(f"no account named {args.name!r}")
            password = read_password(stdin, out)
            problem = password_problem(password)
            if problem:
                raise AuthError(problem)
            if args.verb == "add":
                store.add_account(args.name, args.role, password)
                store.audit("account added", "cli", args.name, None, f"role {args.role}")
                print(f"added {args.role} {args.name}", file=out)
            else:
                store.set_password(args.name, password)
                store.audit("password changed", "cli", args.name)
                print(f"password of {args.name} changed; its sessions are closed", file=out)
        elif args.verb == "role":
            store.set_role(args.name, args.role)
            store.audit("role changed", "cli", args.name, None, f"role {args.role}")
            print(f"{args.name} is now {args.role}", file=out)
        elif args.verb == "remove":
            store.remove_account(args.name)
            store.audit("account removed", "cli", args.name)
            print(f"removed {args.name}", file=out)
        else:
            for account in store.accounts():
                print(f"{account['name']}\t{account['role']}\tsince {_when(account['created_ms'])}", file=out)
        return 0
    if args.verb == "create":
        scopes = parse_scopes(args.scope)
        token = store.create_token(args.name, scopes, args.site)
        for_site = f" for site {args.site}" if args.site else ""
        store.audit("token created", "cli", args.name, None, ",".join(sorted(scopes)) + for_site)
        print(f"token {args.name} with scopes {','.join(sorted(scopes))}{for_site}; shown this once:", file=out)
        print(token, file=out)
    elif args.verb == "revoke":
        store.revoke_token(args.name)
        store.audit("token revoked", "cli", args.name)
        print(f"revoked {args.name}", file=out)
    else:
        for token in store.tokens():
            site = f" (site {token['site']})" if token["site"] else ""
            print(f"{token['name']}\t{','.join(token['scopes'])}{site}\tcreated {_when(token['created_ms'])}"
                  f"\tlast used {_when(token['last_used_ms'])}", file=out)
    return 0
