"""Throttles: per user and per client address, counted in the cache (Redis when REDIS_URL is set)."""

from rest_framework import throttling


class UserBurstThrottle(throttling.UserRateThrottle):
    scope = "user"


class IPBurstThrottle(throttling.SimpleRateThrottle):
    """Per client address, authenticated or not: a stolen token cannot hide a flood."""

    scope = "ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
