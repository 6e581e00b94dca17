-- The floor of bench/students.py: every eligible student of a term in a region, in one statement.
--
-- Written by hand from DESIGN §4 (student aid), independently of adapters/students.py: one row per
-- student, in id order, shaped like a row of GET /students/export (reasons, departments and
-- source records listed by reason code, then record key). Parameters (psycopg): term; day, the
-- term's start date; year, day's year; prefix, the region's LIKE pattern (code prefix, wildcard).
WITH student AS (
    -- The term's enrolled students in the region; a student enrolled twice keeps the lowest record key.
    SELECT DISTINCT ON (e.id_number)
        e.id_number, p.name, e.stage, e.school_code, e.school_name, e.grade, p.household_number
    FROM education_enrolment e
    JOIN registry_person p ON p.id_number = e.id_number
    JOIN registry_household h ON h.household_number = p.household_number
    WHERE e.term = %(term)s AND e.status = 'ENROLLED' AND h.region_code LIKE %(prefix)s
    ORDER BY e.id_number, e.record_key
),
latest_check AS (
    SELECT DISTINCT ON (household_number) *
    FROM civil_affairs_economic_check
    WHERE checked_on <= %(day)s
    ORDER BY household_number, checked_on DESC
),
latest_monitoring AS (
    SELECT DISTINCT ON (household_number) *
    FROM poverty_monitored
    WHERE entered_on <= %(day)s
    ORDER BY household_number, entered_on DESC
),
assessed AS MATERIALIZED (
    -- DESIGN §4's income assessment of each household's latest check: counted income (the basic
    -- pension not counted) less medical and education costs and the employment cost, capped at 30 percent
    -- of counted income; with the keys of the standard it is compared with. MATERIALIZED: joined to
    -- its households first, not to every county's standard of the year first.
    SELECT
        k.household_number, k.record_key, k.persons,
        k.annual_income - coalesce(k.basic_pension, 0) - coalesce(k.medical_expense, 0)
            - coalesce(k.education_expense, 0)
            - least(coalesce(k.employment_cost, 0), 0.3 * (k.annual_income - coalesce(k.basic_pension, 0)))
            AS net_income,
        substr(h.region_code, 1, 6) AS county_code, extract(year FROM k.checked_on) AS year, h.residence_kind
    FROM latest_check k
    JOIN registry_household h ON h.household_number = k.household_number
),
low_income AS (
    -- Per-capita monthly income (floored at 0) below twice the standard, multiplied out by 12 x persons.
    SELECT a.household_number, a.record_key
    FROM assessed a
    JOIN civil_affairs_dibao_standard b
      ON b.county_code = a.county_code AND b.year = a.year AND b.residence_kind = a.residence_kind
    WHERE greatest(a.net_income, 0) < 2 * b.monthly_standard * 12 * a.persons
),
reason AS (
    -- Dibao of the whole household, or a single-person dibao naming the student; the gradual-exit
    -- window counts. Two branches: a join ON one OR the other could use neither index.
    SELECT s.id_number, 'DIBAO' AS code, 'civil_affairs' AS department, d.record_key
    FROM student s JOIN civil_affairs_dibao d ON d.household_number = s.household_number
    WHERE d.coverage = 'WHOLE_HOUSEHOLD' AND d.start_date <= %(day)s
      AND (d.end_date IS NULL OR d.end_date >= %(day)s OR d.gradual_exit_until >= %(day)s)
    UNION ALL
    SELECT s.id_number, 'DIBAO', 'civil_affairs', d.record_key
    FROM student s JOIN civil_affairs_dibao d ON d.id_number = s.id_number
    WHERE d.coverage = 'SINGLE_PERSON' AND d.start_date <= %(day)s
      AND (d.end_date IS NULL OR d.end_date >= %(day)s OR d.gradual_exit_until >= %(day)s)
    UNION ALL
    SELECT s.id_number, 'EXTREME_POVERTY', 'civil_affairs', t.record_key
    FROM student s JOIN civil_affairs_extreme_poverty t ON t.id_number = s.id_number
    WHERE t.start_date <= %(day)s AND (t.end_date IS NULL OR t.end_date >= %(day)s)
    UNION ALL
    SELECT s.id_number, 'CHILD_WELFARE', 'civil_affairs', c.record_key
    FROM student s JOIN civil_affairs_child_welfare c ON c.id_number = s.id_number
    WHERE c.start_date <= %(day)s AND (c.end_date IS NULL OR c.end_date >= %(day)s)
    UNION ALL
    SELECT s.id_number, 'DISABILITY', 'disability', c.record_key
    FROM student s JOIN disability_certificate c ON c.id_number = s.id_number
    WHERE (c.issued_on IS NULL OR c.issued_on <= %(day)s) AND (c.valid_until IS NULL OR c.valid_until >= %(day)s)
    UNION ALL
    -- Registered poor, lifted out or not, unless registered only after the term's year.
    SELECT s.id_number, 'REGISTERED_POOR', 'poverty', r.record_key
    FROM student s JOIN poverty_registered r ON r.household_number = s.household_number
    WHERE r.registered_year IS NULL OR r.registered_year <= %(year)s
    UNION ALL
    -- The monitoring record in force (the latest entered), its risk not eliminated by then.
    SELECT s.id_number, 'MONITORED', 'poverty', m.record_key
    FROM student s JOIN latest_monitoring m ON m.household_number = s.household_number
    WHERE m.risk_eliminated IS NOT TRUE OR m.eliminated_on > %(day)s
    UNION ALL
    -- The household's latest economic check is below twice the standard (low_income above).
    SELECT s.id_number, 'LOW_INCOME', 'civil_affairs', l.record_key
    FROM student s JOIN low_income l ON l.household_number = s.household_number
)
SELECT
    s.id_number, s.name, s.stage, s.school_code, s.school_name, s.grade,
    array_agg(r.code ORDER BY r.code, r.record_key) AS reasons,
    array_agg(r.department ORDER BY r.code, r.record_key) AS departments,
    array_agg(r.record_key ORDER BY r.code, r.record_key) AS source_records,
    EXISTS (
        SELECT 1 FROM education_student_aid a WHERE a.id_number = s.id_number AND a.term = %(term)s
    ) AS aid_granted
FROM student s
JOIN reason r ON r.id_number = s.id_number
GROUP BY s.id_number, s.name, s.stage, s.school_code, s.school_name, s.grade
ORDER BY s.id_number
