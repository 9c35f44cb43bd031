-- A journal's entry is looked up by its application (the S2 temporary ID card, the S4
-- departure sheet… on every step that issues) and by its subject (S8, S9: the foreigner's
-- registrations and formed IINs). The only index was by journal and unit, so each lookup
-- read the whole journal: a month of national intake made it the simulation's main cost.
CREATE INDEX journal_entries_application ON journal_entries (application_id, journal);
CREATE INDEX journal_entries_subject ON journal_entries (subject, journal, at);
