-- Send slots: the association's daily caps (emails per Paris day, all dossiers together, and per
-- recipient domain). Each email to a sponsor reserves a slot before it goes out; a day with no
-- room left moves the email to the next open day. Reservations are serialised (advisory lock
-- in src/activities/sending.ts), so `id` is the order in which they were asked: the queue
-- drains first come, first served.

CREATE TABLE send_slots (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- reservation order
  key         text NOT NULL,                                    -- the email's business key (retries find their slot)
  day         date NOT NULL,                                    -- Paris calendar day the slot counts against
  domain      text NOT NULL,                                    -- recipient domain, lower case
  send_at     timestamptz NOT NULL,                             -- when the email may go
  not_before  timestamptz NOT NULL,                             -- when it was due, as asked
  reserved_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT send_slots_key_unique UNIQUE (key)
);
CREATE INDEX send_slots_day_domain_idx ON send_slots (day, domain);
