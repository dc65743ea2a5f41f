"""What stands for a clause in the index: each text once, and a ruling keeps its own examples."""

from knowledge.clause import Clause, Ruling
from knowledge.index import clause_entries
from knowledge.shorthand import expander, load_shorthand


def test_a_ruling_keeps_an_example_the_clause_also_lists_as_an_alternate():
    shared = "is it ok to follow my pupils on tiktok"
    clause = Clause(
        id="6.3", section="6.3", text="Staff must not have contact with pupils unless they are family members.",
        alternates=(shared, "can i follow a pupil"),
        rulings=(
            Ruling(when="contact with pupils", kind="not_allowed", says="No contact.", asks=(shared,)),
            Ruling(when="your own family", kind="allowed", says="Family is fine.", asks=("can i follow my own niece",)),
        ),
    )
    entries = [e for e in clause_entries(0, clause, lambda t: t) if e.text == shared]
    assert [(e.kind, e.ruling) for e in entries] == [("ruling", 0)]  # once, and as the ruling's example


def test_shorthand_keeps_the_everyday_sense_after_own():
    expand = expander(load_shorthand())
    assert expand("can i follow my kids on insta") == "can i follow my pupils on instagram"
    assert expand("my own kid goes here") == "my own kid goes here"  # family, not a pupil
