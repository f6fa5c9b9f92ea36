-- Signed links for a funding application's tutor review and treasurer sign-off: each works once.
CREATE TABLE application_link_uses (
  jti             text PRIMARY KEY,
  application_id  uuid NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  milestone       text NOT NULL CHECK (milestone IN ('tutor_review', 'treasurer_signoff')),
  used_at         timestamptz NOT NULL DEFAULT now(),
  outcome         text NOT NULL CHECK (outcome IN ('approve', 'changes'))
);
CREATE INDEX application_link_uses_application_idx ON application_link_uses (application_id);
