"""The slot tag in session ids: added once, read back whatever the app's ids look like, and
nothing that is not a tag is taken for one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sockd.wire.sid_tag import slot_of, tag


def test_tagging_appends_the_slot_once() -> None:
    assert tag("Zx12ab", 3) == "Zx12ab.3"
    assert tag(tag("Zx12ab", 3), 3) == "Zx12ab.3"
    assert tag("Zx12ab.3", 13) == "Zx12ab.3.13"


@given(sid=st.text(min_size=1, max_size=40), slot=st.integers(min_value=0, max_value=99_999))
def test_any_app_id_tagged_names_its_slot(sid: str, slot: int) -> None:
    assert slot_of(tag(sid, slot)) == slot


@pytest.mark.parametrize(
    "sid",
    [
        "Zx12ab",  # python-engineio's own ids carry no dot
        "user.name",  # a dot, then no digits
        "abc.",  # nothing after the dot
        "abc.-1",
        "abc.1e3",
        "abc.123456",  # longer than any slot number
        "abc.\u0663",  # a digit, but not an ASCII one
        "",
    ],
)
def test_ids_without_a_slot_tag_name_no_slot(sid: str) -> None:
    assert slot_of(sid) is None


def test_the_last_dot_counts() -> None:
    assert slot_of("v1.2.7") == 7
    assert slot_of(".0") == 0
