"""`Authorization: Bearer <key>`: the key becomes an actor of the one access layer (brands.access)."""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework import authentication, exceptions

from brands.access import Actor
from brands.apikeys import key_of


@dataclass(frozen=True)
class KeyClient:
    """The request's user for a key (Django's middleware reads `request.user`); the actor does the acting."""

    actor: Actor
    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_active = True
    pk = None

    def __str__(self):
        return f"API key {self.actor.api_key}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        words = authentication.get_authorization_header(request).split()
        if not words or words[0].lower() != self.keyword.lower().encode():
            return None
        if len(words) != 2:
            raise exceptions.AuthenticationFailed("Send the key as `Authorization: Bearer <key>`.")
        try:
            raw = words[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Unknown, revoked or expired key.") from None
        key = key_of(raw)
        if key is None:
            raise exceptions.AuthenticationFailed("Unknown, revoked or expired key.")
        actor = Actor.of_api_key(key)
        request.actor = actor
        return KeyClient(actor), key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'
