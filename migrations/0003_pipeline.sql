-- The pipeline read model stays exact under concurrent writers.
--
-- pipeline_refresh_dossier / pipeline_refresh_application (0002) compute an item from its
-- sources (the dossier or application, money_received, tranches, reports) and upsert it. Two
-- transactions writing to the same source at once (a payment recorded while the stage moves,
-- two payments of one grant) each computed the item from a snapshot missing the other's
-- uncommitted write; the upsert of the second to commit then overwrote the first with stale
-- sums (a payment disappeared from received_cents, or the stage went back).
--
-- The wrappers below lock the source row first (FOR NO KEY UPDATE: the lock an UPDATE of the
-- row takes, compatible with the key-share lock a money_received insert holds on it), then
-- compute in a new statement, whose snapshot (READ COMMITTED, volatile function) includes
-- every transaction that held the lock before. Each writer refreshes after its own write and
-- keeps the lock until it commits, so the last refresh always sees every committed write.
-- The 0002 bodies are kept as they are, renamed, so that they are defined in one place: a later
-- change to what an item holds (sponsor pledges, say) replaces pipeline_compute_dossier or
-- pipeline_compute_application; callers keep calling the pipeline_refresh_* wrappers.

ALTER FUNCTION pipeline_refresh_dossier(uuid) RENAME TO pipeline_compute_dossier;
ALTER FUNCTION pipeline_refresh_application(uuid) RENAME TO pipeline_compute_application;

CREATE FUNCTION pipeline_refresh_dossier(dossier uuid) RETURNS void LANGUAGE sql AS $$
  SELECT 1 FROM dossiers WHERE id = dossier FOR NO KEY UPDATE;
  SELECT pipeline_compute_dossier(dossier);
$$;

CREATE FUNCTION pipeline_refresh_application(application uuid) RETURNS void LANGUAGE sql AS $$
  SELECT 1 FROM applications WHERE id = application FOR NO KEY UPDATE;
  SELECT pipeline_compute_application(application);
$$;
