"""A fake ScaiKey on 127.0.0.1 for tests, the benchmark and the demo.

It speaks the contract ``adapters/scaikey.py`` assumes (token endpoint, paged admin listings of
tenants, users, groups, group members and admin roles, public self-registration) from data held
in memory (up to 100k users in several tenants), and can misbehave on purpose::

    fake = FakeScaiKey(tenants=3, users_per_tenant=20)
    url = fake.start()                       # http://127.0.0.1:<free port>
    fake.add_fault("status", path="/users/", status=429, retry_after="0", times=2)
    fake.add_fault("drop", path="/groups/")                 # close without an answer
    fake.add_fault("delay", path="/tenants/", delay=0.5)   # slower than the client's timeout
    fake.add_fault("status", path="/users/", page=2, status=500, times=None)  # page 2 fails
    fake.add_fault("empty", tenant="tnt_acme")              # users listing suddenly empty
    fake.add_fault("shift", path="/users/", page=2)         # total changes half-way
    fake.add_fault("trickle", path="/users/", interval=0.5, seconds=10)  # 1 byte per 0.5 s
    fake.add_fault("endless", path="/users/", times=300)   # total 1e9, new ids on every page
    fake.add_fault("deep", path="/users/", depth=100_000)  # [[[[...]]]] as the page
    fake.add_fault("truncated", path="/users/")            # half the JSON (Content-Length fits)
    fake.add_fault("huge", path="/users/", size=10**6, length=False)  # a padded page, no length
    fake.stop()

From a shell (the demo): ``python -m scaiwave_sync.testing --port 0 --url-file url.txt`` prints
the URL and serves until SIGTERM/SIGINT; ``--approve-after 1`` approves a registration request
on its second status poll. No network traffic leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import secrets
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from scaiwave_sync.adapters import scaikey as contract

DEFAULT_CLIENT_ID = "app_scaiwave_test"
DEFAULT_CLIENT_SECRET = "sk-test-secret-0123456789"
TENANT_SLUGS = ("acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "wonka")
_DROP = object()
_SHAPES = ("trickle", "deep", "truncated", "huge")  # faults that shape the answer's bytes


class Fault:
    """One misbehaviour: ``kind`` status|drop|delay|empty|shift|endless (the answer) or
    trickle|deep|truncated|huge (its bytes), applied to requests whose path contains ``path``
    (and page ``page``, tenant ``tenant``) ``times`` times (None: forever)."""

    def __init__(self, kind, *, path="", page=None, tenant=None, times=1, **params):
        self.kind = kind
        self.path = path
        self.page = page
        self.tenant = tenant
        self.times = times
        self.params = params
        self.hits = 0

    def matches(self, path: str, page: int | None, tenant: str | None) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.path and self.path not in path:
            return False
        if self.page is not None and page != self.page:
            return False
        if self.tenant is not None and tenant != self.tenant:
            return False
        return True


class FakeScaiKey:
    """The fake's state and behaviour; ``start()`` serves it over HTTP on 127.0.0.1."""

    def __init__(
        self,
        *,
        tenants: int = 2,
        users_per_tenant: int = 5,
        groups_per_tenant: int = 2,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        token_ttl: int = 3600,
        approve_after: int | None = None,
        suspended_every: int = 0,
    ):
        self.lock = threading.RLock()
        self.clients = {client_id: client_secret}
        self.token_ttl = token_ttl
        self.tokens: dict[str, float] = {}
        self.approve_after = approve_after
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of the last 10k requests
        self.request_count = 0
        self.registrations: dict[str, dict] = {}
        self.tenants: list[dict] = []
        self.users: dict[str, list[dict]] = {}
        self.groups: dict[str, list[dict]] = {}
        self.members: dict[str, list[dict]] = {}
        self.admin_roles: list[dict] = []
        self._ids = itertools.count(1)
        for t in range(tenants):
            slug = TENANT_SLUGS[t] if t < len(TENANT_SLUGS) else f"tenant{t:03d}"
            tid = self.add_tenant(slug, slug.title())
            for i in range(users_per_tenant):
                status = "ACTIVE"
                if suspended_every and i % suspended_every == suspended_every - 1:
                    status = "SUSPENDED"
                self.add_user(tid, i, status=status)
            for g in range(groups_per_tenant):
                gid = self.add_group(tid, f"{slug}-group-{g}")
                ids = [u["id"] for u in self.users[tid][g :: max(groups_per_tenant, 1)]]
                self.members[gid] = [{"id": uid, "type": "user"} for uid in ids]
            if self.users[tid]:
                self.add_admin_role(self.users[tid][0]["id"], "TENANT_ADMIN", tid)

    # -- data --------------------------------------------------------------------------------
    def add_tenant(self, slug: str, name: str, partner_id: str | None = None) -> str:
        tid = f"tnt_{slug}"
        with self.lock:
            self.tenants.append(
                dict(id=tid, slug=slug, name=name, status="ACTIVE", partner_id=partner_id)
            )
            self.users[tid] = []
            self.groups[tid] = []
        return tid

    def add_user(self, tenant_id: str, n: int | str, *, status="ACTIVE", **fields) -> dict:
        slug = tenant_id.removeprefix("tnt_")
        user = {
            "id": f"usr_{slug}_{n:06d}" if isinstance(n, int) else f"usr_{n}",
            "tenant_id": tenant_id,
            "email": f"user{n}@{slug}.example",
            "display_name": f"User {n} of {slug.title()}",
            "username": f"user{n}",
            "status": status,
            "deleted_at": None,
        }
        user.update(fields)
        with self.lock:
            self.users[tenant_id].append(user)
        return user

    def user(self, user_id: str) -> dict:
        for users in self.users.values():
            for user in users:
                if user["id"] == user_id:
                    return user
        raise KeyError(user_id)

    def remove_user(self, user_id: str) -> None:
        with self.lock:
            for tid, users in self.users.items():
                self.users[tid] = [u for u in users if u["id"] != user_id]
            for gid, members in self.members.items():
                self.members[gid] = [m for m in members if m["id"] != user_id]

    def add_group(self, tenant_id: str, name: str) -> str:
        gid = f"grp_{tenant_id.removeprefix('tnt_')}_{next(self._ids):04d}"
        with self.lock:
            self.groups[tenant_id].append(
                {"id": gid, "tenant_id": tenant_id, "name": name, "group_type": "SECURITY"}
            )
            self.members[gid] = []
        return gid

    def add_admin_role(self, user_id: str, role: str, tenant_id: str | None = None) -> str:
        rid = f"adr_{next(self._ids):05d}"
        with self.lock:
            self.admin_roles.append(
                dict(id=rid, user_id=user_id, role=role, tenant_id=tenant_id, partner_id=None)
                | {"is_active": True, "expires_at": None}
            )
        return rid

    def add_fault(self, kind: str, **kwargs) -> Fault:
        fault = Fault(kind, **kwargs)
        with self.lock:
            self.faults.append(fault)
        return fault

    def expire_tokens(self) -> None:
        """Every issued token becomes invalid (the next authenticated call gets a 401)."""
        with self.lock:
            self.tokens.clear()

    def approve(self, request_id: str) -> dict:
        with self.lock:
            reg = self.registrations[request_id]
            reg["status"] = "APPROVED"
            reg["client_id"] = f"app_{secrets.token_hex(6)}"
            reg["client_secret"] = f"sks_{secrets.token_urlsafe(24)}"
            self.clients[reg["client_id"]] = reg["client_secret"]
            return reg

    def count(self, fragment: str) -> int:
        """How many of the logged requests had ``fragment`` in their path."""
        with self.lock:
            return sum(1 for _, path in self.requests if fragment in path)

    # -- HTTP ----------------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        fake = self

        class Handler(_Handler):
            pass

        Handler.fake = fake
        self.server = _QuietServer((host, port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        return self.url

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _fault(self, path, page, tenant):
        with self.lock:
            for fault in self.faults:
                if fault.matches(path, page, tenant):
                    fault.hits += 1
                    return fault
        return None

    def handle(self, method: str, path: str, query: dict, headers, body: bytes):
        """(status, headers, json body) or ``_DROP``."""
        with self.lock:
            self.request_count += 1
            self.requests.append((method, path))
            del self.requests[:-10000]
        page = _int(query.get(contract.PAGE_PARAM))
        tenant = query.get(contract.TENANT_FILTER)
        fault = self._fault(path, page, tenant) if not path.startswith("/_fake") else None
        if fault is not None:
            if fault.kind == "drop":
                return _DROP
            if fault.kind == "delay":
                time.sleep(fault.params.get("delay", 1.0))
            elif fault.kind == "status":
                extra = {}
                if fault.params.get("retry_after") is not None:
                    extra["Retry-After"] = str(fault.params["retry_after"])
                status = fault.params.get("status", 500)
                return status, extra, {"detail": f"injected {status}"}
        answer = self._route(method, path, query, headers, body, fault)
        if fault is None or fault.kind not in _SHAPES:
            return answer
        status, extra, payload = answer
        data, extra = json.dumps(payload).encode(), dict(extra)
        p = fault.params
        if fault.kind == "trickle":  # the answer, one byte every `interval` s for `seconds` s
            extra["_trickle"] = (p.get("interval", 0.5), p.get("seconds", 10), p.get("head"))
        elif fault.kind == "deep":
            depth = p.get("depth", 100_000)
            data = b"[" * depth + b"]" * depth
        elif fault.kind == "truncated":
            data = data[: len(data) // 2]
        elif fault.kind == "huge":  # valid JSON, padded to `size` bytes; length=False: no length
            data = data[:-1] + b', "pad": "' + b"x" * p.get("size", 10**6) + b'"}'
            extra["_no_length"] = not p.get("length", True)
        return status, extra, data

    def _route(self, method, path, query, headers, body, fault):
        if method == "POST" and path == contract.TOKEN_PATH:
            return self._token(headers, body)
        if path.startswith("/api/v1/public/register/applications"):
            return self._registration(method, path, query, body)
        if path.startswith("/api/v1/admin/"):
            token = (headers.get("Authorization") or "").removeprefix("Bearer ")
            with self.lock:
                valid = self.tokens.get(token, 0) > time.monotonic()
            if not valid:
                return 401, {}, {"detail": "invalid or expired token"}
            return self._admin(path, query, fault)
        return 404, {}, {"detail": "not found"}

    def _token(self, headers, body):
        auth = headers.get("Authorization") or ""
        try:
            user, _, password = (
                base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
            )
        except ValueError:
            user = password = ""
        form = parse_qs(body.decode())
        if form.get("grant_type") != ["client_credentials"]:
            return 400, {}, {"error": "unsupported_grant_type"}
        with self.lock:
            if not user or self.clients.get(user) != password:
                return 401, {}, {"error": "invalid_client"}
            token = f"tok_{secrets.token_hex(12)}"
            self.tokens[token] = time.monotonic() + self.token_ttl
        scope = form.get("scope", ["admin:read"])[0]
        return (
            200,
            {},
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": self.token_ttl,
                "scope": scope,
            },
        )

    def _admin(self, path, query, fault):
        page = max(_int(query.get(contract.PAGE_PARAM)) or 1, 1)
        per_page = max(_int(query.get(contract.PER_PAGE_PARAM)) or 50, 1)
        tenant = query.get(contract.TENANT_FILTER)
        with self.lock:
            if path == contract.TENANTS_PATH:
                items = self.tenants
            elif path == contract.USERS_PATH:
                items = self.users.get(tenant, [])
            elif path == contract.GROUPS_PATH:
                items = self.groups.get(tenant, [])
            elif path == contract.ADMIN_ROLES_PATH:
                items = self.admin_roles
            elif path.startswith("/api/v1/admin/groups/") and path.endswith("/members"):
                gid = path.split("/")[-2]
                if gid not in self.members:
                    return 404, {}, {"detail": "group not found"}
                items = self.members[gid]
            else:
                return 404, {}, {"detail": "not found"}
            total = len(items)
            chunk = items[(page - 1) * per_page : page * per_page]
        if fault is not None and fault.kind == "empty":
            chunk, total = [], 0
        if fault is not None and fault.kind == "shift":
            total += 1
        if fault is not None and fault.kind == "endless":  # a huge total, new ids on every page
            total = fault.params.get("total", 10**9)
            chunk = [
                {"id": f"usr_{page}_{i}", "tenant_id": tenant, "slug": f"s{page}_{i}", "name": "x"}
                for i in range(per_page)
            ]
        return 200, {}, {"items": chunk, "total": total, "page": page, "per_page": per_page}

    def _registration(self, method, path, query, body):
        parts = path.rstrip("/").split("/")
        if method == "POST" and path.rstrip("/") == contract.REGISTER_PATH:
            try:
                data = json.loads(body or b"{}")
            except ValueError:
                return 422, {}, {"detail": "invalid JSON"}
            missing = [f for f in ("name", "contact_email", "app_scope") if not data.get(f)]
            if missing:
                return 422, {}, {"detail": f"missing {', '.join(missing)}"}
            request_id = f"req_{secrets.token_hex(6)}"
            token = secrets.token_urlsafe(18)
            with self.lock:
                self.registrations[request_id] = dict(
                    data, status="PENDING", status_token=token, polls=0, collected=False
                )
            return 201, {}, {"request_id": request_id, "status_token": token, "status": "PENDING"}
        if method == "GET" and parts[-1] == "status":
            request_id = parts[-2]
            with self.lock:
                reg = self.registrations.get(request_id)
                if reg is None or query.get("status_token") != reg["status_token"]:
                    return 404, {}, {"detail": "unknown request"}
                reg["polls"] += 1
                if (
                    reg["status"] == "PENDING"
                    and self.approve_after is not None
                    and reg["polls"] > self.approve_after
                ):
                    self.approve(request_id)
                answer = {"request_id": request_id, "status": reg["status"]}
                if reg["status"] == "APPROVED" and not reg["collected"]:
                    reg["collected"] = True
                    answer.update(
                        client_id=reg["client_id"],
                        client_secret=reg["client_secret"],
                        issuer=f"{self.url}/api/v1/platform/oauth",
                        app_id=reg["client_id"],
                    )
                elif reg["status"] == "APPROVED":
                    answer["client_id"] = reg["client_id"]
            return 200, {}, answer
        return 404, {}, {"detail": "not found"}


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client that gave up (timeout fault) is expected, not news


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms stalls
    fake: FakeScaiKey

    def log_message(self, *args):  # quiet
        pass

    def _serve(self, method):
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        answer = self.fake.handle(method, parts.path, query, self.headers, body)
        if answer is _DROP:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        status, headers, payload = answer
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        trickle, no_length = headers.pop("_trickle", None), headers.pop("_no_length", False)
        head = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}"]
        head += [f"{k}: {v}" for k, v in {"Content-Type": "application/json", **headers}.items()]
        head.append("Connection: close" if no_length else f"Content-Length: {len(data)}")
        self.close_connection = self.close_connection or no_length
        raw = ("\r\n".join(head) + "\r\n\r\n").encode() + data
        if trickle:  # (interval, seconds, head): one byte at a time, from the body or the head
            interval, seconds, in_head = trickle
            sent, end = 0 if in_head else len(raw) - len(data), time.monotonic() + seconds
            self.wfile.write(raw[:sent])
            while sent < len(raw) and time.monotonic() < end:
                self.wfile.write(raw[sent : sent + 1])
                sent += 1
                time.sleep(interval)
            raw = raw[sent:]
        self.wfile.write(raw)

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_DELETE(self):
        self._serve("DELETE")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="A fake ScaiKey on 127.0.0.1 (tests, demo).")
    parser.add_argument("--port", type=int, default=0, help="port (0: a free one)")
    parser.add_argument("--tenants", type=int, default=3)
    parser.add_argument("--users", type=int, default=12, help="users per tenant")
    parser.add_argument("--groups", type=int, default=2, help="groups per tenant")
    parser.add_argument("--suspended-every", type=int, default=0, help="every Nth user suspended")
    parser.add_argument(
        "--approve-after",
        type=int,
        default=None,
        help="approve a registration request after this many status polls",
    )
    parser.add_argument("--url-file", type=Path, help="also write the URL into this file")
    args = parser.parse_args(argv)
    fake = FakeScaiKey(
        tenants=args.tenants,
        users_per_tenant=args.users,
        groups_per_tenant=args.groups,
        approve_after=args.approve_after,
        suspended_every=args.suspended_every,
    )
    url = fake.start(port=args.port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if args.url_file:
        tmp = args.url_file.with_suffix(".tmp")
        tmp.write_text(url + "\n")
        tmp.replace(args.url_file)
    print(url, flush=True)
    while not stop.wait(0.5):
        pass
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
