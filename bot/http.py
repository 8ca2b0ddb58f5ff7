"""/healthz and Prometheus /metrics on a loopback address (config `http`)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.metrics import REGISTRY

if TYPE_CHECKING:
    from bot.app import App


async def serve_http(app: "App") -> web.AppRunner:
    async def healthz(_request: web.Request) -> web.Response:
        health = await asyncio.to_thread(app.health)
        return web.json_response(health, status=200 if health["ok"] else 503)

    async def metrics(_request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})

    web_app = web.Application()
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, app.settings.http.host, app.settings.http.port)
    await site.start()
    return runner

