-- The whole sponsor relationship: several contacts per dossier, meetings, pause, and a dossier
-- reopened later on the same sponsor linked to the previous one.

CREATE TABLE dossier_contacts (
  dossier_id  uuid NOT NULL REFERENCES dossiers(id) ON DELETE CASCADE,
  contact_id  bigint NOT NULL REFERENCES contacts(id),
  position    integer NOT NULL,
  PRIMARY KEY (dossier_id, contact_id)
);

ALTER TABLE dossiers ADD COLUMN previous_dossier_id uuid REFERENCES dossiers(id);
ALTER TABLE dossiers ADD COLUMN paused_at timestamptz;
ALTER TABLE dossiers ADD COLUMN paused_reason text;

CREATE TABLE meetings (
  dossier_id      uuid NOT NULL REFERENCES dossiers(id) ON DELETE CASCADE,
  n               integer NOT NULL CHECK (n > 0),
  starts_at       timestamptz NOT NULL,
  duration_min    integer NOT NULL CHECK (duration_min > 0),
  place           text,
  video_url       text,
  result_summary  text,
  next_step       text,
  next_step_due   timestamptz,
  result_at       timestamptz,
  result_by       text,
  PRIMARY KEY (dossier_id, n),
  CONSTRAINT meetings_where CHECK (place IS NOT NULL OR video_url IS NOT NULL)
);
CREATE INDEX meetings_starts_idx ON meetings (starts_at);

INSERT INTO stage_probabilities (kind, stage, percent) VALUES
  ('sponsor', 'validation', 5), ('sponsor', 'changes_requested', 5), ('sponsor', 'approved', 10)
ON CONFLICT (kind, stage) DO NOTHING;
