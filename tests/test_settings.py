import re
from pathlib import Path

import pytest

from appliance.errors import SettingsError
from appliance.settings import field_names, load_settings

DOCS = Path(__file__).resolve().parent.parent / "docs" / "settings.md"


def test_every_setting_is_documented():
    documented = set(re.findall(r"^### `(\w+)`", DOCS.read_text(), flags=re.M))
    missing = set(field_names()) - documented
    stale = documented - set(field_names())
    assert not missing, f"settings missing from docs/settings.md: {sorted(missing)}"
    assert not stale, f"docs/settings.md documents settings that do not exist: {sorted(stale)}"


def test_env_overrides_file_and_types_are_coerced(tmp_path):
    (tmp_path / "appliance.toml").write_text("chunk_size = 100\nretrieval_k = 3\n")
    s = load_settings({"data_dir": str(tmp_path)}, environ={"APPLIANCE_RETRIEVAL_K": "7"})
    assert s.chunk_size == 100 and s.retrieval_k == 7
    assert isinstance(s.data_dir, Path)
    assert s.db_url.startswith("sqlite:///") and s.db_url.endswith("appliance.db")


def test_unknown_env_setting_is_refused():
    with pytest.raises(SettingsError, match="APPLIANCE_NOPE"):
        load_settings(environ={"APPLIANCE_NOPE": "1"})


def test_bad_file_names_the_file(tmp_path):
    bad = tmp_path / "s.toml"
    bad.write_text("chunk_size = 'many'\n")
    with pytest.raises(SettingsError, match="chunk_size"):
        load_settings(settings_file=bad, environ={})
    bad.write_text("no_such = 1\n")
    with pytest.raises(SettingsError, match="no_such"):
        load_settings(settings_file=bad, environ={})


def test_invalid_values_are_refused():
    with pytest.raises(SettingsError, match="overlap"):
        load_settings({"chunk_size": 10, "chunk_overlap": 10}, environ={})
    with pytest.raises(SettingsError, match="fusion"):
        load_settings({"fusion": "magic"}, environ={})
    with pytest.raises(SettingsError, match="query_precision"):
        load_settings({"query_precision": "int4"}, environ={})


def test_refusal_bias_and_answer_check_are_auto_or_a_number(tmp_path):
    assert load_settings(environ={}).fixed_refusal_bias is None
    assert load_settings(environ={"APPLIANCE_REFUSAL_BIAS": "-1.5"}).fixed_refusal_bias == -1.5
    (tmp_path / "appliance.toml").write_text("refusal_bias = 2.25\n")  # a TOML number works too
    assert load_settings({"data_dir": str(tmp_path)}, environ={}).fixed_refusal_bias == 2.25
    for bad, message in (("lots", "auto or a number"), ("99", "between -20 and 20")):
        with pytest.raises(SettingsError, match=message):
            load_settings({"refusal_bias": bad}, environ={})
    assert load_settings(environ={}).fixed_answer_check is None  # auto
    assert load_settings({"answer_check": "off"}, environ={}).fixed_answer_check == "off"
    assert load_settings({"answer_check": "0.4"}, environ={}).fixed_answer_check == 0.4
    for bad in ("maybe", "2"):
        with pytest.raises(SettingsError, match="answer_check"):
            load_settings({"answer_check": bad}, environ={})
    with pytest.raises(SettingsError, match="calibration_min_refusal_accuracy"):
        load_settings({"calibration_min_refusal_accuracy": 80}, environ={})
    assert load_settings(environ={}).calibration_confidence == 0.9
    for bad in (1.0, -0.1, 90):
        with pytest.raises(SettingsError, match="calibration_confidence"):
            load_settings({"calibration_confidence": bad}, environ={})


def test_settings_are_frozen():
    s = load_settings(environ={})
    with pytest.raises(Exception):
        s.chunk_size = 5
