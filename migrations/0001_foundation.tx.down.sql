DROP TABLE IF EXISTS debates, shops, register_items, criteria, criterion_groups, boussole_versions, council_hosts, councils;
DROP TEXT SEARCH CONFIGURATION IF EXISTS fr_unaccent;
