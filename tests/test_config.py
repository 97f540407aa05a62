"""Settings from HUB_* variables, and the README's table generated from them."""

from pathlib import Path

import pytest

from hub.config import ConfigError, load_settings, markdown_table


def test_defaults_are_the_embedded_engines_on_loopback():
    s = load_settings({})
    assert (s.host, s.records_engine, s.live_engine) == ("127.0.0.1", "sqlite", "memory")


def test_variables_are_converted_to_their_types():
    s = load_settings({"HUB_PORT": "9001", "HUB_MAX_SPEED_KMH": "180.5", "PATH": "/bin"})
    assert (s.port, s.max_speed_kmh) == (9001, 180.5)


def test_urls_switch_the_engines():
    s = load_settings({"HUB_REDIS_URL": "redis://x", "HUB_DATABASE_URL": "postgresql://y"})
    assert (s.records_engine, s.live_engine) == ("postgres", "redis")


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"HUB_PORT": "eighty"}, "HUB_PORT"),
        ({"HUB_PORT": "70000"}, "HUB_PORT"),
        ({"HUB_MAX_FRAME_BYTES": "10"}, "HUB_MAX_FRAME_BYTES"),
        ({"HUB_PROT": "1"}, "HUB_PROT"),
    ],
)
def test_bad_configuration_names_the_variable(env, names):
    with pytest.raises(ConfigError, match=names):
        load_settings(env)


def test_readme_configuration_table_is_current():
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    assert markdown_table() in readme, "run `hub config` and paste the table into README.md"
