"""The room plugin's use cases, free of Click: one module per command family (``rooms``:
list/show, ``export``, ``import_``, ``verify``) and the pieces the import is made of
(``import_rows``, ``writer_thread``), over the bundle format (``bundle/``) and the adapters."""
