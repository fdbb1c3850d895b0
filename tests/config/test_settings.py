"""Configuration: the TOML file, the built-in network, environment and command line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from backend.config.loading import load_config, load_settings
from backend.config.schema import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_builtin_network_has_four_services_and_seven_openwebrx_receivers():
    settings = load_settings([], {})
    config = settings.config
    assert [s.name for s in config.services] == ["rf-acquisition", "training", "inference", "data-ingestion-web"]
    assert [s.url for s in config.services] == [f"http://localhost:{p}/health" for p in (8001, 8002, 8003, 8004)]
    assert [w.id for w in config.websdrs] == ["giaveno", "montanaro", "torino", "coazze", "passo-del-giovi",
                                              "genova", "milano-baggio"]
    assert all(w.kind == "openwebrx" for w in config.websdrs)
    assert all(w.frequency_ranges_mhz == [[144.0, 146.0], [430.0, 440.0]] for w in config.websdrs)
    torino = next(w for w in config.websdrs if w.id == "torino")
    assert (torino.latitude, torino.longitude, torino.altitude_m, torino.url) == (45.044, 7.672, 250, "http://vst-aero.it:8073/")
    assert (settings.host, settings.port, str(settings.data_dir)) == ("127.0.0.1", 8000, "data")


def test_a_config_file_replaces_the_default_entirely(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[polling]\ntimeout_s = 2\n')
    config = load_config(path)
    assert config.services == [] and config.websdrs == []
    assert config.polling.timeout_s == 2 and config.polling.services_interval_s == 30


def test_environment_and_flags(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("")
    env = {"HEIMDALL_HOST": "0.0.0.0", "HEIMDALL_PORT": "9000", "HEIMDALL_CONFIG": str(path),
           "HEIMDALL_DATA_DIR": "/tmp/x", "HEIMDALL_API_TOKEN": "secret"}
    from_env = load_settings([], env)
    assert (from_env.host, from_env.port, from_env.config_path, str(from_env.data_dir), from_env.api_token) == (
        "0.0.0.0", 9000, path, "/tmp/x", "secret")
    flags = load_settings(["--host", "127.0.0.2", "--port", "9001", "--data-dir", "/tmp/y"], env)
    assert (flags.host, flags.port, str(flags.data_dir)) == ("127.0.0.2", 9001, "/tmp/y")


@pytest.mark.parametrize("text, words", [
    ("[[services]]\nname = 'a'\nurl = 'http://x/'\ncolour = 'red'\n", ["services[0].colour", "unknown key"]),
    ("[polling]\ntimeout_s = 'soon'\n", ["polling.timeout_s"]),
    ("[[websdrs]]\nid = 'a'\nname = 'A'\nurl = 'http://x/'\nkind = 'sdrplay'\nlatitude = 1\nlongitude = 2\n",
     ["websdrs[0].kind"]),
    ("[[websdrs]]\nid = 'a'\nname = 'A'\nurl = 'http://x/'\nkind = 'http'\nlatitude = 91\nlongitude = 2\n",
     ["websdrs[0].latitude"]),
    ("[[services]]\nname = 'a'\nurl = 'ftp://x/'\n", ["services[0].url"]),
    ("[[services]]\nname = 'a'\nurl = 'http://x/'\n[[services]]\nname = 'a'\nurl = 'http://y/'\n", ["'a' appears twice"]),
    ("[surprise]\n", ["surprise", "unknown key"]),
    ("this is = = not toml", ["not valid TOML"]),
    # Strict types: no string-to-number, no bool-to-number.
    ("[polling]\ntimeout_s = '5'\n", ["polling.timeout_s", "valid number"]),
    ("[polling]\nservices_interval_s = true\n", ["polling.services_interval_s"]),
    ("[polling]\ndown_after = 2.5\n", ["polling.down_after"]),
    ("[[websdrs]]\nid = 'a'\nname = 'A'\nurl = 'http://x/'\nkind = 'http'\nlatitude = '45.044'\nlongitude = 2\n",
     ["websdrs[0].latitude"]),
    # Bounds that keep the gateway sane.
    ("[polling]\nservices_interval_s = 1e-300\n", ["polling.services_interval_s", "greater than or equal to 1"]),
    ("[websocket]\nheartbeat_interval_s = 1e-9\n", ["websocket.heartbeat_interval_s"]),
    ("[polling]\ntimeout_s = inf\n", ["polling.timeout_s"]),
    ("[polling]\ntimeout_s = nan\n", ["polling.timeout_s"]),
    ("[map]\ntile_url = 'https://tiles.example/{z}/{x}.png'\n", ["map.tile_url", "{y}"]),
    ("[[websdrs]]\nid = 'A B'\nname = 'A'\nurl = 'http://x/'\nkind = 'http'\nlatitude = 1\nlongitude = 2\n",
     ["websdrs[0].id: must be lower-case"]),
    ("x = " + "[" * 2000 + "]" * 2000 + "\n", ["nested too deeply"]),
])
def test_bad_config_names_file_and_key(tmp_path, text, words):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert str(path) in message
    for word in words:
        assert word in message


def run_main(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env=env)


def test_every_problem_is_listed_one_line_each_without_pydantic_prefixes(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[polling]\ntimeout_s = '5'\nservices_interval_s = true\n[[services]]\nname = 'a'\n"
                    "url = 'ftp://x'\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    lines = str(error.value).splitlines()
    assert len(lines) == 3 and all(line.startswith(f"{path}: ") for line in lines)
    assert {line.split(": ")[1] for line in lines} == {"services[0].url", "polling.services_interval_s",
                                                        "polling.timeout_s"}
    assert "Value error" not in str(error.value)
    assert "services[0].url: must be an http:// or https:// URL" in str(error.value)


@pytest.mark.parametrize("make", ["fifo", "dev-zero", "directory", "too-large"])
def test_only_regular_files_of_sane_size_are_read(tmp_path, make):
    path = tmp_path / "c.toml"
    if make == "fifo":
        os.mkfifo(path)
    elif make == "dev-zero":
        path = Path("/dev/zero")
    elif make == "directory":
        path.mkdir()
    else:
        path.write_text("# " + "x" * (1024 * 1024) + "\n")
    with pytest.raises(ConfigError) as error:  # and never hangs: pytest-timeout would say so
        load_config(path)
    assert str(path) in str(error.value)
    assert ("not a regular file" if make != "too-large" else "larger than") in str(error.value)


def test_service_urls_can_be_pointed_elsewhere_from_the_environment(tmp_path):
    settings = load_settings([], {"HEIMDALL_SERVICE_URL_RF_ACQUISITION": "http://rf-acquisition:8001/health",
                                  "HEIMDALL_SERVICE_URL_INFERENCE": "http://inference:8003/health"})
    urls = {s.name: s.url for s in settings.config.services}
    assert urls["rf-acquisition"] == "http://rf-acquisition:8001/health"
    assert urls["inference"] == "http://inference:8003/health"
    assert urls["training"] == "http://localhost:8002/health"
    with pytest.raises(ConfigError, match="HEIMDALL_SERVICE_URL_WEATHER: no such service"):
        load_settings([], {"HEIMDALL_SERVICE_URL_WEATHER": "http://x/"})
    with pytest.raises(ConfigError, match="services\\[2\\].url"):
        load_settings([], {"HEIMDALL_SERVICE_URL_INFERENCE": "inference:8003"})


def test_main_exits_2_with_one_line_for_a_bad_config(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[polling]\ntimeout_s = -1\n")
    result = run_main("--config", str(path), "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "polling.timeout_s" in lines[0] and str(path) in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_main_exits_2_for_a_missing_config_file(tmp_path):
    result = run_main("--config", str(tmp_path / "nope.toml"))
    assert result.returncode == 2 and "nope.toml" in result.stderr and "Traceback" not in result.stderr


def test_main_exits_2_when_the_port_is_in_use(tmp_path):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    path = tmp_path / "c.toml"
    path.write_text("")
    try:
        result = run_main("--port", str(port), "--config", str(path), "--data-dir", str(tmp_path / "d"))
    finally:
        holder.close()
    assert result.returncode == 2
    assert result.stderr.strip() == f"heimdall: cannot listen on 127.0.0.1:{port}: address already in use"


def test_main_exits_2_for_a_bad_port():
    result = run_main("--port", "eighty")
    assert result.returncode == 2 and "port" in result.stderr and "Traceback" not in result.stderr


def test_main_lists_every_wrong_type_and_exits_2(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[polling]\ntimeout_s = \"5\"\nservices_interval_s = true\n")
    result = run_main("--config", str(path), "--data-dir", str(tmp_path / "d"))
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 2 and "Traceback" not in result.stderr
    assert all(line.startswith(f"heimdall: {path}: polling.") for line in lines)
