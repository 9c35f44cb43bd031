-- The 2025 pilot's online renewal sessions (seed 001 п. 3): one row per attempt; the
-- application exists from step 13 on (application_id). data_json holds the session's
-- view (checks of steps 1-16, the duty, the reason when sent to a counter) and its inputs.

CREATE TABLE online_renewals (
    id TEXT PRIMARY KEY,
    applicant_iin TEXT NOT NULL,
    status TEXT NOT NULL,
    step BIGINT NOT NULL,
    application_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    revision BIGINT NOT NULL,
    data_json TEXT NOT NULL
);

CREATE INDEX online_renewals_applicant ON online_renewals (applicant_iin, created_at);
CREATE INDEX online_renewals_application ON online_renewals (application_id);
