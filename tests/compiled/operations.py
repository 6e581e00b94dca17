"""The registered operations of the differential tests, and the requests each is sent with.

Every shape the compiler follows (fragments named and inline, aliases, one field under two aliases with
different selections, `__typename`, lists, households and members nested both ways, literal and default
arguments, entry points a profile may not use), the look-ups that find nothing (an unknown key, a key
outside the caller's regions), bad variables, a department whose system fails; and the shapes it hands
to the executor (a directive, a mutation; introspection is off outside development), so that both sides
of the fallback are seen.

The keys are households and persons of the default demo (seed 0): a household of Nan'an (350583) with
six members, a child under 14 among them, dibao, a disability certificate, medical settlements and
poverty monitoring; one of Anxi (350524), outside the Nan'an client's region; a patient with an HIV
diagnosis in each county.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.idnumber import to_legacy
from tests.access import every_field_below
from tests.schema.documents import HOUSEHOLD_PICTURE
from tests.world import make_id
from tools.demo.dates import TERM

NANAN_HOUSEHOLD = "350583000065"
NANAN_HEAD = "350583196011241092"  # holds a disability certificate
NANAN_CHILD = "350583201407146255"  # born 2014: under 14 on the demo's day
NANAN_HIV_HOUSEHOLD = "350583000051"
NANAN_HIV_PATIENT = "350583196403042180"  # a settlement with diagnosis B23
ANXI_HOUSEHOLD = "350524000372"
ANXI_HIV_PATIENT = "350524199504211506"  # B20
UNKNOWN_HOUSEHOLD = "350583999999"
UNKNOWN_PERSON = make_id("350583", "19000101", 1, male=True)  # a valid id nobody holds
MALFORMED_PERSON = "350583190001010011"  # its check character is wrong
MALFORMED_HOUSEHOLD = "35 05"

PERSON_PICTURE = f"""
query PersonPicture($idNumber: String!) {{
  person(idNumber: $idNumber) {{
    {every_field_below("Person")}
    household {{ householdNumber address members {{ idNumber name birthDate }} }}
  }}
}}
"""

FRAGMENTS = """
query Fragments($n: String!) {
  household(householdNumber: $n) {
    ...Place
    members {
      ...Someone
      ... on Person { phone medical { ...Costs } }
      ... { age relationToHead }
    }
  }
}
fragment Place on Household {
  householdNumber address
  ... on Household { regionCode residenceKind }
  source { ...Origin }
}
fragment Someone on Person { idNumber name birthDate source { ...Origin } }
fragment Origin on Source { department table asOf }
fragment Costs on PersonMedical { settlements { diagnosisCode outOfPocket totalCost } insurance { year scheme } }
"""

ALIASES = """
query Aliases($n: String!, $m: String!) {
  here: household(householdNumber: $n) {
    number: householdNumber
    address
    where: address
    people: members { who: name id: idNumber }
    contacts: members {
      idNumber phone birthDate
      medical { settlements { diagnosisCode } }
      disability { certificate { grade } }
    }
    members { name }
    members { phone civilAffairs { dibao { coverage } } }
  }
  there: household(householdNumber: $m) { householdNumber members { name } }
}
"""

TYPENAMES = """
query Typenames($n: String!) {
  household(householdNumber: $n) {
    __typename
    kind: __typename
    members { __typename name civilAffairs { __typename dibao { __typename coverage } } }
  }
}
"""

ROOT_TYPENAME = """
query RootTypename($n: String!) {
  __typename
  household(householdNumber: $n) { householdNumber }
}
"""

LISTS = """
query Lists($region: String!) {
  households(region: $region, first: 3) {
    totalCount
    edges { cursor node { householdNumber members { name idNumber education { enrolments { stage grade term } } } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

COUNTS = """
query Counts($region: String!) {
  keyTargetDistribution(region: $region) { countyCode countyName unstableHouseholds epidemicPersons }
}
"""

NESTED = """
query Nested($n: String!) {
  household(householdNumber: $n) {
    householdNumber
    members { idNumber household { householdNumber members { name household { address } } } }
  }
}
query Around($id: String!) {
  person(idNumber: $id) {
    name
    household {
      householdNumber
      members { idNumber name household { householdNumber poverty { monitoring { kind } } } }
    }
  }
}
"""

ARGUMENTS = f"""
query Literal {{
  household(householdNumber: "{NANAN_HOUSEHOLD}") {{ address members {{ name phone }} }}
}}
query Defaulted($n: String = "{ANXI_HOUSEHOLD}") {{
  household(householdNumber: $n) {{ address members {{ name }} }}
}}
"""

ENTRY_POINTS = f"""
query Students($region: String!) {{
  eligibleStudents(region: $region, term: "{TERM}", first: 3) {{
    totalCount
    edges {{
      cursor
      node {{
        stage schoolName grade reasons {{ code department asOf }} aidGranted
        student {{ idNumber name birthDate }}
      }}
    }}
  }}
}}
query Accesses($id: String!) {{
  accessLog(idNumber: $id, first: 1) {{ __typename }}
}}
query AccessAfterHousehold($n: String!, $id: String!) {{
  household(householdNumber: $n) {{ address }}
  accessLog(idNumber: $id, first: 1) {{ __typename }}
}}
query AccessBeforeHousehold($n: String!, $id: String!) {{
  accessLog(idNumber: $id, first: 1) {{ __typename }}
  household(householdNumber: $n) {{ address }}
}}
query RunAndHousehold($n: String!) {{
  household(householdNumber: $n) {{ address }}
  comparisonRun(id: "1") {{ id region }}
  person(idNumber: "{MALFORMED_PERSON}") {{ name }}
}}
"""

EXECUTOR_ONLY = """
query Skipping($n: String!, $without: Boolean!) {
  household(householdNumber: $n) { address members @skip(if: $without) { name } }
}
mutation CloseAlert($id: ID!, $version: Int!) {
  updateAlert(id: $id, status: "CLOSED", version: $version) { id status }
}
"""

OPERATIONS = "\n".join(
    [HOUSEHOLD_PICTURE, PERSON_PICTURE, FRAGMENTS, ALIASES, TYPENAMES, ROOT_TYPENAME, LISTS, COUNTS, NESTED, ARGUMENTS]
    + [ENTRY_POINTS, EXECUTOR_ONLY]
)

COMPILED = ""  # the reason of the compiled path: none


@dataclass(frozen=True)
class Case:
    """One request of a registered operation: its variables, and which path the compiled hub should take."""

    name: str
    operation: str
    variables: dict[str, Any] | None
    path: str = COMPILED  # "" for the compiled plan, else the executor's reason (aidgraph_execution_paths)
    failing: str | None = None  # a department whose system fails while the request runs
    disagrees: str | None = None  # a known disagreement of the two paths, reported (the test is xfail)


CASES = (
    Case("picture", "HouseholdPicture", {"householdNumber": NANAN_HOUSEHOLD}),
    Case("picture-elsewhere", "HouseholdPicture", {"householdNumber": ANXI_HOUSEHOLD}),
    Case("picture-hiv", "HouseholdPicture", {"householdNumber": NANAN_HIV_HOUSEHOLD}),
    Case("picture-unknown", "HouseholdPicture", {"householdNumber": UNKNOWN_HOUSEHOLD}),
    Case("picture-malformed", "HouseholdPicture", {"householdNumber": MALFORMED_HOUSEHOLD}),
    Case("picture-wrong-type", "HouseholdPicture", {"householdNumber": 350583000065}, path="variables"),
    Case("picture-missing-variable", "HouseholdPicture", {}, path="variables"),
    Case("picture-disability-failing", "HouseholdPicture", {"householdNumber": NANAN_HOUSEHOLD}, failing="disability"),
    Case("person-head", "PersonPicture", {"idNumber": NANAN_HEAD}),
    Case("person-child", "PersonPicture", {"idNumber": NANAN_CHILD}),
    Case("person-hiv", "PersonPicture", {"idNumber": NANAN_HIV_PATIENT}),
    Case("person-hiv-elsewhere", "PersonPicture", {"idNumber": ANXI_HIV_PATIENT}),
    Case("person-legacy-id", "PersonPicture", {"idNumber": to_legacy(NANAN_HIV_PATIENT)}),
    Case("person-unknown", "PersonPicture", {"idNumber": UNKNOWN_PERSON}),
    Case("person-malformed", "PersonPicture", {"idNumber": MALFORMED_PERSON}),
    Case("person-medical-failing", "PersonPicture", {"idNumber": NANAN_HIV_PATIENT}, failing="medical"),
    Case("fragments", "Fragments", {"n": NANAN_HOUSEHOLD}),
    # several root fields, one of which awaits: graphql-core runs them together, so the executor answers
    Case("aliases", "Aliases", {"n": NANAN_HOUSEHOLD, "m": ANXI_HOUSEHOLD}, path="roots"),
    Case("aliases-one-unknown", "Aliases", {"n": UNKNOWN_HOUSEHOLD, "m": NANAN_HIV_HOUSEHOLD}, path="roots"),
    Case("typenames", "Typenames", {"n": NANAN_HOUSEHOLD}),
    Case("root-typename", "RootTypename", {"n": NANAN_HOUSEHOLD}),
    Case("lists", "Lists", {"region": "350583"}),
    Case("counts", "Counts", {"region": "3505"}),
    Case("nested", "Nested", {"n": NANAN_HOUSEHOLD}),
    Case("around", "Around", {"id": NANAN_CHILD}),
    Case("literal", "Literal", None),
    Case("defaulted", "Defaulted", None),
    Case("students", "Students", {"region": "350583"}),
    Case("accesses", "Accesses", {"id": UNKNOWN_PERSON}),
    Case("access-after-household", "AccessAfterHousehold", {"n": NANAN_HOUSEHOLD, "id": UNKNOWN_PERSON}, path="roots"),
    Case(
        "access-before-household", "AccessBeforeHousehold", {"n": NANAN_HOUSEHOLD, "id": UNKNOWN_PERSON}, path="roots"
    ),
    Case("run-and-household", "RunAndHousehold", {"n": NANAN_HOUSEHOLD}, path="roots"),
    Case("skipping", "Skipping", {"n": NANAN_HOUSEHOLD, "without": False}, path="directives"),
    Case("mutation", "CloseAlert", {"id": "999999", "version": 1}, path="mutation"),
)
