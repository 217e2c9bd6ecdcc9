"""The room bundle format (version 1), below the use cases and free of any database:
``layout`` (names, canonical JSON), ``writer`` (the deterministic streamed ZIP), ``reader``
(the hardened ZIP reader), ``schema``/``stream``/``validate`` (the manifest), ``signing``
(Ed25519), ``limits`` (caps for untrusted bundles)."""
