"""argon2id password hashing; the cost comes from settings (tests use cheap values)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from backend.settings import AuthSettings

MIN_PASSWORD_LENGTH = 8


class Passwords:
    def __init__(self, s: AuthSettings):
        self._hasher = PasswordHasher(
            time_cost=s.argon2_time_cost, memory_cost=s.argon2_memory_kib, parallelism=s.argon2_parallelism
        )

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, hashed: str, password: str) -> bool:
        try:
            return self._hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, hashed: str) -> bool:
        return self._hasher.check_needs_rehash(hashed)

    #: A hash to verify against when the user does not exist, so timing does not reveal usernames.
    def dummy(self) -> str:
        if not hasattr(self, "_dummy"):
            self._dummy = self._hasher.hash("not-a-real-password")
        return self._dummy
