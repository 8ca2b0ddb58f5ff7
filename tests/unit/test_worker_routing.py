"""The routing proxy of the workers homeserver sends each client path where Synapse's worker
documentation says it may go, and everything else to the main process."""

from __future__ import annotations

import pytest

from bot.localsynapse_workers import route_for, routing_table

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
