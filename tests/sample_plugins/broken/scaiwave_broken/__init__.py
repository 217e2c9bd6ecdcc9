"""A deliberately broken plugin."""
