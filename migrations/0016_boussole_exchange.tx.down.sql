DROP TABLE imported_decisions;
ALTER TABLE proposals DROP COLUMN boussole_payload;
ALTER TABLE register_versions DROP COLUMN imported_from, DROP COLUMN imported_on;
ALTER TABLE boussole_versions DROP COLUMN imported_from, DROP COLUMN imported_on;
ALTER TABLE criteria DROP COLUMN question, DROP COLUMN pillar;
