"""The users file: who may use the service, with which role, and a salted hash of each token.

``skywarden user add NAME --role viewer|operator|admin --users FILE`` creates a random token,
prints it once and stores only its salted scrypt hash (``hashlib.scrypt``); ``skywarden user
remove NAME --users FILE`` revokes it. ``[service] users = "FILE"`` in the site configuration
turns authentication on (see :mod:`skywarden.server.auth`).

The file is JSON, written atomically (a temporary file renamed over it) with mode 0600::

    {"version": 1, "users": {"alice": {"role": "admin", "salt": "<hex>", "hash": "<hex>",
                                       "n": 16384, "r": 8, "p": 1}}}

A token reads ``NAME.SECRET`` (SECRET: 32 random bytes, URL-safe base64), so that one request
costs one scrypt check of one user's hash, never a scan of all users.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skywarden.errors import ConfigError

ROLES = ("viewer", "operator", "admin")  # each role can do everything the ones before it can
NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1  # ~16 MiB, tens of ms per check
FILE_VERSION = 1


@dataclass(frozen=True)
class User:
    """One user: name, role and the scrypt parameters and hash of the token's secret."""

    name: str
    role: str
    salt: bytes
    digest: bytes
    n: int = SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P

    def matches(self, secret: str) -> bool:
        """Whether ``secret`` (the part of the token after the dot) is this user's."""
        try:
            candidate = _scrypt(secret, self.salt, self.n, self.r, self.p)
        except ValueError:  # e.g. parameters the platform refuses: never a match
            return False
        return hmac.compare_digest(candidate, self.digest)


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        secret.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r + (1 << 20), dklen=32
    )


def split_token(token: str) -> tuple[str, str] | None:
    """``NAME.SECRET`` -> (name, secret); None if the token cannot be one of ours."""
    name, dot, secret = token.partition(".")
    if not dot or not secret or not NAME_PATTERN.fullmatch(name) or len(secret) > 200:
        return None
    return name, secret


def read_users(path: str | Path) -> dict[str, User]:
    """Every user of a users file (an absent file has none). ConfigError naming the file for
    anything that is not a users file."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"not a readable users file: {exc}", path=str(p)) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("users"), dict):
        raise ConfigError("not a users file (no 'users' object)", path=str(p))
    users = {}
    for name, entry in doc["users"].items():
        try:
            users[name] = User(
                name=name,
                role=_role(entry["role"]),
                salt=bytes.fromhex(entry["salt"]),
                digest=bytes.fromhex(entry["hash"]),
                n=int(entry.get("n", SCRYPT_N)),
                r=int(entry.get("r", SCRYPT_R)),
                p=int(entry.get("p", SCRYPT_P)),
            )
        except (KeyError, TypeError, ValueError, ConfigError) as exc:
            raise ConfigError(f"user {name!r}: bad entry ({exc})", path=str(p)) from None
    return users


def _role(role: Any) -> str:
    if role not in ROLES:
        raise ConfigError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    return str(role)


def write_users(path: str | Path, users: dict[str, User]) -> None:
    """Write the users file atomically with mode 0600 (owner read/write only)."""
    p = Path(path)
    doc = {
        "version": FILE_VERSION,
        "users": {
            u.name: {"role": u.role, "salt": u.salt.hex(), "hash": u.digest.hex(),
                     "n": u.n, "r": u.r, "p": u.p}
            for u in sorted(users.values(), key=lambda u: u.name)
        },
    }  # fmt: skip
    tmp = p.with_name(f".{p.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(doc, fh, indent=2)
            fh.write("\n")
        os.chmod(tmp, 0o600)  # whatever the umask
        os.replace(tmp, p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def add_user(path: str | Path, name: str, role: str) -> str:
    """Create (or replace) a user with a new random token; returns the token (show it once:
    only its hash is kept)."""
    if not NAME_PATTERN.fullmatch(name):
        raise ConfigError(f"user name must be 1-64 of A-Z a-z 0-9 _ -, not {name!r}")
    role = _role(role)
    users = read_users(path)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_bytes(16)
    users[name] = User(name, role, salt, _scrypt(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P))
    write_users(path, users)
    return f"{name}.{secret}"


def remove_user(path: str | Path, name: str) -> None:
    """Revoke a user's token (ConfigError if there is no such user)."""
    users = read_users(path)
    if name not in users:
        known = ", ".join(sorted(users)) or "none"
        raise ConfigError(f"no user {name!r} (known: {known})", path=str(path))
    del users[name]
    write_users(path, users)
