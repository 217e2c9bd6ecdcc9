"""The SW_* codes the sync plugin raises (each listed in plugins/sync/README.md) and its two
error subclasses.

Codes the core owns (``SW_TENANT_NOT_FOUND``, ``SW_CONFIG_INVALID``,
``SW_AUTH_INSUFFICIENT_PERMISSION``, ...) are the core's and not repeated here.
"""

from __future__ import annotations

from scaiwave_cli import api

# -- options of `sync register` ------------------------------------------------------------------
SW_OPTION_MISSING = "SW_OPTION_MISSING"  # a register option is missing and no terminal to ask on
SW_OPTION_INVALID = "SW_OPTION_INVALID"  # a register option has an invalid value (URL, e-mail)

# -- registration --------------------------------------------------------------------------------
SW_SYNC_ALREADY_REGISTERED = "SW_SYNC_ALREADY_REGISTERED"  # approved already; --new files another
SW_SYNC_CREDENTIALS_COLLECTED = "SW_SYNC_CREDENTIALS_COLLECTED"  # secret handed out elsewhere
SW_SYNC_REGISTRATION_REFUSED = "SW_SYNC_REGISTRATION_REFUSED"  # ScaiKey refused the request
SW_SYNC_REGISTRATION_UNKNOWN = "SW_SYNC_REGISTRATION_UNKNOWN"  # unknown request / status token
SW_SYNC_STATE_UNREADABLE = "SW_SYNC_STATE_UNREADABLE"  # the registration state file is unreadable

# -- the reconcile -------------------------------------------------------------------------------
SW_SYNC_LOCKED = "SW_SYNC_LOCKED"  # another reconcile holds the run lock
SW_SYNC_LOCK_LOST = "SW_SYNC_LOCK_LOST"  # the run lock was taken from this run: it stopped
SW_SYNC_MASS_DEACTIVATION = "SW_SYNC_MASS_DEACTIVATION"  # over the deactivation limit
SW_SYNC_EMPTY_LISTING = "SW_SYNC_EMPTY_LISTING"  # no users listed for a tenant with participants
SW_SYNC_DRIFT = "SW_SYNC_DRIFT"  # `status --fail-on-drift` and a reconcile would change something
SW_SYNC_WORKER_MISMATCH = "SW_SYNC_WORKER_MISMATCH"  # a queue worker's database/ScaiKey differ

# -- talking to ScaiKey --------------------------------------------------------------------------
SW_SCAIKEY_NOT_CONFIGURED = "SW_SCAIKEY_NOT_CONFIGURED"  # SCAIKEY_BASE_URL/_CLIENT_ID/_SECRET unset
SW_SCAIKEY_UNREACHABLE = "SW_SCAIKEY_UNREACHABLE"  # connection errors, 429 or 5xx after retries
SW_SCAIKEY_LISTING_INCONSISTENT = "SW_SCAIKEY_LISTING_INCONSISTENT"  # a listing changed part-way
SW_SCAIKEY_INVALID_RESPONSE = "SW_SCAIKEY_INVALID_RESPONSE"  # an answer outside the contract
SW_SCAIKEY_REQUEST_REJECTED = "SW_SCAIKEY_REQUEST_REJECTED"  # an unexpected HTTP status
SW_SCAIKEY_AUTH_FAILED = "SW_SCAIKEY_AUTH_FAILED"  # client credentials or a fresh token refused
SW_SCAIKEY_FORBIDDEN = "SW_SCAIKEY_FORBIDDEN"  # 403: the application lacks admin:read / GLOBAL
SW_SCAIKEY_LISTING_TOO_LARGE = "SW_SCAIKEY_LISTING_TOO_LARGE"  # over SCAIWAVE_SYNC_MAX_LISTING
SW_SCAIKEY_RESPONSE_TOO_LARGE = "SW_SCAIKEY_RESPONSE_TOO_LARGE"  # over ..._MAX_RESPONSE_BYTES


class InvalidResponse(api.BackendUnavailable):
    """ScaiKey answered something that does not fit the contract (exit 2)."""

    code = SW_SCAIKEY_INVALID_RESPONSE


class ListingFailed(api.BackendUnavailable):
    """A listing that failed or changed under us part-way: act on none of it (exit 2)."""

    code = SW_SCAIKEY_LISTING_INCONSISTENT


class ListingTooLarge(api.BackendUnavailable):
    """A listing with more items than SCAIWAVE_SYNC_MAX_LISTING: act on none of it (exit 2)."""

    code = SW_SCAIKEY_LISTING_TOO_LARGE


class ResponseTooLarge(api.BackendUnavailable):
    """An answer longer than SCAIWAVE_SYNC_MAX_RESPONSE_BYTES (exit 2)."""

    code = SW_SCAIKEY_RESPONSE_TOO_LARGE
