"""What features get of the running bot: the narrow ``Runtime`` and the hook contract."""

from __future__ import annotations

import asyncio

from bot.feature import Feature, Stop
from bot.runtime import BotRuntime, Runtime, Slot, Slots
from bot.speaker import Speaker
from tests.support.core import FakePort, FakeRuntime


def test_the_bot_runtime_and_the_fake_are_both_runtimes(sqlite_db, services) -> None:
    wakes: list[int] = []
    real: Runtime = BotRuntime(settings=services.settings, port=FakePort(),
                               speaker=Speaker(services.catalogue, services.settings), features=services.features,
                               db_lock=asyncio.Lock(), database=sqlite_db, wake=lambda: wakes.append(1))
    fake: Runtime = FakeRuntime(db=sqlite_db, port=FakePort(), settings=services.settings, services=services)
    for runtime in (real, fake):
        assert isinstance(runtime, Runtime)
        with runtime.session() as s:
            assert s.bind is not None
        said = runtime.speaker.t("en", "core.lang_set", language="English")
        assert said == "I'll talk to you in English from now on."
    real.wake_outbox()
    assert wakes == [1]
    assert not isinstance(object(), Runtime)


def test_slots_are_per_runtime_and_typed_by_their_name() -> None:
    counter: Slot[list[int]] = Slot("test.counter")
    one, two = Slots(), Slots()
    one.put(counter, [1])
    assert one.get(counter) == [1] and two.get(counter) is None
    one.clear(counter)
    assert one.get(counter) is None


async def test_start_hooks_get_the_runtime_and_return_their_stop(sqlite_db, services) -> None:
    feature, seen = Feature(name="probe"), []

    @feature.started
    async def start(runtime: Runtime) -> Stop:
        seen.append(("start", runtime.settings.bot.user_id))

        async def stop() -> None:
            seen.append(("stop", runtime.settings.bot.user_id))

        return stop

    runtime = FakeRuntime(db=sqlite_db, port=FakePort(), settings=services.settings, services=services)
    (hook,) = feature.on_start
    stop = await hook(runtime)
    assert stop is not None
    await stop()
    assert seen == [("start", "@bot:localhost"), ("stop", "@bot:localhost")]
