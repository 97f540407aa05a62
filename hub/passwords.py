"""Password hashing with Argon2id (argon2-cffi, RFC 9106 low-memory parameters).

Hashing costs ~0.1 s of CPU on purpose; the async shells run these in a thread.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
