"""Throttles: per user and per client address, counted in the cache (Redis when REDIS_URL is set)."""

import hashlib

from rest_framework import throttling


class UserBurstThrottle(throttling.UserRateThrottle):
    scope = "user"


class LoginThrottle(throttling.SimpleRateThrottle):
    """Password guesses: per client address and account name, whatever the outcome."""

    scope = "login"

    def get_cache_key(self, request, view):
        username = request.data.get("username") if hasattr(request.data, "get") else None
        # Any input makes a safe key, text that is not valid Unicode too (a lone surrogate).
        account = hashlib.sha256(str(username).lower().encode("utf-8", "surrogatepass")).hexdigest()[:16]
        return self.cache_format % {"scope": self.scope, "ident": f"{self.get_ident(request)}:{account}"}


class IPBurstThrottle(throttling.SimpleRateThrottle):
    """Per client address, authenticated or not: a stolen token cannot hide a flood."""

    scope = "ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
