"""A draft edited by its author: the same number, a new text and SHA-256, one event; an approval names the text."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from auth.policy import PolicyError
from auth.policy_admin import PolicyAdminError, approve, edit_draft, make_draft, versions, withdraw
from auth.policy_admin.cells import field_actions
from auth.policy_store import stored_policy
from tests.policy_admin.test_drafts import NO_PHONES, SMALL, live, trail


def _sha(engine: sa.Engine, version: int) -> str:
    return next(one.sha256 for one in versions(engine) if one.version == version)


def test_the_author_edits_a_draft_in_place_and_the_edit_is_one_event(engine: sa.Engine) -> None:
    # given wang's draft
    version = make_draft(engine, SMALL, by="wang")
    before = _sha(engine, version)
    # when wang edits it
    sha = edit_draft(engine, version, NO_PHONES, by="Wang", client_id="console")
    # then it keeps its number, holds the new text, and the event names the author and the console
    assert [one.version for one in versions(engine)] == [version] and _sha(engine, version) == sha != before
    with engine.connect() as connection:
        stored = stored_policy(connection, version)
    assert stored is not None and stored.policy.text == NO_PHONES and stored.status == "draft"
    event = trail(engine)[-1]
    assert (event["outcome"], event["client_id"], event["actor"]) == ("policy-edited", "console", "Wang")
    # and nothing went live
    assert live(engine) is None


def test_only_the_author_edits_only_a_draft_and_only_with_a_valid_policy(engine: sa.Engine) -> None:
    # given wang's draft, and another withdrawn
    version = make_draft(engine, SMALL, by="wang")
    before = _sha(engine, version)
    gone = make_draft(engine, SMALL, by="wang")
    withdraw(engine, gone, by="wang")
    events = len(trail(engine))
    # when another person, an invalid text, or a withdrawn version is edited, then each is refused
    with pytest.raises(PolicyAdminError, match="only its author edits it"):
        edit_draft(engine, version, NO_PHONES, by="li")
    with pytest.raises(PolicyError, match="Person.shoeSize"):
        edit_draft(engine, version, SMALL + "    Person.shoeSize: deny\n", by="wang")
    with pytest.raises(PolicyAdminError, match="not a draft"):
        edit_draft(engine, gone, NO_PHONES, by="wang")
    # and nothing changed, nothing was recorded
    assert _sha(engine, version) == before
    assert len(trail(engine)) == events


def test_an_approval_of_a_text_edited_since_it_was_read_is_refused(engine: sa.Engine) -> None:
    # given wang's draft, read by li, then edited by wang
    version = make_draft(engine, SMALL, by="wang")
    read = _sha(engine, version)
    edited = edit_draft(engine, version, NO_PHONES, by="wang")
    # when li approves what they read, then it is refused, and nothing is live
    with pytest.raises(PolicyAdminError, match="edited since it was read"):
        approve(engine, version, by="li", single_person=False, sha256=read)
    assert live(engine) is None
    # and approving the text as it is now publishes it
    approve(engine, version, by="li", single_person=False, sha256=edited)
    assert live(engine) == version


def test_a_cell_offers_only_the_actions_a_rule_on_its_field_may_name() -> None:
    # given fields with and without a natural mask, and an id that may be a pseudonym
    # then each is offered deny, its own mask(s) and allow, nothing the policy's check would refuse
    assert field_actions("Person.phone") == ["deny", "mask:phone", "allow"]
    assert field_actions("Person.idNumber") == ["deny", "mask:id", "mask:pseudonym", "allow"]
    assert field_actions("Person.gender") == ["deny", "allow"]
    with pytest.raises(PolicyError, match="not a governed"):
        field_actions("Person.shoeSize")
