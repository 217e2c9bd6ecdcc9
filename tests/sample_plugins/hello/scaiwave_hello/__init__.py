"""A sample third-party plugin for scaiwave."""
