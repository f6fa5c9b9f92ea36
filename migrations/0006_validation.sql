-- Tutor validation of a sponsor dossier's proposal, before anything leaves: one request per
-- proposal version, decided once through a signed link (approve, or request changes).

CREATE TABLE validation_requests (
  dossier_id     uuid NOT NULL REFERENCES dossiers(id) ON DELETE CASCADE,
  version        integer NOT NULL CHECK (version > 0),             -- the proposal version to approve
  document_id    uuid NOT NULL REFERENCES documents(id),           -- that version's PDF
  tutor_id       bigint NOT NULL REFERENCES people(id),            -- who was asked
  requested_at   timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz NOT NULL,                             -- the links' expiry
  -- The first email exactly as it will be sent, as the tutor was shown it.
  email_to       text NOT NULL,
  email_subject  text NOT NULL,
  email_text     text NOT NULL,
  decided_at     timestamptz,
  decision       text CHECK (decision IN ('approve', 'changes')),
  comment        text,
  decided_by     text,                                             -- the address the link was sent to
  PRIMARY KEY (dossier_id, version),
  CONSTRAINT validation_requests_decided CHECK ((decided_at IS NULL) = (decision IS NULL)),
  CONSTRAINT validation_requests_changes_comment CHECK (decision IS DISTINCT FROM 'changes' OR length(trim(comment)) > 0)
);

-- A link works once: its random id (jti) is inserted when it is used; a conflict means reused.
CREATE TABLE link_uses (
  jti         text PRIMARY KEY,
  dossier_id  uuid NOT NULL REFERENCES dossiers(id) ON DELETE CASCADE,
  used_at     timestamptz NOT NULL DEFAULT now(),
  outcome     text NOT NULL CHECK (outcome IN ('approve', 'changes'))
);
CREATE INDEX link_uses_dossier_idx ON link_uses (dossier_id);
