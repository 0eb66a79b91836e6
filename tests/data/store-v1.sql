-- store-v1.sql — a Bulkhead store at schema version 1, as a user would have
-- it after some use: the first-run set plus a second template, an AppVM on
-- it, a StandaloneVM, changed properties and globals, and a gap in the qids.
-- store-v1.sqlite is this file loaded by the sqlite3 tool:
--   rm -f store-v1.sqlite && sqlite3 store-v1.sqlite < store-v1.sql
-- The schema part is migration step 0 → 1 of core/qubes/store.c, verbatim;
-- test-migrate checks that they agree. Never edit this for a newer schema:
-- it stands for files already on users' disks.
PRAGMA journal_mode = WAL;
BEGIN;
CREATE TABLE qubes (
  qid INTEGER PRIMARY KEY CHECK (qid >= 0),
  name TEXT NOT NULL UNIQUE,
  class TEXT NOT NULL
);
CREATE TABLE props (
  qid INTEGER NOT NULL REFERENCES qubes(qid) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  name TEXT NOT NULL,
  value TEXT,
  ref INTEGER REFERENCES qubes(qid) DEFERRABLE INITIALLY DEFERRED,
  PRIMARY KEY (qid, name)
) WITHOUT ROWID;
CREATE INDEX props_ref ON props(ref);
CREATE TABLE globals (
  name TEXT PRIMARY KEY,
  value TEXT,
  ref INTEGER REFERENCES qubes(qid) DEFERRABLE INITIALLY DEFERRED
) WITHOUT ROWID;
PRAGMA user_version = 1;
INSERT INTO qubes(qid, name, class) VALUES
  (0, 'dom0', 'AdminVM'), (1, 'debian-12', 'TemplateVM'), (2, 'sys-net', 'AppVM'),
  (3, 'sys-firewall', 'AppVM'), (4, 'work', 'AppVM'), (5, 'personal', 'AppVM'),
  (6, 'untrusted', 'AppVM'), (7, 'vault', 'AppVM'), (8, 'default-dvm', 'AppVM'),
  (10, 'fedora-40', 'TemplateVM'), (11, 'my-app', 'AppVM'), (12, 'legacy', 'StandaloneVM');
INSERT INTO props(qid, name, value, ref) VALUES
  (0, 'label', 'black', NULL),
  (1, 'label', 'black', NULL), (1, 'root_path', '/', NULL), (1, 'root_readonly', 'True', NULL),
  (2, 'label', 'red', NULL), (2, 'template', NULL, 1), (2, 'provides_network', 'True', NULL),
  (2, 'netvm', NULL, NULL), (2, 'autostart', 'True', NULL),
  (3, 'label', 'green', NULL), (3, 'template', NULL, 1), (3, 'provides_network', 'True', NULL),
  (3, 'netvm', NULL, 2), (3, 'autostart', 'True', NULL),
  (4, 'label', 'blue', NULL), (4, 'template', NULL, 1), (4, 'memory', '2048', NULL),
  (5, 'label', 'yellow', NULL), (5, 'template', NULL, 1),
  (6, 'label', 'red', NULL), (6, 'template', NULL, 1),
  (7, 'label', 'black', NULL), (7, 'template', NULL, 1), (7, 'netvm', NULL, NULL),
  (8, 'label', 'red', NULL), (8, 'template', NULL, 1), (8, 'template_for_dispvms', 'True', NULL),
  (10, 'label', 'gray', NULL), (10, 'vcpus', '6', NULL),
  (11, 'label', 'purple', NULL), (11, 'template', NULL, 10), (11, 'netvm', NULL, 2),
  (11, 'default_dispvm', NULL, NULL), (11, 'allow_fullscreen', 'True', NULL),
  (12, 'label', 'orange', NULL), (12, 'maxmem', '0', NULL),
  (12, 'old_property_dropped_later', 'x', NULL);
INSERT INTO globals(name, value, ref) VALUES
  ('default_template', NULL, 10), ('default_netvm', NULL, 3), ('default_dispvm', NULL, 8),
  ('updatevm', NULL, 3), ('clockvm', NULL, 2), ('clipboard_max_bytes', '128000', NULL);
COMMIT;
