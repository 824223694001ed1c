"""``skywarden user add|remove|list``: manage the users file that turns authentication on.

``add`` prints the new token once (only a salted scrypt hash of it is stored, in a file
written with mode 0600); ``remove`` revokes a token (a running service notices at its next
request). See :mod:`skywarden.server.users` and :mod:`skywarden.server.auth`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from skywarden.server.users import ROLES, add_user, read_users, remove_user


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the ``user`` command group (add, remove, list)."""
    user = sub.add_parser("user", help="add or remove users of the service (tokens and roles)")
    actions = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="create a user; prints the new token once")
    add.add_argument("name", help="user name (A-Z a-z 0-9 _ -)")
    roles = "viewer: reads; operator: also acts on alerts; admin: also zones"
    add.add_argument("--role", choices=ROLES, required=True, help=roles)
    add.add_argument("--users", type=Path, required=True, help="users file (created if absent)")
    add.set_defaults(run=_cmd_add)
    rm = actions.add_parser("remove", help="revoke a user's token")
    rm.add_argument("name")
    rm.add_argument("--users", type=Path, required=True)
    rm.set_defaults(run=_cmd_remove)
    ls = actions.add_parser("list", help="list users and roles (never tokens)")
    ls.add_argument("--users", type=Path, required=True)
    ls.set_defaults(run=_cmd_list)


def _cmd_add(args: argparse.Namespace) -> int:
    replaced = args.name in read_users(args.users)
    token = add_user(args.users, args.name, args.role)
    note = " (replaces the old token)" if replaced else ""
    print(f"user {args.name} ({args.role}) in {args.users}{note}. Token, shown only now:",
          file=sys.stderr)  # fmt: skip
    print(token)
    return 0


def _cmd_remove(args: argparse.Namespace) -> int:
    remove_user(args.users, args.name)
    print(f"user {args.name} removed from {args.users}; the token no longer works")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    for user in sorted(read_users(args.users).values(), key=lambda u: u.name):
        print(f"{user.name}\t{user.role}")
    return 0
