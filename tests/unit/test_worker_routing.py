"""The routing proxy of the workers homeserver sends each client path where Synapse's worker
documentation says it may go, and everything else to the main process."""

from __future__ import annotations

import pytest

from bot.localsynapse_workers import pick_upstream, route_for, routing_table

ROUTES = routing_table()


@pytest.mark.parametrize(("method", "path", "upstream"), [
    ("GET", "/_matrix/client/v3/sync", "sync"),
    ("GET", "/_matrix/client/r0/sync", "sync"),
    ("POST", "/_matrix/client/v3/keys/query", "reader"),
    ("POST", "/_matrix/client/v3/keys/claim", "reader"),
    ("POST", "/_matrix/client/v3/keys/upload", "reader"),
    ("GET", "/_matrix/client/v3/keys/changes", "reader"),
    ("GET", "/_matrix/client/v3/rooms/!a:x/joined_members", "reader"),
    ("GET", "/_matrix/client/v3/rooms/!a:x/members", "reader"),
    ("GET", "/_matrix/client/v3/rooms/!a:x/state", "reader"),
    ("GET", "/_matrix/client/v3/rooms/!a:x/messages", "reader"),
    ("GET", "/_matrix/client/v3/joined_rooms", "reader"),
    ("GET", "/_matrix/client/versions", "reader"),
    ("GET", "/_matrix/client/v3/profile/@a:x/displayname", "reader"),
    # Writes, registration, media and the admin API stay on the main process.
    ("PUT", "/_matrix/client/v3/profile/@a:x/displayname", "main"),
    ("PUT", "/_matrix/client/v3/rooms/!a:x/send/m.room.message/t1", "main"),
    ("PUT", "/_matrix/client/v3/rooms/!a:x/state/m.room.name/", "main"),
    ("PUT", "/_matrix/client/v3/sendToDevice/m.room.encrypted/t2", "main"),
    ("POST", "/_matrix/client/v3/createRoom", "main"),
    ("POST", "/_synapse/admin/v1/register", "main"),
    ("POST", "/_matrix/media/v3/upload", "main"),
    ("GET", "/_matrix/client/v1/media/download/x/abc", "main"),
    ("GET", "/_matrix/client/v3/syncs", "main"),
])
def test_each_path_goes_to_its_worker(method: str, path: str, upstream: str) -> None:
    assert route_for(ROUTES, method, path)[0] == upstream


WRITER_ROUTES = routing_table(writers=True)


@pytest.mark.parametrize(("method", "path", "upstream"), [
    ("POST", "/_matrix/client/v3/createRoom", "writer"),
    ("POST", "/_matrix/client/v3/join/!a:x", "writer"),
    ("POST", "/_matrix/client/v3/rooms/!a:x/invite", "writer"),
    ("POST", "/_matrix/client/v3/rooms/!a:x/kick", "writer"),
    ("PUT", "/_matrix/client/v3/rooms/!a:x/send/m.room.message/t1", "writer"),
    ("PUT", "/_matrix/client/v3/rooms/!a:x/state/m.room.name/", "writer"),
    ("PUT", "/_matrix/client/v3/rooms/!a:x/redact/$e/t3", "writer"),
    # The rest as without writers.
    ("GET", "/_matrix/client/v3/sync", "sync"),
    ("GET", "/_matrix/client/v3/rooms/!a:x/state", "reader"),
    ("GET", "/_matrix/client/v3/rooms/!a:x/messages", "reader"),
    ("PUT", "/_matrix/client/v3/sendToDevice/m.room.encrypted/t2", "main"),
    ("POST", "/_synapse/admin/v1/register", "main"),
])
def test_with_writers_event_sending_goes_to_them(method: str, path: str, upstream: str) -> None:
    assert route_for(WRITER_ROUTES, method, path)[0] == upstream


def test_one_room_always_goes_to_the_same_writer_and_new_rooms_take_turns() -> None:
    names = ["main", "sync", "reader", "writer1", "writer2"]
    room = "/_matrix/client/v3/rooms/%21abc%3Ax/send/m.room.message/t{}"
    chosen = {pick_upstream("writer", names, room.format(i), turn=i) for i in range(20)}
    assert len(chosen) == 1
    assert pick_upstream("writer", names, "/_matrix/client/v3/join/!abc:x", turn=7) in chosen  # quoted or not
    created = [pick_upstream("writer", names, "/_matrix/client/v3/createRoom", turn=i) for i in range(4)]
    assert created == ["writer1", "writer2", "writer1", "writer2"]
    assert pick_upstream("sync", names, "/_matrix/client/v3/sync", turn=3) == "sync"
