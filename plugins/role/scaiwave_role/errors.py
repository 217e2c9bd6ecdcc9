"""The SW_* codes the role plugin raises (each listed in plugins/role/README.md).

Every one is exit 1 (a ``DomainError`` / ``NotFoundError``). Codes the core owns (tenant,
workspace and participant not found, unknown permission, the admin token's scope) come from
``api.errors`` / ``api.permissions`` and are not repeated here.
"""

SW_ROLE_NOT_FOUND = "SW_ROLE_NOT_FOUND"  # no such role (close matches in the message)
SW_ROLE_AMBIGUOUS = "SW_ROLE_AMBIGUOUS"  # a custom role name exists in several visible tenants
SW_ROLE_NAME_INVALID = "SW_ROLE_NAME_INVALID"  # a new role name breaks the naming rule
SW_ROLE_BUILTIN = "SW_ROLE_BUILTIN"  # creating or deleting a built-in role name
SW_ROLE_IN_USE = "SW_ROLE_IN_USE"  # deleting an assigned role without --reassign-to
SW_ROLE_SCOPE = "SW_ROLE_SCOPE"  # a role used at the other level (tenant vs workspace)
SW_ROLE_NOT_RESETTABLE = "SW_ROLE_NOT_RESETTABLE"  # `permissions reset` of a custom role
SW_WORKSPACE_NEEDS_OWNER = "SW_WORKSPACE_NEEDS_OWNER"  # a workspace would lose its last owner
SW_TENANT_NEEDS_ADMIN = "SW_TENANT_NEEDS_ADMIN"  # unassigning the last active tenant_admin
SW_ROLE_FILE_INVALID = "SW_ROLE_FILE_INVALID"  # a --from-file with unreadable or bad lines
SW_ROLE_PLAN_CHANGED = "SW_ROLE_PLAN_CHANGED"  # the data changed between the plan and the yes
