-- Mécène foundation schema: people, organisations, contacts, dossiers and their timeline,
-- the email outbox and generated documents. Amounts are integer cents.

CREATE TABLE people (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL CHECK (length(trim(name)) > 0),
  email       text NOT NULL CHECK (email = lower(email)),
  role        text NOT NULL CHECK (role IN ('student', 'tutor', 'treasurer')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT people_email_unique UNIQUE (email)
);

CREATE TABLE organisations (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  slug        text NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
  name        text NOT NULL CHECK (length(trim(name)) > 0),
  kind        text NOT NULL CHECK (kind IN ('company', 'foundation', 'public_funder', 'association', 'other')),
  category    text,
  website     text,
  notes       text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT organisations_slug_unique UNIQUE (slug)
);

CREATE TABLE contacts (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  organisation_id  bigint NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  name             text NOT NULL,
  email            text NOT NULL CHECK (email = lower(email)),
  role             text,
  source           text NOT NULL,            -- where the address was collected (CNIL)
  opted_out_at     timestamptz,               -- objection to receiving emails: permanent
  created_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT contacts_org_email_unique UNIQUE (organisation_id, email)
);
CREATE INDEX contacts_email_idx ON contacts (email);

CREATE TABLE dossiers (
  id                  uuid PRIMARY KEY,
  organisation_id     bigint NOT NULL REFERENCES organisations(id),
  contact_id          bigint NOT NULL REFERENCES contacts(id),
  student_id          bigint NOT NULL REFERENCES people(id),
  tutor_id            bigint NOT NULL REFERENCES people(id),
  amount_asked_cents  bigint NOT NULL CHECK (amount_asked_cents > 0),
  lang                text NOT NULL DEFAULT 'fr' CHECK (lang IN ('fr', 'en')),
  stage               text NOT NULL,
  workflow_id         text NOT NULL,
  policy              jsonb NOT NULL,
  next_action         text,
  next_action_at      timestamptz,
  close_reason        text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  closed_at           timestamptz
);
-- One open dossier per sponsor, whatever happens on the Temporal side.
CREATE UNIQUE INDEX dossiers_one_open_per_sponsor ON dossiers (organisation_id) WHERE closed_at IS NULL;
CREATE INDEX dossiers_stage_idx ON dossiers (stage);

CREATE TABLE events (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  dossier_id  uuid NOT NULL REFERENCES dossiers(id) ON DELETE CASCADE,
  event_key   text NOT NULL,                 -- computed by the workflow: retries write once
  kind        text NOT NULL,
  stage       text,
  detail      jsonb NOT NULL DEFAULT '{}',
  at          timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT events_key_unique UNIQUE (event_key)
);
CREATE INDEX events_dossier_idx ON events (dossier_id, at);

CREATE TABLE documents (
  id          uuid PRIMARY KEY,
  dossier_id  uuid NOT NULL REFERENCES dossiers(id) ON DELETE CASCADE,
  kind        text NOT NULL CHECK (kind IN ('proposal')),
  version     integer NOT NULL CHECK (version > 0),
  path        text NOT NULL,
  sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  size_bytes  integer NOT NULL CHECK (size_bytes > 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT documents_version_unique UNIQUE (dossier_id, kind, version)
);

CREATE TABLE emails (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  dossier_id       uuid REFERENCES dossiers(id) ON DELETE CASCADE,
  idempotency_key  text NOT NULL,
  message_id       text NOT NULL,
  kind             text NOT NULL,
  to_address       text NOT NULL,
  reply_to         text,
  subject          text NOT NULL,
  in_reply_to      text,
  status           text NOT NULL CHECK (status IN ('sending', 'sent', 'skipped')),
  attempts         integer NOT NULL DEFAULT 0,
  sent_at          timestamptz,
  error            text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT emails_idempotency_key_unique UNIQUE (idempotency_key),
  CONSTRAINT emails_message_id_unique UNIQUE (message_id)
);
CREATE INDEX emails_dossier_idx ON emails (dossier_id, created_at);
