"""The SW_* codes the admin plugin raises (each listed in plugins/admin/README.md).

Every one is exit 1 (a ``DomainError`` / ``NotFoundError``) except ``SW_DB_ERROR`` (exit 2, a
``BackendUnavailable``), ``SW_OUTPUT_IS_TERMINAL`` and ``SW_ROOM_PLUGIN_MISSING`` (exit 2, a
``ConfigError``). Codes the core owns (tenant and participant not found, an ambiguous
e-mail, a missing federation key, confirmation required, the database's and the admin token's
codes) come from ``api.errors`` and are not repeated here.
"""

SW_TENANT_INVALID = "SW_TENANT_INVALID"  # empty or too long tenant name / ScaiKey tenant id
SW_TENANT_CONFLICT = "SW_TENANT_CONFLICT"  # tenant slug taken with other values, ScaiKey id taken
SW_TENANT_LIMIT_INVALID = "SW_TENANT_LIMIT_INVALID"  # a bad --limit NAME=VALUE
SW_TENANT_FEATURE_INVALID = "SW_TENANT_FEATURE_INVALID"  # a bad --feature / --unset-feature path
SW_NOTHING_TO_CHANGE = "SW_NOTHING_TO_CHANGE"  # update-tenant without anything to change
SW_PARTNER_NOT_FOUND = "SW_PARTNER_NOT_FOUND"  # no partner with that id, slug or ScaiKey id
SW_PARTNER_INVALID = "SW_PARTNER_INVALID"  # empty or too long partner name / ScaiKey partner id
SW_PARTNER_CONFLICT = (
    "SW_PARTNER_CONFLICT"  # partner slug taken with other values, ScaiKey id taken
)
SW_WORKSPACE_NAME_INVALID = "SW_WORKSPACE_NAME_INVALID"  # workspace name empty or too long
SW_WORKSPACE_NEEDS_OWNER = "SW_WORKSPACE_NEEDS_OWNER"  # create-workspace without a usable owner
SW_WORKSPACE_SLUG_TAKEN = "SW_WORKSPACE_SLUG_TAKEN"  # create-workspace on a slug used differently
SW_FEDERATION_KEY_EXISTS = "SW_FEDERATION_KEY_EXISTS"  # key generate while an active key exists
SW_FEDERATION_KEY_NOT_FOUND = "SW_FEDERATION_KEY_NOT_FOUND"  # key revoke of an unknown key id
SW_FEDERATION_ROTATE_CONFLICT = "SW_FEDERATION_ROTATE_CONFLICT"  # another rotation won the race
SW_DURATION_INVALID = "SW_DURATION_INVALID"  # a bad duration (--overlap 30d, --since 7d)
SW_TIME_INVALID = "SW_TIME_INVALID"  # a bad --since / --until (ISO time or duration)
SW_DB_ERROR = "SW_DB_ERROR"  # the database failed while writing a federation key (exit 2)
# export-participant, verify-export (issue 16)
SW_EXPORT_INVALID = "SW_EXPORT_INVALID"  # verify-export: not a participant or people export
SW_OUTPUT_IS_TERMINAL = "SW_OUTPUT_IS_TERMINAL"  # a binary ZIP to a terminal stdout (exit 2)
# deactivate-/reactivate-participant (issue 16)
SW_PARTICIPANT_SCAIKEY_OWNED = "SW_PARTICIPANT_SCAIKEY_OWNED"  # linked: ScaiKey owns the status
SW_PARTICIPANT_ERASED = "SW_PARTICIPANT_ERASED"  # an erased participant (tombstone) acted on
SW_TENANT_NEEDS_ADMIN = "SW_TENANT_NEEDS_ADMIN"  # would leave the tenant without a tenant_admin
SW_TENANT_ACTIVE = "SW_TENANT_ACTIVE"  # delete-tenant of a tenant not suspended first
SW_TENANT_DELETING = "SW_TENANT_DELETING"  # a status change of a tenant being deleted
SW_TENANT_CHANGED = "SW_TENANT_CHANGED"  # rows arrived while the backup was written
SW_TENANT_BACKUP_FAILED = "SW_TENANT_BACKUP_FAILED"  # a bundle failed; nothing deleted
SW_TENANT_BACKUP_DIR_IN_USE = "SW_TENANT_BACKUP_DIR_IN_USE"  # --backup-dir holds other files
SW_TENANT_BACKUP_MISSING = "SW_TENANT_BACKUP_MISSING"  # resuming: the first run's backup not there
SW_ROOM_PLUGIN_MISSING = "SW_ROOM_PLUGIN_MISSING"  # --backup-dir without scaiwave-room (exit 2)
# erase-participant (issue 16)
SW_PARTICIPANT_CHANGED = "SW_PARTICIPANT_CHANGED"  # posted or uploaded while the backup was written
