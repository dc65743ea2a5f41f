"""The Clearwell pack's measured quality may not drop: each metric within 0.02 of its recorded floor."""

import pytest

from intents.evaluate import evaluate
from knowledge.pack import read_yaml

TOLERANCE = 0.02


@pytest.fixture(scope="module")
def floors(pack):
    return read_yaml(pack.folder / "eval_floors.yaml")


LABELLED = [
    "eval.yaml",
    "heldout.yaml",
    "../../../bench/trust/dev/short.yaml",
    "../../../bench/trust/dev/long.yaml",
    "../../../bench/trust/dev/long_2.yaml",
    "../../../bench/trust/dev/safeguarding.yaml",
    "../../../bench/trust/dev/safeguarding_multilingual.yaml",
    "../../../bench/trust/dev/safeguarding_multilingual_2.yaml",
]


@pytest.mark.parametrize("labelled", LABELLED)
def test_metrics_stay_above_recorded_floors(advisor, pack, floors, labelled):
    report = evaluate(advisor, pack.folder / labelled).as_dict()
    assert report["counts"]["questions"] + report["counts"]["messages"] >= 80
    wanted = floors[labelled]
    below = {k: (report[k], floor) for k, floor in wanted.items() if report[k] < floor - TOLERANCE}
    assert not below, f"{labelled}: metrics below their floors (got, floor): {below}"


def test_every_disclosure_in_english_is_caught_and_ordinary_messages_rarely_alarm(advisor, pack):
    report = evaluate(advisor, pack.folder / "../../../bench/trust/dev/safeguarding.yaml")
    english = report.by_language["en"]
    assert english["caught"] == english["at_risk"]
    assert report.safeguarding_false_alarms <= 0.03
    # Every non-English message the bot could place is told, in its language, that it answers in English.
    assert report.non_english_notice >= 0.95


def test_understated_messages_in_33_languages_are_caught_and_their_look_alikes_rarely_alarm(advisor, pack):
    report = evaluate(advisor, pack.folder / "../../../bench/trust/dev/safeguarding_multilingual.yaml")
    assert len(report.by_language) >= 33
    # Ordinary messages (look-alikes sharing a worrying word, and policy questions) in any language: at most 3%.
    assert report.safeguarding_false_alarms <= 0.03
    assert report.non_english_notice >= 0.95


def test_eval_set_is_big_enough_and_well_formed(pack):
    data = read_yaml(pack.folder / "eval.yaml")
    assert len(data["questions"]) >= 150
    assert len(data["out_of_scope"]) >= 25
    assert len(data["intents"]) >= 25
    ids = {c.id for c in pack.clauses}
    for item in data["questions"]:
        assert item["expect"] and set(item["expect"]) <= ids, item
