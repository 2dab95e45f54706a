"""One error hierarchy. Services raise; the API handler and the admin render ``detail``."""


class DomainError(Exception):
    status, code = 400, "invalid"

    def __init__(self, detail: str, *, field: str | None = None, fields: dict | None = None):
        super().__init__(detail)
        self.detail, self.field = detail, field
        self.fields = fields or ({field: [detail]} if field else None)


class FieldInvalid(DomainError):
    status, code = 400, "invalid"


class InvalidCursor(DomainError):
    """A list's ``cursor`` that the list did not give out: crafted, cut short, or from another list."""

    status, code = 400, "invalid_cursor"


class FieldRequired(DomainError):
    status, code = 400, "required"


class AmountAboveMaximum(DomainError):
    status, code = 400, "amount_above_maximum"


class QuantityAboveClaimable(DomainError):
    status, code = 400, "quantity_above_claimable"


class OutsideWindow(DomainError):
    status, code = 400, "outside_window"


class ReasonNotAllowed(DomainError):
    status, code = 400, "reason_not_allowed"


class TypeNotAllowed(DomainError):
    status, code = 400, "type_not_allowed"


class NotAllowed(DomainError):
    status, code = 403, "not_allowed"


class OwnReview(NotAllowed):
    """Four eyes on money: who decided a claim does not also pay it."""

    code = "own_review"


class NotFound(DomainError):
    status, code = 404, "not_found"


class InvalidTransition(DomainError):
    status, code = 409, "invalid_transition"


class Conflict(DomainError):
    status, code = 409, "conflict"


class IdempotencyKeyReused(DomainError):
    status, code = 422, "idempotency_key_reused"


class UploadQuotaExceeded(DomainError):
    """A buyer's photos of the last 24 hours already take the policy's megabytes (tickets.uploads). 429, not 413:
    the request is not too large, the buyer has sent enough for now, and the quota refills by itself."""

    status, code = 429, "upload_quota_exceeded"


class LockedOut(DomainError):
    """Too many failed logins for this account at this address, or from this address (access.lockout)."""

    status, code = 429, "locked_out"


class TwoFactorSetupRequired(NotAllowed):
    """The account must set up two-factor in the admin before it may log in anywhere else."""

    code = "two_factor_setup_required"


class OwnClaim(NotAllowed):
    """Separation of duties: whoever filed a claim does not also decide it, handle its goods or pay it."""

    code = "own_claim"


class Contention(Conflict):
    """Another action held the same rows and the database gave up on one of the two (a deadlock or a
    serialization failure): nothing was changed; trying again is safe."""

    code = "contention"


class DatabaseUnavailable(DomainError):
    """The database could not answer in time (SQLite busy beyond its timeout, PostgreSQL unreachable): the
    request's transaction was rolled back; trying again in a moment is safe."""

    status, code = 503, "database_unavailable"
