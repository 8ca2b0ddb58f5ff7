"""Which populations the benchmarks keep, and where: each homeserver kind its own snapshot (a run
on Synapse with workers must never start from a single Synapse's folder, or the reverse)."""

from __future__ import annotations

from bench.population import CACHE, PopulationSpec, homeserver_factory, snapshot_paths
from bot.localsynapse_workers import _saved_name


def test_each_homeserver_kind_keeps_its_own_snapshot() -> None:
    spec = PopulationSpec(participants=10, forum=5)
    single = snapshot_paths(spec, "single")
    workers = snapshot_paths(spec, "workers")
    wide = snapshot_paths(spec, "workers-2-2")
    assert single == (CACHE / spec.key(), None)  # as before: existing snapshots stay valid
    assert workers is not None and wide is not None
    assert len({single[0], workers[0], wide[0]}) == 3
    assert workers[1] != wide[1]
    for _, database in (workers, wide):
        assert database is not None and _saved_name(database) == database  # a name the harness may drop
    # Homeservers whose state it cannot copy are built each time.
    assert snapshot_paths(spec, "single-postgres") is None
    assert snapshot_paths(spec, "bench.population:SingleSynapse") is None


def test_workers_layouts_by_name() -> None:
    assert callable(homeserver_factory("workers-2-2"))
    assert callable(homeserver_factory("workers"))


def test_the_key_does_not_change_with_the_checkout_synapse_is_installed_in(monkeypatch) -> None:
    import synapse

    spec = PopulationSpec(participants=10, forum=5)
    before = spec.key()
    # synapse.__version__ carries `git describe` of the folder around the venv: a commit to main.
    monkeypatch.setattr(synapse, "__version__", synapse.__version__ + " (b=main,0123abc)")
    assert spec.key() == before
