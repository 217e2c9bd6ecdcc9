"""The ScaiWave HTTP API for rooms (``--via api``): ``SCAIWAVE_API_URL`` + ``SCAIWAVE_ADMIN_TOKEN``.

- export: ``GET /v1/rooms/{room_id}/export`` streams the ZIP; the bytes are copied as they come.
- import: ``POST /v1/rooms/import`` with the bundle as the streamed body (``application/zip``)
  and ``workspace``, ``as`` and ``dry_run`` as query parameters; answers ``{"data": {...}}``.
- list/show: ``GET /v1/rooms`` and ``GET /v1/rooms/{room_id}``.

The tenant travels in the ``X-ScaiWave-Tenant`` header (the slug); the server also checks it
against the token's tenant claim. API errors ``{"error": {"code": "SW_…", "message": …}}`` become
our typed errors: ``SW_AUTH_*``/401/403 exit 3, other 4xx exit 1, 5xx and network failures exit 2.
"""

from __future__ import annotations

import json
import os

import httpx

from scaiwave_cli import api
from scaiwave_room import errors

TENANT_HEADER = "X-ScaiWave-Tenant"
USER_AGENT = "scaiwave-room/0.1"


def error_from_response(response: httpx.Response, what: str) -> api.ScaiwaveError:
    """The typed error for a non-2xx answer (the body must already be read)."""
    code = message = None
    try:
        body = json.loads(response.content or b"null")
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            code = body["error"].get("code")
            message = body["error"].get("message")
    except (ValueError, UnicodeDecodeError):
        pass
    code = code if isinstance(code, str) and code.startswith(errors.CODE_PREFIX) else None
    message = message if isinstance(message, str) and message else None
    status = response.status_code
    text = f"{what}: the API answered {status}" + (f": {message}" if message else "")
    if status == 401 or ((code or "").startswith(errors.AUTH_CODE_PREFIX) and status != 403):
        return api.AuthError(
            text,
            code=code or api.errors.SW_AUTH_INVALID_TOKEN,
            hint="check SCAIWAVE_ADMIN_TOKEN (expired or for another server?)",
        )
    if status == 403:
        return api.PermissionDenied(
            text,
            code=code or api.errors.SW_AUTH_INSUFFICIENT_PERMISSION,
            hint="use a token whose role covers this tenant and workspace",
        )
    if status == 404:
        return api.NotFoundError(
            text, code=code or api.errors.SW_NOT_FOUND, hint="check the id and --tenant"
        )
    if 400 <= status < 500:
        return api.DomainError(
            text, code=code or api.errors.SW_DOMAIN_ERROR, hint="the server refused the request"
        )
    return api.BackendUnavailable(
        text,
        code=code or api.errors.SW_BACKEND_UNREACHABLE,
        hint="the ScaiWave API failed; retry later or use the database adapter (--via db)",
    )


class RoomApi:
    """A small client; one ``httpx.Client`` per command."""

    def __init__(self, base_url: str | None, token: str | None, *, timeout=60.0, transport=None):
        if not base_url:
            raise api.ConfigError(
                "--via api needs SCAIWAVE_API_URL",
                hint="export SCAIWAVE_API_URL=https://chat.example.com (or drop --via api)",
            )
        if not token:
            raise api.ConfigError(
                "--via api needs SCAIWAVE_ADMIN_TOKEN",
                hint="export SCAIWAVE_ADMIN_TOKEN=<an admin JWT for this server>",
            )
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT},
            timeout=httpx.Timeout(timeout, read=max(timeout, 300.0)),
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _fail(self, exc: httpx.HTTPError, what: str):
        return api.BackendUnavailable(
            f"{what}: cannot reach the ScaiWave API at {self.base_url}: {type(exc).__name__}"
            + (f": {exc}" if str(exc) else ""),
            hint="check SCAIWAVE_API_URL and the network, or use --via db",
        )

    # -- export -------------------------------------------------------------------------------
    def export(self, room_id: str, tenant: str, out, *, sign: bool = False, progress=None) -> int:
        """Stream the bundle into ``out`` (a binary file); returns the number of bytes."""
        what = f"export of room {room_id}"
        params = {"sign": "true"} if sign else None
        total = 0
        try:
            with self._client.stream(
                "GET",
                f"/v1/rooms/{room_id}/export",
                params=params,
                headers={TENANT_HEADER: tenant, "Accept": "application/zip"},
            ) as response:
                if response.status_code != 200:
                    response.read()
                    raise error_from_response(response, what)
                for chunk in response.iter_bytes(1 << 16):
                    out.write(chunk)
                    total += len(chunk)
                    if progress is not None:
                        progress(total)
        except httpx.HTTPError as exc:
            raise self._fail(exc, what) from None
        out.flush()
        return total

    # -- import -------------------------------------------------------------------------------
    def import_bundle(
        self, path, *, workspace: str, tenant: str, as_participant: str, dry_run: bool = False
    ) -> dict:
        what = "import of the bundle"
        params = {"workspace": workspace, "as": as_participant}
        if dry_run:
            params["dry_run"] = "true"

        def body():
            with open(path, "rb") as fh:
                while True:
                    chunk = fh.read(1 << 16)
                    if not chunk:
                        return
                    yield chunk

        try:
            response = self._client.post(
                "/v1/rooms/import",
                params=params,
                content=body(),
                headers={
                    TENANT_HEADER: tenant,
                    "Content-Type": "application/zip",
                    "Content-Length": str(os.path.getsize(path)),
                },
            )
        except httpx.HTTPError as exc:
            raise self._fail(exc, what) from None
        return self._data(response, what)

    # -- list / show --------------------------------------------------------------------------
    def list_rooms(self, tenant: str, **filters) -> list[dict]:
        what = "room list"
        params = {k: v for k, v in filters.items() if v is not None}
        try:
            response = self._client.get("/v1/rooms", params=params, headers={TENANT_HEADER: tenant})
        except httpx.HTTPError as exc:
            raise self._fail(exc, what) from None
        data = self._data(response, what)
        if not isinstance(data, list):
            raise api.BackendUnavailable(
                f"{what}: the API answered an unexpected body",
                hint="check SCAIWAVE_API_URL points at a ScaiWave server",
            )
        return data

    def show_room(self, room_id: str, tenant: str) -> dict:
        what = f"room {room_id}"
        try:
            response = self._client.get(f"/v1/rooms/{room_id}", headers={TENANT_HEADER: tenant})
        except httpx.HTTPError as exc:
            raise self._fail(exc, what) from None
        return self._data(response, what)

    @staticmethod
    def _data(response: httpx.Response, what: str):
        if not 200 <= response.status_code < 300:
            raise error_from_response(response, what)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "data" not in body:
            raise api.BackendUnavailable(
                f"{what}: the API answered {response.status_code} without a JSON data envelope",
                hint="check SCAIWAVE_API_URL points at a ScaiWave server",
            )
        return body["data"]
