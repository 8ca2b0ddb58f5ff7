from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.yaml"
    p.write_text(text)
    return p


GOOD = """
homeserver: {url: "http://127.0.0.1:8008"}
bot: {user_id: "@bot:localhost", password: "pw"}
communities: [{name: North, timezone: Europe/Oslo}]
"""


def test_example_config_is_valid():
    settings = load_config(ROOT / "config.example.yaml")
    assert settings.bot.command_prefix == "!"
    assert [n.number for n in settings.crisis.numbers] == ["113", "116 117", "116 123", "22 40 00 40"]


def test_defaults_and_sqlite_under_data_dir(tmp_path):
    settings = load_config(write(tmp_path, GOOD))
    assert settings.storage.resolved_database_url().endswith("data/reconnect.db")
    assert settings.language == "en"


B = 'homeserver: {url: "http://x"}\nbot: {user_id: "@b:l"}\n'


@pytest.mark.parametrize("text, key", [
    ('homeserver: {url: "ftp://x"}\nbot: {user_id: "@b:l"}', "homeserver.url"),
    ('homeserver: {url: "http://x"}\nbot: {user_id: "bot"}', "bot.user_id"),
    ('homeserver: {url: "http://x"}', "bot"),
    ('homeserver: {url: "http://x"}\nbot: {user_id: "@b:l"}\ncommunities: [{name: N, timezone: Mars/Olympus}]',
     "communities.0.timezone"),
    ('homeserver: {url: "http://x"}\nbot: {user_id: "@b:l"}\nlanguage: fr', "language"),
    ('homeserver: {url: "http://x"}\nbot: {user_id: "@b:l"}\npeople: {consultants: [bob]}', "people.consultants"),
    ('homeserver: {url: "http://x"}\nbot: {user_id: "@b:l"}\nbogus: 1', "bogus"),
    ('homeserver: {url: "http://x"}\nbot: {user_id: "@b:l", command_prefix: ""}', "bot.command_prefix"),
    # Checked at load, before login (they used to fail only in a start hook, or not at all).
    (B + 'moderation: {staffed_hours: weekdays}', "moderation.staffed_hours"),
    (B + 'moderation: {staffed_timezone: Mars/Olympus}', "moderation.staffed_timezone"),
    (B + 'schedules: {cafe_room_reminders: ["3d", someday]}', "schedules.cafe_room_reminders"),
    (B + 'schedules: {cafe_private_reminder: soon}', "schedules.cafe_private_reminder"),
    (B + 'schedules: {digest_time: "half past eight"}', "schedules.digest_time"),
    (B + 'schedules: {digest_time: "25:00"}', "schedules.digest_time"),
    (B + 'schedules: {digest_timezone: Mars/Olympus}', "schedules.digest_timezone"),
    (B + 'crisis: {phrases_dir: /nonexistent/phrases}', "crisis.phrases_dir"),
])
def test_bad_config_names_the_key(tmp_path, text, key):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    assert f"'{key}'" in str(err.value)
    assert "\n" not in str(err.value)


def test_environment_overrides_nested_key(tmp_path, monkeypatch):
    monkeypatch.setenv("RECONNECT_BOT__COMMAND_PREFIX", "?")
    monkeypatch.setenv("RECONNECT_HOMESERVER__URL", "http://127.0.0.1:9999")
    settings = load_config(write(tmp_path, GOOD))
    assert settings.bot.command_prefix == "?"
    assert settings.homeserver.url == "http://127.0.0.1:9999"
    assert settings.bot.password == "pw"


def test_bad_environment_value_names_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv("RECONNECT_LANGUAGE", "de")
    with pytest.raises(ConfigError, match="'language'"):
        load_config(write(tmp_path, GOOD))


def test_cli_exits_nonzero_with_one_line(tmp_path):
    path = write(tmp_path, 'homeserver: {url: "http://x"}\nbot: {user_id: "nobody"}')
    result = subprocess.run([sys.executable, "-m", "bot.cli", "run", "-c", str(path)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "'bot.user_id'" in lines[0]


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write(tmp_path, "bot: [unclosed"))


def test_demo_health_port_moves_when_taken() -> None:
    import socket

    from bot.cli import _http_port

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        chosen = _http_port(taken)
        assert chosen != taken and chosen > 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    assert _http_port(free) == free


def test_a_phrases_dir_needs_both_languages_and_warns_when_empty(tmp_path, caplog):
    phrases = tmp_path / "phrases"
    phrases.mkdir()
    (phrases / "en.txt").write_text("I want to die\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'crisis.phrases_dir'.*nb.txt"):
        load_config(write(tmp_path, B + f"crisis: {{phrases_dir: {phrases}}}"))
    (phrases / "nb.txt").write_text("# nothing yet\n", encoding="utf-8")
    with caplog.at_level("WARNING"):
        settings = load_config(write(tmp_path, B + f"crisis: {{phrases_dir: {phrases}}}"))
    assert settings.crisis.phrases_dir == phrases
    assert any("holds no phrases" in r.getMessage() for r in caplog.records)


def test_several_staffed_spans_are_accepted(tmp_path):
    settings = load_config(write(tmp_path, B + 'moderation: {staffed_hours: "mon-fri 09:00-15:00, sat 10:00-12:00"}'))
    assert settings.moderation.staffed_hours.startswith("mon-fri")


def test_access_token_needs_its_device_id(tmp_path):
    with pytest.raises(ConfigError, match="'bot'.*bot.device_id is needed"):
        load_config(write(tmp_path, 'homeserver: {url: "http://x"}\nbot: {user_id: "@b:l", access_token: t}'))
    settings = load_config(write(tmp_path, 'homeserver: {url: "http://x"}\n'
                                           'bot: {user_id: "@b:l", access_token: t, device_id: DEV}'))
    assert settings.bot.device_id == "DEV" and settings.bot.password is None
