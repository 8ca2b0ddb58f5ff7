"""The floor: a bare matrix-nio bot with end-to-end encryption that answers every text message
with the same text as a notice, and does nothing else (no database, no commands).

It syncs, handles keys and sends exactly as ReConnect's loop does, so the difference between
the two is what ReConnect adds (its database, router and outbox).

    .venv/bin/python -m bench.echo_bot --homeserver URL --user @echo:localhost --password PW --store DIR
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path

from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    LoginResponse,
    MatrixRoom,
    RoomMessageText,
    SyncResponse,
)


class EchoBot:
    def __init__(self, homeserver: str, user_id: str, password: str, store: Path) -> None:
        store.mkdir(parents=True, exist_ok=True)
        self.password = password
        self.client = AsyncClient(homeserver, user_id, store_path=str(store),
                                  config=AsyncClientConfig(store_sync_tokens=True, encryption_enabled=True))

    async def start(self) -> None:
        resp = await self.client.login(self.password, device_name="echo bench")
        if not isinstance(resp, LoginResponse):
            raise RuntimeError(f"echo bot could not log in: {resp}")
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        first = await self.client.sync(timeout=0, full_state=True)
        if isinstance(first, SyncResponse):
            await self._keys()
        self.client.add_event_callback(self._on_message, RoomMessageText)

    async def _keys(self) -> None:
        c = self.client
        await c.send_to_device_messages()
        if c.should_upload_keys:
            await c.keys_upload()
        if c.should_query_keys:
            await c.keys_query()
        if c.should_claim_keys:
            await c.keys_claim(c.get_users_for_key_claiming())

    async def _on_message(self, room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender == self.client.user_id:
            return
        await self.client.room_send(room.room_id, "m.room.message", {"msgtype": "m.notice", "body": event.body},
                                    ignore_unverified_devices=True)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            resp = await self.client.sync(timeout=30_000)
            if not isinstance(resp, SyncResponse):
                await asyncio.sleep(1)
                continue
            await self._keys()
            for room_id, info in resp.rooms.invite.items():
                if any(isinstance(e, InviteMemberEvent) and e.membership == "invite" for e in info.invite_state):
                    await self.client.join(room_id)

    async def close(self) -> None:
        await self.client.close()


async def main_async(args: argparse.Namespace) -> None:
    bot = EchoBot(args.homeserver, args.user, args.password, Path(args.store))
    await bot.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print("echo bot running", flush=True)
    runner = asyncio.create_task(bot.run(stop))
    await stop.wait()
    runner.cancel()
    try:
        await runner
    except (asyncio.CancelledError, Exception):  # noqa: BLE001
        pass
    await bot.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="bare E2E echo bot (benchmark floor)")
    parser.add_argument("--homeserver", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--store", required=True)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
