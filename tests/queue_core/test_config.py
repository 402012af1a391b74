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
    (lambda d: d["queue"].update(priority_max_in_row=-1), "queue.priority_max_in_row", "0..100"),
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



def test_atom_forms_and_citations_match_the_seed():
    """АтомЭнергоСбыт §3.2 rows (004:962-990), the digital-services step (004:970) and the
    in-hall procedure norms of the appendix; which of them are per personal account."""
    atom = PROFILES["atom"]
    rows = {f.code: (f.wait_min, f.service_min, f.source, atom.per_account(f)) for f in atom.forms}
    assert rows == {
        "consult": (8, 8, "004:962-970", True), "cash": (4, 4, "004:974-980", True),
        "consult_cash": (12, 16, "004:982-990", True), "digital": (None, 4, "004:970", True),
        "contract_forms": (None, 5, "004:2765-2771", False), "contract_check": (None, 10, "004:2773-2833", True),
        "meter_readings": (None, 15, "004:2938-2952", False), "installment": (None, 20, "004:3024-3036", False),
        "no_debt": (None, 15, "004:3144-3152", False)}
    assert len({f.prefix for f in atom.forms}) == len(atom.forms)          # one ticket prefix each
    assert not any(PROFILES[p].per_account(f) for p in ("mek", "oek") for f in PROFILES[p].forms)


def test_atom_topics_know_whether_their_norm_is_per_account():
    cfg = office_from_profile("atom", windows=2)
    per_account = {cfg.profile.form(t.form).code: t.per_account for t in cfg.topics if t.form}
    assert per_account["consult"] and per_account["contract_check"] and not per_account["meter_readings"]


@pytest.mark.parametrize("profile, mode, max_in_row", [
    ("mek", "out_of_turn", 3), ("oek", "out_of_turn", 0), ("atom", "individual", 3)])
def test_priority_defaults_follow_the_profile_seed(profile, mode, max_in_row):
    cfg = office_from_profile(profile, windows=2)
    assert (cfg.priority_mode, cfg.priority_max_in_row) == (mode, max_in_row)


def test_priority_mode_and_interleave_can_be_set():
    data = office_dict()
    data["office"]["profile"] = "oek"
    data["topics"] = [{"code": "A", "form": "contracts"}]
    data["windows"] = [{"number": 1, "topics": ["A"]}]
    data["queue"]["priority_max_in_row"] = 2
    data["priority"] = {"mode": "call_staff"}
    cfg = parse_office_config(data)
    assert (cfg.priority_mode, cfg.priority_max_in_row) == ("call_staff", 2)


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
