"""What `scaiwave role …` does, without Click: one module per command family.

Heavy package (SQLAlchemy through the core's store and ``adapters/db.py``): the command
modules import it when they run, never for ``--help``. Inside it the arrows point one way:

- ``roles``, ``permissions``, ``assignments``, ``bulk``, ``check``: the use cases;
- ``plan``: the checked plan of one or many assignments (``assign`` and ``assign --from-file``);
- ``resolve``: names to rows, the acting admin's scope, role levels and records;
- ``tx``: the write transaction and the read-only session, built-in roles seeded first, and
  ``tx.planned``: plan, ``--dry-run``, confirmation (``api.confirm``), then the change.

Conventions shared by all of them:

- Every change runs in one transaction (``tx.write``) that first makes sure the built-in roles
  exist (``api.permissions.ensure_builtin_roles``: one SELECT once they do; the seeding itself
  is audited as ``role.builtin.seed``). A change and its audit row commit together; a refused
  change (guard, unknown name, out-of-scope token) leaves the database as it was. Reading
  commands (list, show, assignments, check) use a read-only session (``tx.read``).
- Repeating a change is harmless: it reports ``"result": "unchanged"`` and exits 0. An
  unknown name is never "unchanged": ``SW_ROLE_NOT_FOUND`` with close names.
- Disruptive changes (delete, permissions remove|reset, ``--all-tenants``, a bulk file that
  replaces workspace roles) go through ``tx.planned``.
- Acting admin (``app.actor``): a tenant_admin token only reads and changes its own tenant
  (exit 3 otherwise); a built-in role is changed per tenant (``role_overrides``) or, with
  ``--all-tenants``, globally (platform scope); granting ``platform_admin`` needs platform
  scope and ``partner_admin`` partner scope.

Error codes: ``scaiwave_role.errors`` (this plugin's) and ``api.errors`` (the core's).
"""
