"""`scaiwave room verify`: check a bundle on its own (no database)."""

from __future__ import annotations

import click

from scaiwave_cli import api
from scaiwave_room.options import from_option


@click.command(name="verify")
@from_option()
@click.option(
    "--public-key",
    help="Ed25519 public key (base64, hex, PEM, or a file holding one) the bundle must be "
    "signed with.",
)
@api.pass_app
def verify_cmd(app, from_file, public_key):
    """Check a bundle: structure, hashes, manifest, signature.

    Example: scaiwave room verify --public-key "$(cat server.pub)" < room.zip

    Exit 0 when the bundle is sound, 1 with what is wrong otherwise. Needs no database.
    """
    from scaiwave_room.usecases.verify import verify_bundle

    app.out.record(verify_bundle(app, from_file=from_file, public_key=public_key))
