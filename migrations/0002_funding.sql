-- Funding applications (grants from public funders and foundations), money received, the
-- campaign goal, and the pipeline read model that covers sponsor dossiers and applications.
-- Amounts are integer cents; dates of money are calendar days in Europe/Paris.

CREATE TABLE applications (
  id                      uuid PRIMARY KEY,
  organisation_id         bigint NOT NULL REFERENCES organisations(id),      -- the funder
  programme               text NOT NULL CHECK (length(trim(programme)) > 0), -- programme or call
  amount_requested_cents  bigint NOT NULL CHECK (amount_requested_cents > 0),
  amount_awarded_cents    bigint CHECK (amount_awarded_cents >= 0),
  deadline_at             timestamptz NOT NULL,                               -- submission deadline
  decision_expected_on    date NOT NULL,
  student_id              bigint NOT NULL REFERENCES people(id),
  tutor_id                bigint NOT NULL REFERENCES people(id),
  lang                    text NOT NULL DEFAULT 'fr' CHECK (lang IN ('fr', 'en')),
  stage                   text NOT NULL,
  workflow_id             text NOT NULL,
  policy                  jsonb NOT NULL,
  next_action             text,
  next_action_at          timestamptz,
  outcome_reason          text,                                               -- refusal or withdrawal reason
  created_at              timestamptz NOT NULL DEFAULT now(),
  updated_at              timestamptz NOT NULL DEFAULT now(),
  closed_at               timestamptz,
  CONSTRAINT applications_workflow_unique UNIQUE (workflow_id)
);
CREATE INDEX applications_stage_idx ON applications (stage);

-- The documents the funder requires, as a checklist.
CREATE TABLE application_documents (
  application_id  uuid NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  position        integer NOT NULL,
  name            text NOT NULL CHECK (length(trim(name)) > 0),
  ready_at        timestamptz,
  ready_by        text,
  PRIMARY KEY (application_id, position),
  CONSTRAINT application_documents_name_unique UNIQUE (application_id, name)
);

-- Internal milestones worked back from the deadline; due_at moves with the deadline.
CREATE TABLE application_milestones (
  application_id  uuid NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  key             text NOT NULL CHECK (key IN ('draft', 'tutor_review', 'treasurer_signoff', 'submitted')),
  position        integer NOT NULL,
  owner_role      text NOT NULL CHECK (owner_role IN ('student', 'tutor', 'treasurer')),
  due_at          timestamptz NOT NULL,
  reached_at      timestamptz,
  reached_by      text,
  PRIMARY KEY (application_id, key)
);

-- After an award: the money in tranches, and the reports owed to the funder.
CREATE TABLE application_tranches (
  application_id  uuid NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  n               integer NOT NULL CHECK (n > 0),
  expected_on     date NOT NULL,
  amount_cents    bigint NOT NULL CHECK (amount_cents > 0),
  PRIMARY KEY (application_id, n)
);

CREATE TABLE application_reports (
  application_id  uuid NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  n               integer NOT NULL CHECK (n > 0),
  kind            text NOT NULL CHECK (kind IN ('interim', 'final')),
  due_on          date NOT NULL,
  submitted_at    timestamptz,
  submitted_by    text,
  PRIMARY KEY (application_id, n)
);

CREATE TABLE application_events (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  application_id  uuid NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  event_key       text NOT NULL,              -- computed by the workflow: retries write once
  kind            text NOT NULL,
  stage           text,
  detail          jsonb NOT NULL DEFAULT '{}',
  at              timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT application_events_key_unique UNIQUE (event_key)
);
CREATE INDEX application_events_application_idx ON application_events (application_id, at);

-- Emails about an application go through the same outbox as the dossiers' emails.
ALTER TABLE emails ADD COLUMN application_id uuid REFERENCES applications(id) ON DELETE CASCADE;
CREATE INDEX emails_application_idx ON emails (application_id, created_at) WHERE application_id IS NOT NULL;

-- Every euro that came in, whatever it came from: the single ledger the treasurer reconciles.
CREATE TABLE money_received (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind             text NOT NULL CHECK (kind IN ('sponsor', 'application')),
  dossier_id       uuid REFERENCES dossiers(id),
  application_id   uuid REFERENCES applications(id),
  tranche_n        integer,
  amount_cents     bigint NOT NULL CHECK (amount_cents > 0),
  received_on      date NOT NULL,
  recorded_by      text NOT NULL,
  note             text,
  idempotency_key  text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT money_received_key_unique UNIQUE (idempotency_key),
  CONSTRAINT money_received_one_source CHECK ((kind = 'sponsor') = (dossier_id IS NOT NULL) AND (kind = 'application') = (application_id IS NOT NULL))
);
CREATE INDEX money_received_on_idx ON money_received (received_on);
CREATE INDEX money_received_application_idx ON money_received (application_id);
CREATE INDEX money_received_dossier_idx ON money_received (dossier_id);

-- The campaign goal the treasurer sets; the newest one covering a day is the goal of that day.
CREATE TABLE campaign_goals (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  label         text NOT NULL CHECK (length(trim(label)) > 0),
  amount_cents  bigint NOT NULL CHECK (amount_cents > 0),
  starts_on     date NOT NULL,
  ends_on       date NOT NULL,
  set_by        text NOT NULL,
  set_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT campaign_goals_period CHECK (ends_on > starts_on)
);

-- Default probability of money per stage (percent); the treasurer may change them.
CREATE TABLE stage_probabilities (
  kind     text NOT NULL CHECK (kind IN ('sponsor', 'application')),
  stage    text NOT NULL,
  percent  integer NOT NULL CHECK (percent BETWEEN 0 AND 100),
  PRIMARY KEY (kind, stage)
);
INSERT INTO stage_probabilities (kind, stage, percent) VALUES
  ('sponsor', 'preparing', 5), ('sponsor', 'contacted', 10), ('sponsor', 'followed_up', 10),
  ('sponsor', 'escalated', 5), ('sponsor', 'interested', 30), ('sponsor', 'meeting', 50),
  ('sponsor', 'declined', 0), ('sponsor', 'opted_out', 0), ('sponsor', 'closed', 0),
  ('application', 'drafting', 20), ('application', 'review', 25), ('application', 'signoff', 30),
  ('application', 'ready', 35), ('application', 'submitted', 40), ('application', 'awarded', 100),
  ('application', 'completed', 100), ('application', 'refused', 0), ('application', 'withdrawn', 0);

-- The pipeline read model: one row per sponsor dossier or funding application, rewritten by
-- the activity that changes the process's state, in the same transaction (see the
-- pipeline_refresh_* functions below). Overdue flags depend on the day, so the view computes them.
CREATE TABLE pipeline_items (
  ref_id                uuid PRIMARY KEY,             -- dossiers.id or applications.id
  kind                  text NOT NULL CHECK (kind IN ('sponsor', 'application')),
  organisation_id       bigint NOT NULL REFERENCES organisations(id),
  counterpart           text NOT NULL,                -- the sponsor's or funder's name
  counterpart_slug      text NOT NULL,
  title                 text,                         -- programme of an application
  owner_id              bigint NOT NULL REFERENCES people(id),
  tutor_id              bigint NOT NULL REFERENCES people(id),
  stage                 text NOT NULL,
  status                text NOT NULL CHECK (status IN ('open', 'won', 'lost', 'withdrawn')),
  asked_cents           bigint NOT NULL CHECK (asked_cents >= 0),
  committed_cents       bigint NOT NULL DEFAULT 0 CHECK (committed_cents >= 0),  -- pledged or awarded
  received_cents        bigint NOT NULL DEFAULT 0 CHECK (received_cents >= 0),
  probability_override  integer CHECK (probability_override BETWEEN 0 AND 100),
  probability           integer NOT NULL CHECK (probability BETWEEN 0 AND 100),
  weighted_cents        bigint NOT NULL,
  expected_money_on     date,                         -- when the next money is expected
  next_payment_due_on   date,                         -- earliest money expected and not fully received
  next_report_due_on    date,                         -- earliest report owed and not submitted
  next_action           text,
  next_action_at        timestamptz,
  last_contact_at       timestamptz,
  opened_at             timestamptz NOT NULL,
  closed_at             timestamptz,
  updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pipeline_items_stage_idx ON pipeline_items (kind, stage);
CREATE INDEX pipeline_items_tutor_idx ON pipeline_items (tutor_id);

CREATE VIEW pipeline AS
SELECT p.*,
       coalesce(p.status IN ('open', 'won') AND p.next_payment_due_on < (now() AT TIME ZONE 'Europe/Paris')::date, false) AS overdue_payment,
       coalesce(p.status IN ('open', 'won') AND p.next_report_due_on < (now() AT TIME ZONE 'Europe/Paris')::date, false) AS overdue_report
FROM pipeline_items p;

-- Writes the weighted amount and effective probability once the money columns are set.
CREATE FUNCTION pipeline_weigh(item uuid) RETURNS void LANGUAGE sql AS $$
  UPDATE pipeline_items p SET
    probability = coalesce(p.probability_override,
                           (SELECT percent FROM stage_probabilities s WHERE s.kind = p.kind AND s.stage = p.stage), 0),
    weighted_cents = CASE
      WHEN p.status IN ('lost', 'withdrawn') THEN p.received_cents
      ELSE p.received_cents + round(greatest(CASE WHEN p.committed_cents > 0 THEN p.committed_cents ELSE p.asked_cents END - p.received_cents, 0)
             * coalesce(p.probability_override, (SELECT percent FROM stage_probabilities s WHERE s.kind = p.kind AND s.stage = p.stage), 0) / 100.0)::bigint
    END
  WHERE p.ref_id = item;
$$;

CREATE FUNCTION pipeline_refresh_dossier(dossier uuid) RETURNS void LANGUAGE sql AS $$
  INSERT INTO pipeline_items AS p (ref_id, kind, organisation_id, counterpart, counterpart_slug, title, owner_id, tutor_id,
                                   stage, status, asked_cents, committed_cents, received_cents, probability, weighted_cents,
                                   expected_money_on, next_payment_due_on, next_report_due_on, next_action, next_action_at,
                                   last_contact_at, opened_at, closed_at, updated_at)
  SELECT d.id, 'sponsor', o.id, o.name, o.slug, NULL, d.student_id, d.tutor_id,
         d.stage,
         CASE WHEN d.stage IN ('declined', 'opted_out', 'closed') THEN 'lost' ELSE 'open' END,
         d.amount_asked_cents, 0,
         coalesce((SELECT sum(m.amount_cents) FROM money_received m WHERE m.dossier_id = d.id), 0),
         0, 0, NULL, NULL, NULL, d.next_action, d.next_action_at,
         (SELECT greatest(max(e.sent_at), (SELECT max(ev.at) FROM events ev WHERE ev.dossier_id = d.id AND ev.kind = 'reply_recorded'))
            FROM emails e WHERE e.dossier_id = d.id AND e.status = 'sent' AND e.kind <> 'escalation'),
         d.created_at, d.closed_at, now()
  FROM dossiers d JOIN organisations o ON o.id = d.organisation_id
  WHERE d.id = dossier
  ON CONFLICT (ref_id) DO UPDATE SET
    owner_id = EXCLUDED.owner_id, tutor_id = EXCLUDED.tutor_id, stage = EXCLUDED.stage, status = EXCLUDED.status,
    asked_cents = EXCLUDED.asked_cents, received_cents = EXCLUDED.received_cents,
    next_action = EXCLUDED.next_action, next_action_at = EXCLUDED.next_action_at,
    last_contact_at = EXCLUDED.last_contact_at, closed_at = EXCLUDED.closed_at, updated_at = now();
  SELECT pipeline_weigh(dossier);
$$;

CREATE FUNCTION pipeline_refresh_application(application uuid) RETURNS void LANGUAGE sql AS $$
  WITH received AS (
    SELECT coalesce(sum(m.amount_cents), 0) AS cents, max(m.received_on) AS last_on
    FROM money_received m WHERE m.application_id = application
  ), tranches AS (
    SELECT min(t.expected_on) AS due_on
    FROM application_tranches t
    WHERE t.application_id = application
      AND t.amount_cents > coalesce((SELECT sum(m.amount_cents) FROM money_received m
                                     WHERE m.application_id = application AND m.tranche_n = t.n), 0)
  ), reports AS (
    SELECT min(r.due_on) AS due_on FROM application_reports r WHERE r.application_id = application AND r.submitted_at IS NULL
  )
  INSERT INTO pipeline_items AS p (ref_id, kind, organisation_id, counterpart, counterpart_slug, title, owner_id, tutor_id,
                                   stage, status, asked_cents, committed_cents, received_cents, probability, weighted_cents,
                                   expected_money_on, next_payment_due_on, next_report_due_on, next_action, next_action_at,
                                   last_contact_at, opened_at, closed_at, updated_at)
  SELECT a.id, 'application', o.id, o.name, o.slug, a.programme, a.student_id, a.tutor_id,
         a.stage,
         CASE WHEN a.stage IN ('awarded', 'completed') THEN 'won'
              WHEN a.stage = 'refused' THEN 'lost'
              WHEN a.stage = 'withdrawn' THEN 'withdrawn'
              ELSE 'open' END,
         a.amount_requested_cents, coalesce(a.amount_awarded_cents, 0), received.cents,
         0, 0,
         CASE WHEN a.stage IN ('refused', 'withdrawn', 'completed') THEN NULL
              WHEN a.stage = 'awarded' THEN tranches.due_on
              ELSE a.decision_expected_on END,
         CASE WHEN a.stage = 'awarded' THEN tranches.due_on END,
         CASE WHEN a.stage = 'awarded' THEN reports.due_on END,
         a.next_action, a.next_action_at,
         (SELECT max(ev.at) FROM application_events ev
           WHERE ev.application_id = a.id AND ev.kind IN ('submitted', 'decision_recorded', 'money_received', 'report_submitted')),
         a.created_at, a.closed_at, now()
  FROM applications a JOIN organisations o ON o.id = a.organisation_id, received, tranches, reports
  WHERE a.id = application
  ON CONFLICT (ref_id) DO UPDATE SET
    owner_id = EXCLUDED.owner_id, tutor_id = EXCLUDED.tutor_id, title = EXCLUDED.title,
    stage = EXCLUDED.stage, status = EXCLUDED.status,
    asked_cents = EXCLUDED.asked_cents, committed_cents = EXCLUDED.committed_cents, received_cents = EXCLUDED.received_cents,
    expected_money_on = EXCLUDED.expected_money_on, next_payment_due_on = EXCLUDED.next_payment_due_on,
    next_report_due_on = EXCLUDED.next_report_due_on, next_action = EXCLUDED.next_action, next_action_at = EXCLUDED.next_action_at,
    last_contact_at = EXCLUDED.last_contact_at, closed_at = EXCLUDED.closed_at, updated_at = now();
  SELECT pipeline_weigh(application);
$$;

-- Dossiers opened before this migration join the read model now.
SELECT pipeline_refresh_dossier(id) FROM dossiers;
