"""The sync's work, without Click: one module per use case or family.

``registration`` (register, poll), ``status``, ``reconcile`` (the run: lock, collect, plan,
valves, apply, record), ``settings`` (SyncConfig, show-config rows, export-env lines).
"""
