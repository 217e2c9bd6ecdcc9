"""Registration with ScaiKey (`sync register`) and polling a pending request (`sync status`).

The pending request (request id, status token, what was asked) lives in
``$SCAIWAVE_HOME/scaikey-registration.json`` (0600): the status token is a credential and never
goes into the database or any output. The database keeps the non-secret part
(``scaikey_registrations``) for other operators and the audit log.
"""

from __future__ import annotations

import re
from pathlib import Path

from scaiwave_cli import api
from scaiwave_sync import errors
from scaiwave_sync.adapters import db_runs, files
from scaiwave_sync.adapters import scaikey as sk
from scaiwave_sync.adapters.scaikey_client import ScaiKeyClient
from scaiwave_sync.usecases.settings import SyncConfig

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^/\s]+")
FINAL_STATES = ("rejected", "cancelled", "expired")


def _client(cfg: SyncConfig, base_url: str) -> ScaiKeyClient:
    """The anonymous client of the registration calls, with the sync's bounds (deadline,
    budget, byte cap) like every other ScaiKey call."""
    return ScaiKeyClient.from_config(cfg, base_url=base_url, credentials=False)


def public(state: dict) -> dict:
    """The registration state without its status token."""
    keys = (
        "status",
        "request_id",
        "scaikey_url",
        "server_url",
        "contact_email",
        "scope",
        "scope_ref",
        "name",
        "client_id",
        "issuer",
        "created_at",
        "updated_at",
        "env_file",
    )
    return {k: state.get(k) for k in keys if state.get(k) is not None}


# -- register ----------------------------------------------------------------------------------


def _value(option, *, flag, prompt, ask, default=None, choices=None, check=None):
    """The option's value, else an answer (``ask``: a prompt on a terminal, None without one),
    else the default, else exit 2."""
    value = option
    if value is None and ask is not None:
        value = ask(prompt, default=default, choices=choices)
    if value is None:
        value = default
    if value is None or str(value).strip() == "":
        raise api.ConfigError(
            f"missing {flag} (no terminal to prompt on)",
            code=errors.SW_OPTION_MISSING,
            hint=f"pass {flag}, or run `scaiwave sync register` in a terminal",
        )
    value = str(value).strip()
    if check is not None and (problem := check(value)):
        raise api.DomainError(
            f"{flag}: {problem}", code=errors.SW_OPTION_INVALID, hint=f"fix {flag}"
        )
    return value


def _url_check(value):
    return None if _URL.match(value) else f"expected an http(s):// URL, got {value!r}"


def _email_check(value):
    return None if _EMAIL.match(value) else f"not an e-mail address: {value!r}"


def register_server(
    app, *, ask, scaikey_url, server_url, email, scope, partner, tenant, name, new
) -> dict:
    """File a registration request (or show the pending one); returns the record to print.
    ``ask(prompt, default=, choices=)`` answers a missing option; None: no terminal."""
    app.actor.require_platform("register this server with ScaiKey")
    settings = app.settings
    cfg = SyncConfig.from_settings(settings)
    state = files.read_registration(settings.home)
    if state and not new:
        if state.get("status") == "pending":
            app.out.info(
                "a registration request is already pending: showing it "
                "(`scaiwave sync status` asks ScaiKey; --new files another)"
            )
            return public(state)
        if state.get("status") == "approved":
            raise api.DomainError(
                f"this server is already registered with {state.get('scaikey_url')} "
                f"(client id {state.get('client_id')})",
                code=errors.SW_SYNC_ALREADY_REGISTERED,
                hint="pass --new to file another registration request",
            )
    ask = dict(ask=ask)
    scaikey_url = _value(
        scaikey_url,
        flag="--scaikey-url",
        prompt="ScaiKey URL",
        default=settings.scaikey_base_url,
        check=_url_check,
        **ask,
    )
    server_url = _value(
        server_url,
        flag="--url",
        prompt="This server's URL",
        default=settings.api_url,
        check=_url_check,
        **ask,
    )
    email = _value(email, flag="--email", prompt="Contact e-mail", check=_email_check, **ask)
    scope = _value(
        scope,
        flag="--scope",
        prompt="Scope",
        choices=("GLOBAL", "PARTNER", "TENANT"),
        default="GLOBAL" if ask is not None else None,
        **ask,
    ).upper()
    scope_ref = None
    if scope == "PARTNER":
        scope_ref = partner = _value(partner, flag="--partner", prompt="ScaiKey partner id", **ask)
    elif scope == "TENANT":
        scope_ref = tenant = _value(tenant, flag="--tenant", prompt="ScaiKey tenant slug", **ask)
    name = _value(
        name,
        flag="--name",
        prompt="Application name",
        default=f"ScaiWave {settings.server_name}",
        **ask,
    )

    with _client(cfg, scaikey_url) as client:
        ticket = client.register_application(
            name=name,
            server_url=server_url,
            contact_email=email,
            scope=scope,
            partner=partner if scope == "PARTNER" else None,
            tenant=tenant if scope == "TENANT" else None,
        )
    now = api.store.utcnow()
    state = {
        "status": "pending",
        "request_id": ticket.request_id,
        "status_token": ticket.status_token,
        "scaikey_url": scaikey_url.rstrip("/"),
        "server_url": server_url,
        "contact_email": email,
        "scope": scope,
        "scope_ref": scope_ref,
        "name": name,
        "created_at": now.isoformat(),
    }
    path = files.write_registration(settings.home, state)
    with app.store.transaction() as s:
        db_runs.save_registration(
            s,
            request_id=ticket.request_id,
            scaikey_url=state["scaikey_url"],
            server_url=server_url,
            contact_email=email,
            scope=scope,
            scope_ref=scope_ref,
            name=name,
            status="pending",
            created_at=now,
        )
        api.audit.record(
            s,
            app.actor,
            "sync.register",
            f"scaikey-registration:{ticket.request_id}",
            details={
                "scaikey_url": state["scaikey_url"],
                "scope": scope,
                "scope_ref": scope_ref,
                "name": name,
                "server_url": server_url,
            },
        )
    app.out.info(
        f"registration request {ticket.request_id} filed; a ScaiKey admin must approve it. "
        f"State kept in {path} (0600). Then run: scaiwave sync status"
    )
    return dict(public(state), state_file=str(path))


# -- polling (`sync status`) ---------------------------------------------------------------------


def _env_target(app, write_env) -> Path:
    if write_env:
        return Path(write_env)
    if app.settings.env_file:
        return Path(app.settings.env_file)
    return Path.cwd() / ".env"


def poll_registration(app, state: dict, write_env) -> tuple[dict, object]:
    """Ask ScaiKey about a pending request; on approval write the credentials into the .env.
    Returns the new state and the settings to use from now on."""
    settings = app.settings
    cfg = SyncConfig.from_settings(settings)
    with _client(cfg, state["scaikey_url"]) as client:
        answer = client.registration_status(state["request_id"], state["status_token"])
    if answer.status not in sk.REGISTRATION_STATES:
        raise errors.InvalidResponse(
            f"ScaiKey answered an unknown registration status {answer.status!r}",
            hint="see plugins/sync/README.md, 'The ScaiKey contract'",
        )
    if answer.status == "pending":
        return state, settings
    now = api.store.utcnow()
    new_state = dict(state, status=answer.status, updated_at=now.isoformat())
    if answer.status == "approved":
        if answer.client_secret:
            api.register_secret(answer.client_secret)  # masked in every later message
            target = _env_target(app, write_env)
            updates = {
                "SCAIKEY_BASE_URL": state["scaikey_url"],
                "SCAIKEY_CLIENT_ID": answer.client_id or "",
                "SCAIKEY_CLIENT_SECRET": answer.client_secret,
            }
            if answer.issuer:
                updates["SCAIKEY_ISSUER"] = answer.issuer
            if answer.app_id:
                updates["SCAIKEY_APP_ID"] = answer.app_id
            backup = files.update_env(
                target,
                updates,
                comment=f"ScaiKey credentials (request {state['request_id']}), written by "
                f"`scaiwave sync status` on {now:%Y-%m-%d %H:%M} UTC",
            )
            app.out.info(
                f"registration approved: client id, secret and issuer written to {target}"
                + (f" (previous file kept as {backup})" if backup else "")
            )
            new_state.update(env_file=str(target))
            settings = api.load_settings(dict(app.options), env_file=target)
        elif settings.scaikey_client_id and settings.scaikey_client_id == answer.client_id:
            app.out.info("registration approved; its credentials are already configured")
        else:
            raise api.DomainError(
                f"registration {state['request_id']} was approved but its credentials were "
                "already collected, and they are not in this configuration",
                code=errors.SW_SYNC_CREDENTIALS_COLLECTED,
                hint="find the .env that received them, or ask a ScaiKey admin to generate a "
                "new secret for the application",
            )
        new_state.update(client_id=answer.client_id, issuer=answer.issuer)
        new_state.pop("status_token", None)
    else:
        new_state.pop("status_token", None)
    files.write_registration(settings.home, new_state)
    with app.store.transaction() as s:
        db_runs.save_registration(
            s,
            request_id=state["request_id"],
            status=answer.status,
            client_id=new_state.get("client_id"),
            issuer=new_state.get("issuer"),
        )
        api.audit.record(
            s,
            app.actor,
            f"sync.registration.{answer.status}",
            f"scaikey-registration:{state['request_id']}",
            details={"client_id": new_state.get("client_id")},
        )
    return new_state, settings
