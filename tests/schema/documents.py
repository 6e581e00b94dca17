"""GraphQL documents used by the tests and the benchmark."""

from __future__ import annotations

HOUSEHOLD_PICTURE = """
query HouseholdPicture($householdNumber: String!) {
  household(householdNumber: $householdNumber) {
    householdNumber regionCode countyCode address residenceKind
    source { department table recordKey asOf }
    civilAffairs {
      dibao {
        coverage idNumber personsCovered monthlyAmount startDate endDate gradualExitUntil
        source { department asOf }
      }
      economicChecks { checkedOn persons annualIncome medicalExpense educationExpense employmentCost basicPension }
      temporaryAssistance { caseNumber kind cause amount appliedOn paidOn }
    }
    housing {
      assessments { assessmentNumber assessedOn grade assessedBy }
      renovations { projectNumber kind area subsidy status approvedOn remarks }
      support { kind monthlyAmount startDate endDate }
    }
    poverty {
      registeredPoor { registeredYear liftedYear persons }
      monitoring { kind riskCauses persons enteredOn riskEliminated eliminatedOn perCapitaIncome }
    }
    members {
      idNumber name gender birthDate age phone relationToHead
      source { department asOf }
      civilAffairs {
        dibao { coverage monthlyAmount startDate endDate gradualExitUntil }
        extremePoverty { selfCare supportMode monthlyAmount startDate endDate }
        childWelfare { category monthlyAmount startDate endDate }
        temporaryAssistance { caseNumber cause amount appliedOn }
      }
      education {
        enrolments { schoolCode schoolName stage grade term status }
        aid { term programme amount paidOn }
      }
      medical {
        insurance { year scheme personalContribution subsidisedAmount subsidyCategory }
        settlements {
          settlementId kind fromDate toDate totalCost basicInsurancePaid criticalIllnessPaid
          medicalAssistancePaid outOfPocket diagnosisCode
        }
      }
      housing { assessments { grade assessedOn } renovations { status } support { kind } }
      disability {
        certificate { certificateNumber category grade issuedOn validUntil }
        subsidies { kind monthlyAmount startDate endDate }
      }
    }
  }
}
"""

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
