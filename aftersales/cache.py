"""The shared cache (Redis) is never the reason a request fails.

Everything the project keeps there can be lost or answered locally for a while: throttle counters,
reference data generations, the worker's heartbeat. While Redis cannot be reached, each call is
answered by this process's memory instead (throttles then count per process), a warning is logged at
most once a minute, and the next call tries Redis again."""

import logging
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
UNREACHABLE = (RedisError, OSError)
WARN_EVERY = 60.0


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        local = {key: value for key, value in params.items() if key not in ("LOCATION", "OPTIONS", "BACKEND")}
        self.fallback = LocMemCache(f"fallback-{id(self)}", local)
        self._warned_at = -WARN_EVERY

    def _either(self, name: str, *args, **kwargs):
        try:
            return getattr(super(), name)(*args, **kwargs)
        except UNREACHABLE as exc:
            now = time.monotonic()
            if now - self._warned_at >= WARN_EVERY:
                self._warned_at = now
                log.warning("cache unreachable, answering from process memory: %s", exc)
            return getattr(self.fallback, name)(*args, **kwargs)

    def add(self, *args, **kwargs):
        return self._either("add", *args, **kwargs)

    def get(self, *args, **kwargs):
        return self._either("get", *args, **kwargs)

    def set(self, *args, **kwargs):
        return self._either("set", *args, **kwargs)

    def touch(self, *args, **kwargs):
        return self._either("touch", *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._either("delete", *args, **kwargs)

    def get_many(self, *args, **kwargs):
        return self._either("get_many", *args, **kwargs)

    def has_key(self, *args, **kwargs):
        return self._either("has_key", *args, **kwargs)

    def incr(self, *args, **kwargs):
        return self._either("incr", *args, **kwargs)

    def set_many(self, *args, **kwargs):
        return self._either("set_many", *args, **kwargs)

    def delete_many(self, *args, **kwargs):
        return self._either("delete_many", *args, **kwargs)

    def clear(self):
        return self._either("clear")
