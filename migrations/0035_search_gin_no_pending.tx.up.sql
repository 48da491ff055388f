-- Search (issue 22, point 3): the arguments' GIN index stops keeping a pending
-- list. With fastupdate (the default) new entries wait in an unsorted list
-- that every search reads in full until a vacuum merges them: 2,000 pending
-- arguments (5 % of scale 0.2's) added about 1 ms of PostgreSQL CPU to each
-- search, and autovacuum merges them only after thousands of inserts. An
-- argument is written once and read by many searches: its entries now go
-- straight into the index, at a little more cost per insert.
ALTER INDEX arguments_search SET (fastupdate = off);
SELECT gin_clean_pending_list('arguments_search'::regclass);
