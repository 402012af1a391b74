"""Secrets at rest: device passwords and operator PINs, only ever stored hashed.

The format is mosquitto 2.0's PBKDF2-SHA512 (``$7$iterations$salt$digest``), so a
device's stored hash can go straight into the broker's password file.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

ITERATIONS = 20_000


def hash_secret(plain: str, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", plain.encode("utf-8"), salt, iterations, 64)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_secret(plain: str, hashed: str) -> bool:
    try:
        _, kind, iterations, salt, digest = hashed.split("$")
        if kind != "7":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.pbkdf2_hmac("sha512", plain.encode("utf-8"), base64.b64decode(salt), int(iterations),
                                  len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def new_password(length: int = 20) -> str:
    """A random password without ':' (mosquitto's separator) or look-alike characters."""
    alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))
