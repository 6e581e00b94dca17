-- The floor of the comparison run: the 8 rules (docs/comparison.md) written by hand over the current
-- tables, one statement each, giving (rule, subject, programme). bench/comparison.py inserts each
-- statement's rows into a temporary table (the least a run that stores its findings must do) and
-- checks that they are the keys the hub's run found. Parameters: day, year, prefix, term, term_start,
-- term_year, window_after, adult_cutoff, adult_cutoff_text, bound into the text (as the hub renders its days
-- and region), so the planner sees the values. A person's dibao is two EXISTS, one per index.
-- Statements are separated by blank lines.
SELECT 'C1' AS rule, h.household_number AS subject, 'DIBAO' AS programme
FROM registry_household h
JOIN civil_affairs_economic_check c ON c.household_number = h.household_number
JOIN civil_affairs_dibao_standard s ON s.county_code = substr(h.region_code, 1, 6) AND s.year = extract(year FROM c.checked_on) AND s.residence_kind = h.residence_kind
WHERE h.region_code LIKE %(prefix)s
  AND c.checked_on <= %(day)s
  AND NOT EXISTS (SELECT 1 FROM civil_affairs_economic_check n WHERE n.household_number = c.household_number AND n.checked_on > c.checked_on AND n.checked_on <= %(day)s)
  AND greatest(c.annual_income - coalesce(c.basic_pension, 0) - coalesce(c.medical_expense, 0) - coalesce(c.education_expense, 0) - least(coalesce(c.employment_cost, 0), 0.3 * (c.annual_income - coalesce(c.basic_pension, 0))), 0) < s.monthly_standard * c.persons * 12
  AND (EXISTS (SELECT 1 FROM poverty_registered p WHERE p.household_number = h.household_number AND (p.registered_year IS NULL OR p.registered_year <= %(year)s))
       OR EXISTS (SELECT 1 FROM poverty_monitored m WHERE m.household_number = h.household_number AND m.entered_on <= %(day)s
                  AND NOT EXISTS (SELECT 1 FROM poverty_monitored n WHERE n.household_number = m.household_number AND n.entered_on > m.entered_on AND n.entered_on <= %(day)s)
                  AND NOT (m.risk_eliminated IS TRUE AND (m.eliminated_on IS NULL OR m.eliminated_on <= %(day)s))))
  AND NOT EXISTS (SELECT 1 FROM civil_affairs_dibao a WHERE a.household_number = h.household_number AND a.coverage = 'WHOLE_HOUSEHOLD' AND a.start_date <= %(day)s AND (a.end_date IS NULL OR a.end_date >= %(day)s OR a.gradual_exit_until >= %(day)s))

SELECT 'C2', p.id_number, 'NURSING_SUBSIDY'
FROM registry_person p JOIN registry_household h ON h.household_number = p.household_number
WHERE h.region_code LIKE %(prefix)s
  AND EXISTS (SELECT 1 FROM disability_certificate z WHERE z.id_number = p.id_number AND (z.issued_on IS NULL OR z.issued_on <= %(day)s) AND (z.valid_until IS NULL OR z.valid_until >= %(day)s) AND z.grade IN (1, 2))
  AND NOT EXISTS (SELECT 1 FROM disability_subsidy l WHERE l.id_number = p.id_number AND l.kind = 'NURSING' AND l.start_date <= %(day)s AND (l.end_date IS NULL OR l.end_date >= %(day)s))
UNION ALL
SELECT 'C2', p.id_number, 'LIVING_SUBSIDY'
FROM registry_person p JOIN registry_household h ON h.household_number = p.household_number
WHERE h.region_code LIKE %(prefix)s
  AND EXISTS (SELECT 1 FROM disability_certificate z WHERE z.id_number = p.id_number AND (z.issued_on IS NULL OR z.issued_on <= %(day)s) AND (z.valid_until IS NULL OR z.valid_until >= %(day)s))
  AND (EXISTS (SELECT 1 FROM civil_affairs_dibao a WHERE a.household_number = p.household_number AND a.coverage = 'WHOLE_HOUSEHOLD' AND (a.start_date <= %(day)s AND (a.end_date IS NULL OR a.end_date >= %(day)s OR a.gradual_exit_until >= %(day)s)))
       OR EXISTS (SELECT 1 FROM civil_affairs_dibao a WHERE a.id_number = p.id_number AND a.coverage = 'SINGLE_PERSON' AND (a.start_date <= %(day)s AND (a.end_date IS NULL OR a.end_date >= %(day)s OR a.gradual_exit_until >= %(day)s))))
  AND NOT EXISTS (SELECT 1 FROM disability_subsidy l WHERE l.id_number = p.id_number AND l.kind = 'LIVING' AND l.start_date <= %(day)s AND (l.end_date IS NULL OR l.end_date >= %(day)s))

SELECT 'C3', p.id_number, 'STUDENT_AID'
FROM registry_person p JOIN registry_household h ON h.household_number = p.household_number
WHERE h.region_code LIKE %(prefix)s
  AND EXISTS (SELECT 1 FROM education_enrolment e WHERE e.id_number = p.id_number AND e.term = %(term)s AND e.status = 'ENROLLED')
  AND ((EXISTS (SELECT 1 FROM civil_affairs_dibao a WHERE a.household_number = p.household_number AND a.coverage = 'WHOLE_HOUSEHOLD' AND (a.start_date <= %(term_start)s AND (a.end_date IS NULL OR a.end_date >= %(term_start)s OR a.gradual_exit_until >= %(term_start)s)))
       OR EXISTS (SELECT 1 FROM civil_affairs_dibao a WHERE a.id_number = p.id_number AND a.coverage = 'SINGLE_PERSON' AND (a.start_date <= %(term_start)s AND (a.end_date IS NULL OR a.end_date >= %(term_start)s OR a.gradual_exit_until >= %(term_start)s))))
       OR EXISTS (SELECT 1 FROM civil_affairs_extreme_poverty t WHERE t.id_number = p.id_number AND t.start_date <= %(term_start)s AND (t.end_date IS NULL OR t.end_date >= %(term_start)s))
       OR EXISTS (SELECT 1 FROM poverty_registered r WHERE r.household_number = p.household_number AND (r.registered_year IS NULL OR r.registered_year <= %(term_year)s)))
  AND NOT EXISTS (SELECT 1 FROM education_student_aid x WHERE x.id_number = p.id_number AND x.term = %(term)s)

SELECT 'C4', p.id_number, 'MEDICAL_ASSISTANCE'
FROM registry_person p JOIN registry_household h ON h.household_number = p.household_number
WHERE h.region_code LIKE %(prefix)s
  AND ((EXISTS (SELECT 1 FROM civil_affairs_dibao a WHERE a.household_number = p.household_number AND a.coverage = 'WHOLE_HOUSEHOLD' AND (a.start_date <= %(day)s AND (a.end_date IS NULL OR a.end_date >= %(day)s OR a.gradual_exit_until >= %(day)s)))
       OR EXISTS (SELECT 1 FROM civil_affairs_dibao a WHERE a.id_number = p.id_number AND a.coverage = 'SINGLE_PERSON' AND (a.start_date <= %(day)s AND (a.end_date IS NULL OR a.end_date >= %(day)s OR a.gradual_exit_until >= %(day)s))))
       OR EXISTS (SELECT 1 FROM civil_affairs_extreme_poverty t WHERE t.id_number = p.id_number AND t.start_date <= %(day)s AND (t.end_date IS NULL OR t.end_date >= %(day)s)))
  AND EXISTS (SELECT 1 FROM medical_settlement m WHERE m.id_number = p.id_number AND m.kind = 'INPATIENT' AND m.to_date > %(window_after)s AND m.to_date <= %(day)s AND m.out_of_pocket > 0 AND (m.medical_assistance_paid IS NULL OR m.medical_assistance_paid = 0))

SELECT 'C5', h.household_number, 'RENOVATION'
FROM registry_household h JOIN housing_assessment w ON w.household_number = h.household_number
WHERE h.region_code LIKE %(prefix)s
  AND w.assessed_on <= %(day)s
  AND NOT EXISTS (SELECT 1 FROM housing_assessment n WHERE n.household_number = w.household_number AND n.assessed_on <= %(day)s AND (n.assessed_on > w.assessed_on OR (n.assessed_on = w.assessed_on AND n.record_key > w.record_key)))
  AND w.grade IN ('C', 'D')
  AND (EXISTS (SELECT 1 FROM civil_affairs_dibao a WHERE a.household_number = h.household_number AND a.coverage = 'WHOLE_HOUSEHOLD' AND a.start_date <= %(day)s AND (a.end_date IS NULL OR a.end_date >= %(day)s OR a.gradual_exit_until >= %(day)s))
       OR EXISTS (SELECT 1 FROM registry_person q JOIN civil_affairs_extreme_poverty t ON t.id_number = q.id_number WHERE q.household_number = h.household_number AND t.start_date <= %(day)s AND (t.end_date IS NULL OR t.end_date >= %(day)s)))
  AND NOT EXISTS (SELECT 1 FROM housing_renovation r WHERE r.household_number = h.household_number AND r.approved_on >= w.assessed_on AND r.approved_on <= %(day)s)

SELECT 'C6', p.id_number, 'CONTRIBUTION_SUBSIDY'
FROM registry_person p JOIN registry_household h ON h.household_number = p.household_number
WHERE h.region_code LIKE %(prefix)s
  AND ((EXISTS (SELECT 1 FROM civil_affairs_dibao a WHERE a.household_number = p.household_number AND a.coverage = 'WHOLE_HOUSEHOLD' AND (a.start_date <= %(day)s AND (a.end_date IS NULL OR a.end_date >= %(day)s OR a.gradual_exit_until >= %(day)s)))
       OR EXISTS (SELECT 1 FROM civil_affairs_dibao a WHERE a.id_number = p.id_number AND a.coverage = 'SINGLE_PERSON' AND (a.start_date <= %(day)s AND (a.end_date IS NULL OR a.end_date >= %(day)s OR a.gradual_exit_until >= %(day)s))))
       OR EXISTS (SELECT 1 FROM civil_affairs_extreme_poverty t WHERE t.id_number = p.id_number AND t.start_date <= %(day)s AND (t.end_date IS NULL OR t.end_date >= %(day)s)))
  AND EXISTS (SELECT 1 FROM medical_insurance i WHERE i.id_number = p.id_number AND i.year = %(year)s AND (i.subsidy_category = 'NONE' OR i.subsidised_amount IS NULL OR i.subsidised_amount = 0))

SELECT 'C7', p.id_number, 'CHILD_WELFARE'
FROM registry_person p JOIN registry_household h ON h.household_number = p.household_number
WHERE h.region_code LIKE %(prefix)s
  AND ((p.birth_date IS NOT NULL AND p.birth_date > %(adult_cutoff)s) OR (p.birth_date IS NULL AND substr(p.id_number, 7, 8) > %(adult_cutoff_text)s))
  AND EXISTS (SELECT 1 FROM civil_affairs_child_welfare k WHERE k.id_number = p.id_number)
  AND NOT EXISTS (SELECT 1 FROM civil_affairs_child_welfare k WHERE k.id_number = p.id_number AND k.start_date <= %(day)s AND (k.end_date IS NULL OR k.end_date >= %(day)s) AND k.monthly_amount > 0)

SELECT 'C8', h.household_number, 'GRADUAL_EXIT'
FROM registry_household h
JOIN civil_affairs_economic_check c ON c.household_number = h.household_number
JOIN civil_affairs_dibao_standard s ON s.county_code = substr(h.region_code, 1, 6) AND s.year = extract(year FROM c.checked_on) AND s.residence_kind = h.residence_kind
WHERE h.region_code LIKE %(prefix)s
  AND c.checked_on <= %(day)s
  AND NOT EXISTS (SELECT 1 FROM civil_affairs_economic_check n WHERE n.household_number = c.household_number AND n.checked_on > c.checked_on AND n.checked_on <= %(day)s)
  AND greatest(c.annual_income - coalesce(c.basic_pension, 0) - coalesce(c.medical_expense, 0) - coalesce(c.education_expense, 0) - least(coalesce(c.employment_cost, 0), 0.3 * (c.annual_income - coalesce(c.basic_pension, 0))), 0) >= s.monthly_standard * c.persons * 12
  AND EXISTS (SELECT 1 FROM civil_affairs_dibao a WHERE a.household_number = h.household_number AND a.coverage = 'WHOLE_HOUSEHOLD' AND a.start_date <= %(day)s AND (a.end_date IS NULL OR a.end_date >= %(day)s) AND a.gradual_exit_until IS NULL)
