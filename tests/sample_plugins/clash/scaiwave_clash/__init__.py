"""Claims `hello`, which scaiwave-hello also claims."""
