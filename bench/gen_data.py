"""Fill a ScaiWave store with realistic data, fast (batched inserts).

    python bench/gen_data.py --tenants 10 --rooms 20 --events 1000000 [--db-url URL]

N tenants (each with a shared workspace ``general``, a few participants, the first one owner),
M rooms spread over the tenants, K events spread over the rooms in stream order: messages of
200 bytes to 4 KB, 1% edited (``original_content`` kept), 0.5% redacted, 2% reactions to the
previous event, and one media message per 500 events whose file goes into the media store.
Without ``--db-url`` it fills the embedded SQLite default of ``$SCAIWAVE_HOME``.

``generate(store, ...)`` is importable for other benchmarks and demos; it returns what it made.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

WORDS_SEED = 7


def _text_source(rng: random.Random, size: int = 1 << 16) -> str:
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
             for _ in range(2000)]  # fmt: skip
    text = []
    length = 0
    while length < size:
        word = rng.choice(words)
        text.append(word)
        length += len(word) + 1
    return " ".join(text)


def generate(store, *, tenants=1, rooms=1, events=1000, participants=5, seed=1, batch=5000,
             progress=None, prefix="gen") -> dict:  # fmt: skip
    from scaiwave_cli.store import insert_batches, next_stream_positions, utcnow
    from scaiwave_cli.store import models as m

    rng = random.Random(seed)
    source = _text_source(rng)
    now = utcnow()
    made = {"tenants": [], "rooms": [], "participants": {}, "events": 0, "media": 0}
    with store.transaction() as s:
        tenant_rows, ws_rows, p_rows, wm_rows = [], [], [], []
        for t in range(tenants):
            tid = f"tnt-{prefix}{t:05d}"
            slug = f"{prefix}-tenant-{t:05d}"
            tenant_rows.append({"id": tid, "slug": slug, "name": f"Tenant {t}",
                                "scaikey_tenant_id": f"sk-{prefix}-{t:05d}", "features": {},
                                "ai_defaults": {}, "status": "active",
                                "created_at": now})  # fmt: skip
            ws_rows.append({"id": f"ws-{prefix}{t:05d}", "tenant_id": tid, "slug": "general",
                            "name": "General", "personal": False, "created_at": now})  # fmt: skip
            pids = []
            for p in range(participants):
                pid = f"prt-{prefix}{t:05d}-{p:03d}"
                pids.append(pid)
                p_rows.append({"id": pid, "tenant_id": tid, "kind": "human",
                               "scaikey_user_id": f"sk-user-{t}-{p}", "display_name": f"User {p}",
                               "email": f"user{p}@{slug}.example", "active": True,
                               "created_at": now})  # fmt: skip
                wm_rows.append({"workspace_id": f"ws-{prefix}{t:05d}", "participant_id": pid,
                                "tenant_id": tid, "role": "owner" if p == 0 else "editor",
                                "created_at": now})  # fmt: skip
            made["tenants"].append(slug)
            made["participants"][tid] = pids
        insert_batches(s, m.Tenant, tenant_rows)
        insert_batches(s, m.Workspace, ws_rows)
        insert_batches(s, m.Participant, p_rows)
        insert_batches(s, m.WorkspaceMember, wm_rows)
        room_rows, rm_rows = [], []
        room_of = []
        for r in range(rooms):
            t = r % tenants
            tid = f"tnt-{prefix}{t:05d}"
            rid = f"room-{prefix}{r:06d}"
            pids = made["participants"][tid]
            room_rows.append({"id": rid, "tenant_id": tid, "workspace_id": f"ws-{prefix}{t:05d}",
                              "type": "group", "state": "open", "name": f"Room {r}",
                              "topic": "generated", "creator_id": pids[0], "federated": False,
                              "do_not_index": False, "created_at": now})  # fmt: skip
            rm_rows += [{"room_id": rid, "participant_id": pid, "tenant_id": tid,
                         "power_level": 100 if i == 0 else 0, "membership": "join",
                         "joined_at": now} for i, pid in enumerate(pids)]  # fmt: skip
            room_of.append((rid, tid, pids))
            made["rooms"].append(rid)
        insert_batches(s, m.Room, room_rows)
        insert_batches(s, m.RoomMember, rm_rows)

    per_room = max(1, events // max(rooms, 1))
    base_ms = int(dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp() * 1000)
    done = 0
    for ri, (rid, tid, pids) in enumerate(room_of):
        count = per_room if ri < rooms - 1 else events - done
        if count <= 0:
            break
        with store.transaction() as s:
            positions = next_stream_positions(s, block=count)
            media_rows = []

            def rows(rid=rid, tid=tid, pids=pids, count=count, positions=positions,
                     media_rows=media_rows, done=done):  # fmt: skip
                previous = None
                for i in range(count):
                    n = done + i
                    eid = f"evt-{prefix}{n:09d}"
                    ts = base_ms + n * 1000
                    roll = rng.random()
                    row = {"id": eid, "tenant_id": tid, "room_id": rid,
                           "sender_id": pids[n % len(pids)], "stream_position": next(positions),
                           "origin_ts": ts, "created_at": now, "edited_at": None,
                           "redacted_at": None, "original_content": None, "event_uuid": None,
                           "relation_type": None, "relates_to_id": None,
                           "do_not_index": False}  # fmt: skip
                    if n % 500 == 499:
                        data = source[: rng.randint(2000, 20000)].encode()
                        sha, size = store.media.put_bytes(tid, data)
                        mid = f"med-{prefix}{n:09d}"
                        media_rows.append({"id": mid, "tenant_id": tid, "sha256": sha,
                                           "name": f"file-{n}.txt", "size": size,
                                           "content_type": "text/plain",
                                           "storage_key": store.media.storage_key(tid, sha),
                                           "room_id": rid, "event_id": eid, "uploader_id":
                                           row["sender_id"], "created_at": now})  # fmt: skip
                        row["event_type"] = "swp.room.message"
                        row["content"] = {"msgtype": "swp.media", "body": f"file-{n}.txt",
                                          "media_id": mid, "sha256": sha}  # fmt: skip
                    elif roll < 0.02 and previous:
                        row["event_type"] = "swp.reaction"
                        row["relation_type"] = "reaction"
                        row["relates_to_id"] = previous
                        row["content"] = {"key": "+1"}
                    else:
                        start = rng.randrange(0, len(source) - 4096)
                        body = source[start : start + rng.randint(200, 4000)]
                        row["event_type"] = "swp.room.message"
                        row["content"] = {"msgtype": "swp.text", "body": body}
                        if roll > 0.995:
                            row["original_content"] = row["content"]
                            row["content"] = {"msgtype": "swp.text", "body": body[::-1]}
                            row["edited_at"] = now
                        elif 0.985 < roll <= 0.99:
                            row["content"] = {}
                            row["redacted_at"] = now
                        previous = eid
                    yield row
                    if progress and (n + 1) % 100000 == 0:
                        progress(n + 1)

            insert_batches(s, m.Event, rows(), batch_size=batch)
            insert_batches(s, m.Media, media_rows)
            made["media"] += len(media_rows)
        done += count
    made["events"] = done
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument("--events", type=int, default=100000)
    parser.add_argument("--participants", type=int, default=5)
    parser.add_argument("--db-url", default=None)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    from scaiwave_cli.config import load_settings
    from scaiwave_cli.store import migrate, open_store

    settings = load_settings({"db_url": args.db_url} if args.db_url else {})
    store = open_store(settings, check_schema=False)
    if store.revision() is None:
        migrate.upgrade(store.engine)
    started = time.perf_counter()
    made = generate(store, tenants=args.tenants, rooms=args.rooms, events=args.events,
                    participants=args.participants, seed=args.seed,
                    progress=lambda n: print(f"  {n:,} events", file=sys.stderr))  # fmt: skip
    took = time.perf_counter() - started
    print(f"generated {args.tenants} tenants, {args.rooms} rooms, {made['events']:,} events, "
          f"{made['media']} media files in {took:.1f} s "
          f"({made['events'] / took:,.0f} events/s) into {store.masked_url}")  # fmt: skip
    store.close()


if __name__ == "__main__":
    main()
