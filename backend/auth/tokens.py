"""Short-lived JWT access tokens and opaque rotating refresh tokens (only their SHA-256 is stored)."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

import jwt

from backend.errors import NotAuthenticated


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    device_id: str
    epoch: int = 0  # the device's token epoch when issued (tokens from before it existed: 0)


class Tokens:
    ALGORITHM = "HS256"

    def __init__(self, secret: str, access_minutes: int):
        self._secret = secret
        self._ttl = access_minutes * 60

    def access(self, user_id: str, device_id: str, epoch: int = 0) -> tuple[str, int]:
        now = int(time.time())
        token = jwt.encode(
            {"sub": user_id, "did": device_id, "ep": epoch, "iat": now, "exp": now + self._ttl, "typ": "access"},
            self._secret,
            algorithm=self.ALGORITHM,
        )
        return token, self._ttl

    def decode(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=[self.ALGORITHM], options={"require": ["exp", "sub", "did"]}
            )
        except jwt.ExpiredSignatureError:
            raise NotAuthenticated("The access token has expired; refresh it.", code="token-expired") from None
        except jwt.PyJWTError:
            raise NotAuthenticated("The access token is not valid; log in again.") from None
        if claims.get("typ") != "access":
            raise NotAuthenticated("Not an access token.")
        epoch = claims.get("ep", 0)
        return AccessClaims(str(claims["sub"]), str(claims["did"]), epoch if isinstance(epoch, int) else -1)


def new_refresh_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
