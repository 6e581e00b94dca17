"""The checked-in schema.graphql is the schema: a change to the SDL must show in review."""

from __future__ import annotations

from pathlib import Path

import schema

SDL_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_checked_in_sdl_matches_the_schema() -> None:
    # given the schema built from the code, when printed
    current = schema.sdl()
    # then it equals the checked-in file (regenerate with: aidgraph schema > schema.graphql)
    assert SDL_FILE.read_text(encoding="utf-8") == current


def test_contract_entry_points_exist() -> None:
    sdl = schema.sdl()
    for entry in (
        "household(householdNumber: String!): Household",
        "person(idNumber: String!): Person",
        "households(region: String!, first: Int = null, after: String = null): HouseholdConnection!",
        "keyTargetDistribution(region: String!): [KeyTargetRow!]!",
    ):
        assert entry in sdl
