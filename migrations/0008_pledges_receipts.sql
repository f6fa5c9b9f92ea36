-- Sponsor pledges (promesses de don) with their instalments, the sponsorship agreement and the
-- tax receipts (Cerfa n° 16216) of sponsor payments, numbered without gaps. Payments themselves
-- go to the money_received ledger (kind 'sponsor', tranche_n = instalment number).

CREATE TABLE pledges (
  id                        uuid PRIMARY KEY,
  dossier_id                uuid NOT NULL REFERENCES dossiers(id),
  n                         integer NOT NULL CHECK (n > 0),         -- 1st, 2nd… pledge of the dossier
  idempotency_key           text NOT NULL,                          -- computed by the workflow
  amount_cents              bigint NOT NULL CHECK (amount_cents > 0),
  nature                    text NOT NULL CHECK (nature IN ('cash', 'in_kind', 'skills')),
  description               text NOT NULL,
  counterparts              text,                                   -- what the sponsor gets (logo, mentions…)
  counterparts_value_cents  bigint CHECK (counterparts_value_cents >= 0),
  -- The company's legal identity as the agreement and receipts name it (legalName, legalForm,
  -- siren, address[], representative {name, title}); every field optional.
  donor                     jsonb NOT NULL DEFAULT '{}',
  ends_on                   date,                                   -- end of the agreement
  recorded_by               text NOT NULL,
  created_at                timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT pledges_key_unique UNIQUE (idempotency_key),
  CONSTRAINT pledges_n_unique UNIQUE (dossier_id, n),
  CONSTRAINT pledges_id_dossier_unique UNIQUE (id, dossier_id),
  -- Counterparts must stay in "disproportion marquée" with the gift: at most 25 % of it.
  CONSTRAINT pledges_counterparts_cap CHECK (counterparts_value_cents IS NULL OR counterparts_value_cents * 4 <= amount_cents)
);

-- Instalments are numbered across the dossier (not per pledge), so that money_received.tranche_n
-- names one instalment. That they add up to their pledge is checked by the activity, in the
-- transaction that writes them.
CREATE TABLE pledge_instalments (
  pledge_id     uuid NOT NULL,
  dossier_id    uuid NOT NULL,
  n             integer NOT NULL CHECK (n > 0),
  expected_on   date NOT NULL,
  amount_cents  bigint NOT NULL CHECK (amount_cents > 0),
  PRIMARY KEY (pledge_id, n),
  CONSTRAINT pledge_instalments_n_unique UNIQUE (dossier_id, n),
  FOREIGN KEY (pledge_id, dossier_id) REFERENCES pledges (id, dossier_id) ON DELETE CASCADE
);

-- One receipt per payment, numbered per calendar year of issue without gaps: the number comes
-- from receipt_counters, incremented (row lock) in the transaction that writes the receipt, so a
-- rollback gives the number back. Never a sequence: sequences leave gaps on rollback.
-- Receipts are accounting records: no cascade from the dossier.
CREATE TABLE receipt_counters (
  year         integer PRIMARY KEY CHECK (year BETWEEN 2000 AND 9999),
  last_number  integer NOT NULL CHECK (last_number >= 0)
);

CREATE TABLE receipts (
  id                 uuid PRIMARY KEY,
  dossier_id         uuid NOT NULL REFERENCES dossiers(id),
  money_received_id  bigint NOT NULL REFERENCES money_received(id),
  year               integer NOT NULL,
  number             integer NOT NULL CHECK (number BETWEEN 1 AND 99999),
  amount_cents       bigint NOT NULL CHECK (amount_cents > 0),
  nature             text NOT NULL CHECK (nature IN ('cash', 'in_kind', 'skills')),
  method             text NOT NULL CHECK (method IN ('transfer', 'cheque', 'cash', 'in_kind')),
  form               text NOT NULL CHECK (form IN ('authentic_deed', 'private_deed', 'manual_gift', 'other')),
  description        text,                                          -- what an in-kind or skills gift was
  received_on        date NOT NULL,
  issued_on          date NOT NULL,
  donor              jsonb NOT NULL,                                -- the donor as printed, at issue
  document_id        uuid REFERENCES documents(id),                 -- the PDF, once rendered
  created_at         timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT receipts_payment_unique UNIQUE (money_received_id),
  CONSTRAINT receipts_number_unique UNIQUE (year, number),
  CONSTRAINT receipts_year_of_issue CHECK (year = extract(year FROM issued_on))
);
CREATE INDEX receipts_dossier_idx ON receipts (dossier_id);

ALTER TABLE documents DROP CONSTRAINT IF EXISTS documents_kind_check;
ALTER TABLE documents ADD CONSTRAINT documents_kind_check CHECK (kind IN ('proposal', 'convention', 'receipt'));

-- Default probabilities of the relationship's stages.
INSERT INTO stage_probabilities (kind, stage, percent) VALUES
  ('sponsor', 'pledged', 90), ('sponsor', 'won', 100), ('sponsor', 'callback', 15), ('sponsor', 'paused', 5),
  ('sponsor', 'withdrawn', 0), ('sponsor', 'lost', 0), ('sponsor', 'validation', 5), ('sponsor', 'changes_requested', 5)
ON CONFLICT (kind, stage) DO NOTHING;

-- The sponsor side of the pipeline read model now knows pledges. 0003 kept the 0002 body as
-- pipeline_compute_dossier behind the locking wrapper pipeline_refresh_dossier; only the body
-- changes here, the wrapper (and its lock) stays. Differences from 0002:
--   committed_cents     = the dossier's pledges;
--   expected_money_on   = next_payment_due_on = the earliest instalment not fully paid, NULL once
--                         the dossier is lost, withdrawn or closed;
--   status              = 'won' in stage won, 'withdrawn' in stage withdrawn, 'lost' in stage lost
--                         (and, as before, declined, opted_out, closed).
-- Which instalments are paid: money tagged with an instalment (tranche_n) pays it, up to its
-- amount; the rest (untagged money, or more than an instalment's amount) pays the earliest
-- instalments still open, in date order. A lump sum therefore settles the instalments it covers.
-- Everything else is as in 0002.
DO $$
BEGIN
  IF position('pipeline_compute_dossier' IN pg_get_functiondef('pipeline_refresh_dossier(uuid)'::regprocedure)) = 0 THEN
    RAISE EXCEPTION '0008 expects 0003: pipeline_refresh_dossier must wrap pipeline_compute_dossier';
  END IF;
END $$;
CREATE OR REPLACE FUNCTION pipeline_compute_dossier(dossier uuid) RETURNS void LANGUAGE sql AS $$
  WITH received AS (
    SELECT coalesce(sum(m.amount_cents), 0) AS cents FROM money_received m WHERE m.dossier_id = dossier
  ), pledged AS (
    SELECT coalesce(sum(p.amount_cents), 0) AS cents FROM pledges p WHERE p.dossier_id = dossier
  ), instalments AS (
    SELECT i.n, i.expected_on, i.amount_cents,
           least(i.amount_cents, coalesce((SELECT sum(m.amount_cents) FROM money_received m
                                           WHERE m.dossier_id = dossier AND m.tranche_n = i.n), 0)) AS direct
    FROM pledge_instalments i WHERE i.dossier_id = dossier
  ), gaps AS (
    SELECT expected_on, amount_cents - direct AS gap,
           sum(amount_cents - direct) OVER (ORDER BY expected_on, n) AS gap_running
    FROM instalments
  ), due AS (
    SELECT min(g.expected_on) AS on_day
    FROM gaps g, received r, (SELECT coalesce(sum(direct), 0) AS cents FROM instalments) d
    WHERE g.gap > 0 AND g.gap_running > r.cents - d.cents
  )
  INSERT INTO pipeline_items AS p (ref_id, kind, organisation_id, counterpart, counterpart_slug, title, owner_id, tutor_id,
                                   stage, status, asked_cents, committed_cents, received_cents, probability, weighted_cents,
                                   expected_money_on, next_payment_due_on, next_report_due_on, next_action, next_action_at,
                                   last_contact_at, opened_at, closed_at, updated_at)
  SELECT d.id, 'sponsor', o.id, o.name, o.slug, NULL, d.student_id, d.tutor_id,
         d.stage,
         CASE WHEN d.stage = 'won' THEN 'won'
              WHEN d.stage = 'withdrawn' THEN 'withdrawn'
              WHEN d.stage IN ('declined', 'opted_out', 'closed', 'lost') THEN 'lost'
              ELSE 'open' END,
         d.amount_asked_cents, pledged.cents, received.cents,
         0, 0,
         CASE WHEN d.stage IN ('declined', 'opted_out', 'closed', 'lost', 'withdrawn') THEN NULL ELSE due.on_day END,
         CASE WHEN d.stage IN ('declined', 'opted_out', 'closed', 'lost', 'withdrawn') THEN NULL ELSE due.on_day END,
         NULL, d.next_action, d.next_action_at,
         (SELECT greatest(max(e.sent_at), (SELECT max(ev.at) FROM events ev WHERE ev.dossier_id = d.id AND ev.kind = 'reply_recorded'))
            FROM emails e WHERE e.dossier_id = d.id AND e.status = 'sent' AND e.kind <> 'escalation'),
         d.created_at, d.closed_at, now()
  FROM dossiers d JOIN organisations o ON o.id = d.organisation_id, received, pledged, due
  WHERE d.id = dossier
  ON CONFLICT (ref_id) DO UPDATE SET
    owner_id = EXCLUDED.owner_id, tutor_id = EXCLUDED.tutor_id, stage = EXCLUDED.stage, status = EXCLUDED.status,
    asked_cents = EXCLUDED.asked_cents, committed_cents = EXCLUDED.committed_cents, received_cents = EXCLUDED.received_cents,
    expected_money_on = EXCLUDED.expected_money_on, next_payment_due_on = EXCLUDED.next_payment_due_on,
    next_action = EXCLUDED.next_action, next_action_at = EXCLUDED.next_action_at,
    last_contact_at = EXCLUDED.last_contact_at, closed_at = EXCLUDED.closed_at, updated_at = now();
  SELECT pipeline_weigh(dossier);
$$;
