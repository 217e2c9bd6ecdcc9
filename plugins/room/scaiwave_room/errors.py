"""The SW_* codes the room plugin raises (each listed in plugins/room/README.md), and its one
error subclass, ``BundleInvalid``.

The bottom layer of the plugin: it imports nothing of the plugin and only ``scaiwave_cli.api``
from the core. Codes the core owns (``SW_TENANT_NOT_FOUND``, ``SW_MEDIA_MISSING``,
``SW_AUTH_*``, ...) are ``api.errors.SW_...`` and are not repeated here.
"""

from __future__ import annotations

from scaiwave_cli import api

SW_ROOM_NOT_FOUND = "SW_ROOM_NOT_FOUND"  # no such room in the tenant (or one of another tenant)
SW_ROOM_EXPORT_REFUSED = "SW_ROOM_EXPORT_REFUSED"  # a sidekick/bridge/incognito/federated room
SW_ROOM_IMPORT_REFUSED = "SW_ROOM_IMPORT_REFUSED"  # a bundle holding such a room
SW_ROOM_CAPACITY = "SW_ROOM_CAPACITY"  # the tenant already has max_rooms rooms not closed
SW_BUNDLE_INVALID = "SW_BUNDLE_INVALID"  # anything wrong with a bundle (BundleInvalid)
SW_BUNDLE_MISSING = "SW_BUNDLE_MISSING"  # stdin a terminal or empty, or an empty --from file
SW_CONTENT_TOO_LARGE = "SW_CONTENT_TOO_LARGE"  # an event's content over the 64 KB cap
SW_KEY_INVALID = "SW_KEY_INVALID"  # `verify --public-key` text that is not an Ed25519 key
SW_FEDERATION_KEY_INVALID = "SW_FEDERATION_KEY_INVALID"  # stored private/public keys disagree
SW_CONFLICT = "SW_CONFLICT"  # the import hit a concurrent write; nothing was written
SW_OUTPUT_IS_TERMINAL = "SW_OUTPUT_IS_TERMINAL"  # a binary bundle would go to the terminal
SW_ROOM_FROZEN = "SW_ROOM_FROZEN"  # a change to an archived or closed room (move, ...)
SW_ROOM_CLOSED = "SW_ROOM_CLOSED"  # restore or archive of a closed room (closed is terminal)
SW_ROOM_DELETING = "SW_ROOM_DELETING"  # the room is marked deleting (run `room delete` again)
SW_ROOM_BACKUP_FAILED = "SW_ROOM_BACKUP_FAILED"  # the backup did not verify; nothing was deleted
SW_ROOM_BACKUP_MISSING = "SW_ROOM_BACKUP_MISSING"  # resuming a delete: --backup FILE not there
SW_ROOM_CHANGED = "SW_ROOM_CHANGED"  # events arrived between the backup and the delete
# tenant-wide export/import (`room export-all`, `verify-all`, `import-all`)
SW_ROOM_EXPORT_INCOMPLETE = "SW_ROOM_EXPORT_INCOMPLETE"  # rooms failed; no manifest written
SW_ROOM_EXPORT_INVALID = "SW_ROOM_EXPORT_INVALID"  # DIR is not a complete, sound export
SW_ROOM_EXPORT_DIR_IN_USE = "SW_ROOM_EXPORT_DIR_IN_USE"  # DIR holds other files
SW_ROOM_EXPORT_PARAMS_CHANGED = "SW_ROOM_EXPORT_PARAMS_CHANGED"  # a re-run asks for other ones
SW_ROOM_BUNDLE_MISMATCH = "SW_ROOM_BUNDLE_MISMATCH"  # not the bundle the manifest/plan names
SW_ROOM_IMPORT_INCOMPLETE = "SW_ROOM_IMPORT_INCOMPLETE"  # bundles failed to import

# the prefixes `--via api` reads in a server's error envelope (not codes themselves)
CODE_PREFIX = "SW_"
AUTH_CODE_PREFIX = "SW_AUTH_"


class BundleInvalid(api.DomainError):
    """The bundle is not one we accept (exit 1); ``path`` is the JSON path, ``entry`` the ZIP
    entry, both also in ``details``."""

    code = SW_BUNDLE_INVALID

    def __init__(self, message, *, code=None, hint=None, path=None, entry=None):
        details = {}
        if entry is not None:
            details["entry"] = entry
        if path is not None:
            details["path"] = path
        super().__init__(
            message,
            code=code or self.code,
            hint=hint
            or "the bundle was rejected and nothing was written; re-export it "
            "with `scaiwave room export` or check it with `scaiwave room verify`",
            details=details or None,
        )
        self.path = path
        self.entry = entry
