import copy

import pytest

from queue_core.config import office_from_profile, parse_office_config, parse_office_toml
from queue_core.errors import ConfigError
from queue_core.norms import PROFILES

from .helpers import office_dict


def broken(mutate):
    data = copy.deepcopy(office_dict())
    mutate(data)
    return data


@pytest.mark.parametrize("mutate, key, problem", [
    (lambda d: d.pop("office"), "office", "required"),
    (lambda d: d["office"].update(id="bad id!"), "office.id", "latin"),
    (lambda d: d["office"].update(profile="nope"), "office.profile", "must be one of"),
    (lambda d: d["office"].update(timezone="Mars/Base"), "office.timezone", "unknown time zone"),
    (lambda d: d["topics"][1].update(prefix="А"), "topics[1].prefix", "already used"),
    (lambda d: d["topics"][1].update(code="A"), "topics[1].code", "already used"),
    (lambda d: d["topics"][0].update(wait_norm_min=0), "topics[0].wait_norm_min", "positive"),
    (lambda d: d["topics"][0].update(wait_norm_min=-5), "topics[0].wait_norm_min", "positive"),
    (lambda d: d["topics"][0].update(form="cash"), "topics[0].form", "no service form"),
    (lambda d: d["topics"][0].update(colour="red"), "topics[0].colour", "not a known setting"),
    (lambda d: d["windows"][0].update(topics=["A", "Q"]), "windows[0].topics[1]", "unknown topic 'Q'"),
    (lambda d: d["windows"].append({"number": 1, "topics": ["A"]}), "windows[3].number", "defined twice"),
    (lambda d: [w.update(topics=["A", "R"]) for w in d["windows"]], "topics[2]", "served by no window"),
    (lambda d: d["windows"][0].update(weights={"A": 0}), "windows[0].weights.A", "(0, 100]"),
    (lambda d: d["calendar"]["hours"].update(mon="17:00-08:00"), "calendar.hours.mon", "ends before"),
    (lambda d: d["calendar"]["hours"].update(funday="08:00-09:00"), "calendar.hours.funday", "must be one of"),
    (lambda d: d["calendar"].update(holidays=["31.12.2026"]), "calendar.holidays[0]", "YYYY-MM-DD"),
    (lambda d: d["queue"].update(policy="random"), "queue.policy", "must be one of"),
    (lambda d: d["queue"].update(number_width="3"), "queue.number_width", "must be int"),
    (lambda d: d["queue"].update(priority_max_in_row=0), "queue.priority_max_in_row", "1..100"),
])
def test_bad_config_names_the_key(mutate, key, problem):
    with pytest.raises(ConfigError) as info:
        parse_office_config(broken(mutate))
    assert info.value.key == key
    assert problem in info.value.problem


def test_empty_norm_is_no_norm_never_zero():
    cfg = parse_office_config(office_dict())
    assert cfg.topic("C").wait_norm_min is None          # ОСИР «прием отчетов»: no wait norm
    assert cfg.topic("C").service_norm_min == 2
    data = office_dict()
    data["topics"][0]["wait_norm_min"] = ""
    assert parse_office_config(data).topic("A").wait_norm_min is None


def test_profiles_match_the_seeds():
    mek, oek, atom = PROFILES["mek"], PROFILES["oek"], PROFILES["atom"]
    assert (mek.form("oprsn").wait_min, mek.form("oprsn").service_min) == (15, 10)      # 000:743-744
    assert mek.form("oprsn_head").wait_min is None and mek.aggregation == "mean"
    assert oek.total_visit_max_min == 30 and oek.form("dispatch").wait_min is None     # 001:363
    assert atom.aggregation == "max" and atom.total_visit_max_min == 28                 # 004:958
    assert (atom.form("consult_cash").wait_min, atom.form("consult_cash").service_min) == (12, 16)


def test_toml_errors_are_config_errors():
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse_office_toml("office = [")


def test_example_office_file_is_valid():
    from pathlib import Path
    text = (Path(__file__).parents[2] / "docs" / "office.example.toml").read_text(encoding="utf-8")
    cfg = parse_office_toml(text)
    assert cfg.office_id and cfg.topics and cfg.windows


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_office_from_every_profile(profile):
    cfg = office_from_profile(profile, windows=2)
    assert len(cfg.topics) == len(PROFILES[profile].forms)
