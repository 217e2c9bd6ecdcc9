"""The admin plugin's use cases: the work behind each command family, without Click.

Each takes what it needs (``store``, ``actor``, parsed values) and returns records for the
command to print; list use cases are context managers yielding a row iterator that stays valid
while the session is open (so output streams). SQL lives in ``scaiwave_admin.adapters``.
"""
