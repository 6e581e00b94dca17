"""GraphQL documents used by the tests and the benchmark."""

from __future__ import annotations

from pathlib import Path

# The benchmark's query, so the query that is measured is the one that is tested.
HOUSEHOLD_PICTURE = (Path(__file__).resolve().parents[2] / "bench" / "household.graphql").read_text()

KEY_TARGETS = """
query KeyTargets($region: String!) {
  keyTargetDistribution(region: $region) {
    countyCode countyName unstableHouseholds unstablePersons epidemicHouseholds epidemicPersons
  }
}
"""

PERSON = """
query Person($idNumber: String!) {
  person(idNumber: $idNumber) {
    idNumber name gender birthDate householdNumber
    disability { certificate { category grade } }
    medical { settlements { settlementId outOfPocket diagnosisCode source { department asOf } } }
  }
}
"""

HOUSEHOLDS = """
query Households($region: String!, $first: Int, $after: String) {
  households(region: $region, first: $first, after: $after) {
    totalCount
    edges { cursor node { householdNumber regionCode } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
