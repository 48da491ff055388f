ALTER INDEX arguments_search RESET (fastupdate);
